"""A `tiny` preset trial that also scores an exponential moving average (EMA) of the generators.

Why: the tiny run's G(A) gets noisier epoch after epoch while the learning rate is high
(`benchmarks/results/tiny_trials.md`); averaging the generators' weights over the last ~100
steps (as StyleGAN's G_ema does) cancels part of what the adversarial game moves back and forth.
This script trains the preset as `cyclegan-tf train --preset tiny --eval-every 1` does (the live
weights' scores go to the run's `losses.csv`) and writes, after every epoch, the paired scores of
the averaged weights to `<run>.ema.jsonl`. The live weights are what the run saves; the average
is only measured.

    python benchmarks/tiny_ema_trial.py runs/tiny-ema --decay 0.99 [--set lambda_a=2]
        [--smooth-photos] [--resize-upsampling]

`--smooth-photos` renders domain A without its fine background texture and sensor noise (a test
of whether that texture is what G(A)'s noise hides; the embedded data itself is unchanged).
`--resize-upsampling` replaces the ResNet generator's transposed convolutions by nearest-neighbour
resizing and a 3x3 convolution (Odena et al., 2016: no checkerboard by construction), in this
process only.
"""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cyclegan_tf import training
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.evaluation.callback import TranslationMetrics


class GeneratorEMA(keras.callbacks.Callback):
    """Keeps an EMA of both generators' weights and scores it on the test pairs each epoch."""

    def __init__(self, decay: float, out: Path):
        super().__init__()
        self.decay, self.out = decay, out
        self.images_a = self.images_b = None

    def on_train_begin(self, logs=None):
        gens = (self.model.generator_ab, self.model.generator_ba)
        self.weights = [v for g in gens for v in g.weights]
        self.shadow = [tf.Variable(v.value, trainable=False) for v in self.weights]
        decay = self.decay

        @tf.function
        def update():
            for shadow, weight in zip(self.shadow, self.weights, strict=True):
                shadow.assign(decay * shadow + (1 - decay) * weight.value)

        self.update = update

    def on_train_batch_end(self, batch, logs=None):
        self.update()

    def on_epoch_end(self, epoch, logs=None):
        live = [v.numpy() for v in self.weights]
        for shadow, weight in zip(self.shadow, self.weights, strict=True):
            weight.assign(shadow)
        metrics = TranslationMetrics(self.images_a, self.images_b)
        metrics.set_model(self.model)
        values = metrics.measure()
        for value, weight in zip(live, self.weights, strict=True):
            weight.assign(value)
        print(f"EMA epoch {epoch + 1}: {json.dumps(values)}", flush=True)
        with self.out.open("a") as f:
            f.write(json.dumps({"epoch": epoch, **values}) + "\n")


def smooth_photos() -> None:
    """Domain A without its fine background texture and sensor noise (this process only)."""
    from cyclegan_tf.data import synthetic

    source = inspect.getsource(synthetic.render_photo)
    for line in (
        "image = image + rng.normal(0, 10, (size, size, 1)).astype(np.float32)",
        "image += rng.normal(0, 4, image.shape).astype(np.float32)  # sensor noise",
    ):
        if line not in source:
            raise RuntimeError(f"render_photo changed; cannot remove {line!r}")
        source = source.replace(line, "pass")
    exec(source, synthetic.__dict__)  # noqa: S102 - a trial-only patch of our own module


def resize_upsampling() -> None:
    """The ResNet generator upsamples by resize + conv, not a transposed conv (this process)."""
    from cyclegan_tf.networks import resnet

    def upsample(x, filters, make, name):
        x = keras.layers.UpSampling2D(2, name=f"{name}_resize", dtype=make.dtype)(x)
        x = resnet.ReflectionPadding2D(1, name=f"{name}_pad", dtype=make.dtype)(x)
        return make.conv(filters, 3, name=f"{name}_conv")(x)

    resnet._upsample = upsample


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="run folder (new)")
    parser.add_argument("--decay", type=float, default=0.99)
    parser.add_argument("--set", action="append", default=[], help="config override KEY=JSON")
    parser.add_argument("--smooth-photos", action="store_true")
    parser.add_argument("--resize-upsampling", action="store_true")
    args = parser.parse_args(argv)
    if args.smooth_photos:
        smooth_photos()
    if args.resize_upsampling:
        resize_upsampling()
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    config = CycleGANConfig.preset("tiny", **overrides)
    ema = GeneratorEMA(args.decay, Path(args.run + ".ema.jsonl"))
    make_callbacks = training.run_callbacks

    def with_test_pairs(run_dir, config, images_a, images_b, *rest, **kwargs):
        ema.images_a, ema.images_b = np.asarray(images_a), np.asarray(images_b)
        return make_callbacks(run_dir, config, images_a, images_b, *rest, **kwargs)

    training.run_callbacks = with_test_pairs
    training.train_run(config, args.run, extra_callbacks=[ema], eval_every=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
