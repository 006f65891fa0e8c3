"""An exponential moving average (EMA) of the generators' weights, for what a run saves and shows.

Why: a GAN's generator moves back and forth as it chases its discriminator, and the output at
any one step carries that motion (on the embedded data: noise that swings by +-0.1 SSIM between
epochs). The average of the last ~1/(1 - decay) steps cancels much of it, as StyleGAN's G_ema
and Yazici et al. (2019) do. Training keeps updating the live weights; the run's samples,
metrics and saved generators use the average (`benchmarks/results/tiny_trials.md`, S6d-S6g).

The average starts at zero and is divided by 1 - decay^steps (Adam's bias correction), so it is
a true weighted mean of the weights seen so far from the first step on, not a blend with the
random initial weights.

Example:
    average = WeightAverage(model.generator_variables, decay=0.99)
    average.update(model.generator_variables)  # after each generator step
    with average.swapped_in(model.generator_variables):
        save_generator(model.generator_ab, ...)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import keras
from keras import ops


class WeightAverage(keras.layers.Layer):
    """Holds the running sums; the averaged variables are passed in, not tracked here (they
    belong to the generators, and tracking them twice would save them twice)."""

    def __init__(self, variables: Sequence, decay: float, **kwargs):
        super().__init__(trainable=False, **kwargs)
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        # only_first_replica: every replica holds the same generator weights after a step
        self.sums = [
            self.add_weight(
                shape=tuple(v.shape),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name=f"average_{i}",
            )
            for i, v in enumerate(variables)
        ]
        self.steps = self.add_weight(
            shape=(),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
            name="steps",
        )
        self.built = True  # nothing to build: Keras must not try a symbolic build of it

    def update(self, variables: Sequence) -> None:
        """Fold the variables' current values into the average (one training step)."""
        self._check(variables)
        for total, variable in zip(self.sums, variables, strict=True):
            value = ops.cast(variable, total.dtype)
            total.assign(self.decay * total + (1.0 - self.decay) * value)
        self.steps.assign_add(1.0)

    def averages(self) -> list:
        """The bias-corrected averages, in the order of the variables given at construction."""
        correction = 1.0 - ops.power(self.decay, self.steps)
        return [total / correction for total in self.sums]

    @contextlib.contextmanager
    def swapped_in(self, variables: Sequence) -> Iterator[None]:
        """Inside the block the variables hold their averages; their live values come back after
        (also on an error). Before the first update there is no average: nothing changes."""
        self._check(variables)
        if float(ops.convert_to_numpy(self.steps)) == 0:
            yield
            return
        live = [ops.copy(v.value) for v in variables]
        for variable, average in zip(variables, self.averages(), strict=True):
            variable.assign(ops.cast(average, variable.dtype))
        try:
            yield
        finally:
            for variable, value in zip(variables, live, strict=True):
                variable.assign(value)

    def _check(self, variables: Sequence) -> None:
        shapes = [tuple(v.shape) for v in variables]
        if shapes != [tuple(s.shape) for s in self.sums]:
            raise ValueError(
                f"the average was made for {len(self.sums)} variables of other shapes than the "
                f"{len(shapes)} given"
            )
