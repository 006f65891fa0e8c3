"""The `CycleGAN` Keras model: four networks, two image pools, and a `train_step` that reads like
the paper's objective (Zhu et al., 2017, eq. 3 plus the identity loss of section 5.2).

Options beyond the paper, each off by default (issue 16's experiments): the original WGAN critic
(`gan_mode="wgan"`: weight clipping, RMSprop, n_critic critic updates on their own batches per
generator update), an embedding discriminator on the generators' encoder outputs
(`lambda_embedding`, XGAN), and noisy discriminator targets (`fake_label_noise`,
`real_label_noise`). `generator_ema` keeps a moving average of the generators' weights
(`weight_average.py`) that the run's callbacks save, sample and score.

Example:
    model = CycleGAN(CycleGANConfig.preset("tiny"))
    model.compile()
    model.fit(unpaired_dataset, epochs=model.config.total_epochs, callbacks=[LinearDecay()])
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf
from keras import ops

from cyclegan_tf import losses
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.distribute import is_multi_worker
from cyclegan_tf.image_pool import ImagePool
from cyclegan_tf.networks import (
    build_embedding_discriminator,
    discriminators_from_config,
    generators_from_config,
    with_encoder_output,
)
from cyclegan_tf.networks.common import LayerFactory
from cyclegan_tf.precision import resolve_precision
from cyclegan_tf.weight_average import WeightAverage


def make_optimizer(config: CycleGANConfig, role: str) -> keras.optimizers.Optimizer:
    """Adam as in the paper (lr 2e-4, beta_1 0.5), or RMSprop at `wgan_lr` for the original WGAN
    (its paper's choice: momentum destabilises a clipped critic); wrapped for loss scaling under
    float16. `role` is "generator" or "discriminator".

    Adam's epsilon 1e-8 is PyTorch's default, which the official code uses (Keras' is 1e-7): with
    it, one step moves 99.97% of the weights as the reference does, within 1% of the learning
    rate (`benchmarks/parity_with_reference.py`; 99.75% with 1e-7).
    """
    if config.gan_mode == "wgan":
        optimizer = keras.optimizers.RMSprop(learning_rate=config.wgan_lr, name=f"{role}_rmsprop")
    else:
        optimizer = keras.optimizers.Adam(
            learning_rate=config.lr,
            beta_1=config.beta_1,
            beta_2=config.beta_2,
            epsilon=1e-8,
            name=f"{role}_adam",
        )
    name = optimizer.name
    if resolve_precision(config.precision) == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
    return optimizer


class CycleGAN(keras.Model):
    """Unpaired image-to-image translation between domains A and B.

    G = `generator_ab` (A->B), F = `generator_ba` (B->A), D_A judges A, D_B judges B.
    `fit` expects batches `(real_a, real_b)` of images in [-1, 1]; `call(x)` translates A->B.
    """

    def __init__(self, config: CycleGANConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config or CycleGANConfig()
        self.precision = resolve_precision(self.config.precision)  # 'auto' -> this machine's
        dtype = None if self.precision == "float32" else self.precision
        self.generator_ab, self.generator_ba = generators_from_config(self.config, dtype)
        self.discriminator_a, self.discriminator_b = discriminators_from_config(self.config, dtype)
        self.embedding = self.config.lambda_embedding > 0
        if self.embedding:  # only then: no extra variable in a plain CycleGAN
            self.coded_ab = with_encoder_output(self.generator_ab, self.config.generator)
            self.coded_ba = with_encoder_output(self.generator_ba, self.config.generator)
            make = LayerFactory(
                self.config.norm, self.config.init_type, self.config.init_gain, dtype
            )
            self.discriminator_embedding = build_embedding_discriminator(
                self.coded_ab.outputs[1].shape[-1], self.config.ndf, make
            )
        self.generator_average = None
        if self.config.generator_ema > 0:  # only then: no extra variable otherwise
            self.generator_average = WeightAverage(
                self.generator_variables, self.config.generator_ema, name="generator_average"
            )
        image_shape = (self.config.crop_size, self.config.crop_size, self.config.channels)
        self.pool_a = ImagePool(self.config.pool_size, image_shape, name="fake_a_pool")
        self.pool_b = ImagePool(self.config.pool_size, image_shape, name="fake_b_pool")
        names = ["G", "F", "D_A", "D_B", "cycle"]
        if self.config.lambda_identity > 0:
            names.append("identity")
        if self.config.lambda_tv > 0:
            names.append("tv")
        if self.embedding:
            names += ["D_E", "E"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True

    # -- Keras plumbing -----------------------------------------------------------------------
    def compile(self, gen_optimizer=None, disc_optimizer=None, **kwargs):
        """Adam for both generators and for both discriminators unless others are given."""
        self.gen_optimizer = gen_optimizer or make_optimizer(self.config, "generator")
        self.disc_optimizer = disc_optimizer or make_optimizer(self.config, "discriminator")
        super().compile(optimizer=self.gen_optimizer, **kwargs)
        # Build optimizer slots now, so a checkpoint can restore them before the first step.
        self.gen_optimizer.build(self.generator_variables)
        self.disc_optimizer.build(self.discriminator_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skip Keras' symbolic build when there is nothing left to build.

        Every network is built in `__init__` and both optimizers in `compile`. Keras 3.15's
        version first takes a cross-replica mean of the first batch, which fails for our
        `(real_a, real_b)` batches under `MultiWorkerMirroredStrategy` ("Attempt to convert a
        value (PerReplica...)"), so multi-worker `fit` needs this.
        """
        built = all(layer.built for layer in self._flatten_layers())
        optimizers = (getattr(self, "gen_optimizer", None), getattr(self, "disc_optimizer", None))
        if built and all(o is not None and o.built for o in optimizers):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    @property
    def generator_variables(self) -> list:
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    @property
    def critic_variables(self) -> list:
        """The image discriminators' variables (what WGAN clips)."""
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        extra = self.discriminator_embedding.trainable_variables if self.embedding else []
        return self.critic_variables + extra

    def averaged_generators(self) -> contextlib.AbstractContextManager:
        """Inside the block G and F hold their weight average (`generator_ema`), when there is
        one: what the run saves, samples and scores. Training goes on with the live weights."""
        if self.generator_average is None:
            return contextlib.nullcontext()
        return self.generator_average.swapped_in(self.generator_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training: bool = False):
        return self.generator_ab(inputs, training=training)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        values = dict(config)
        return cls(CycleGANConfig.from_dict(values.pop("config")), **values)

    # -- the objective ------------------------------------------------------------------------
    def _per_replica_mean(self, per_example):
        """Sum over this replica's examples divided by the global batch: replica sums add up."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        global_batch = ops.cast(ops.shape(per_example)[0] * replicas, "float32")
        return ops.sum(per_example) / global_batch

    def _translate_with_codes(self, real_a, real_b, training: bool):
        """G(A) and F(B), and with the embedding discriminator on, their encoder outputs."""
        if not self.embedding:
            fake_b = self.generator_ab(real_a, training=training)
            return fake_b, self.generator_ba(real_b, training=training), None, None
        fake_b, code_a = self.coded_ab(real_a, training=training)
        fake_a, code_b = self.coded_ba(real_b, training=training)
        return fake_b, fake_a, code_a, code_b

    def _generator_losses(self, real_a, real_b, training: bool):
        c = self.config
        fake_b, fake_a, code_a, code_b = self._translate_with_codes(real_a, real_b, training)
        reconstructed_a = self.generator_ba(fake_b, training=training)
        reconstructed_b = self.generator_ab(fake_a, training=training)
        terms = {
            "G": losses.generator_gan_loss(
                c.gan_mode, self.discriminator_b(fake_b, training=training)
            ),
            "F": losses.generator_gan_loss(
                c.gan_mode, self.discriminator_a(fake_a, training=training)
            ),
            "cycle_a": losses.cycle_consistency_loss(real_a, reconstructed_a),
            "cycle_b": losses.cycle_consistency_loss(real_b, reconstructed_b),
        }
        total = (
            c.lambda_gan * (terms["G"] + terms["F"])
            + c.lambda_a * terms["cycle_a"]
            + c.lambda_b * terms["cycle_b"]
        )
        if c.lambda_identity > 0:
            # G should leave an image of B alone (weighted by lambda_B), F an image of A.
            terms["identity_b"] = losses.identity_loss(
                real_b, self.generator_ab(real_b, training=training)
            )
            terms["identity_a"] = losses.identity_loss(
                real_a, self.generator_ba(real_a, training=training)
            )
            total += c.lambda_identity * (
                c.lambda_b * terms["identity_b"] + c.lambda_a * terms["identity_a"]
            )
        if c.lambda_tv > 0:
            terms["tv"] = losses.total_variation_loss(fake_b)
            total += c.lambda_tv * terms["tv"]
        if self.embedding:
            terms["D_E"], terms["E"] = losses.embedding_losses(
                self.discriminator_embedding(code_a, training=training),
                self.discriminator_embedding(code_b, training=training),
            )
            total += c.lambda_embedding * terms["E"]
            terms["code_a"], terms["code_b"] = code_a, code_b
        return total, terms, fake_a, fake_b

    def _discriminator_loss(self, discriminator, real, fake, training: bool):
        c = self.config
        real_logits = discriminator(real, training=training)
        fake_logits = discriminator(fake, training=training)
        real_target, fake_target = 1.0, 0.0
        if training and c.real_label_noise > 0:
            real_target = losses.noisy_targets(real_logits, 1.0 - c.real_label_noise, 1.0)
        if training and c.fake_label_noise > 0:
            fake_target = losses.noisy_targets(fake_logits, 0.0, c.fake_label_noise)
        per_example = losses.discriminator_gan_loss(
            c.gan_mode, real_logits, fake_logits, real_target, fake_target
        )
        if c.gan_mode == "wgan-gp":
            per_example += c.lambda_gp * self._gradient_penalty(discriminator, real, fake)
        return per_example

    def _gradient_penalty(self, discriminator, real, fake):
        real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
        alpha = tf.random.uniform((ops.shape(real)[0], 1, 1, 1))
        interpolated = alpha * real + (1.0 - alpha) * fake
        with tf.GradientTape() as tape:
            tape.watch(interpolated)
            score = ops.sum(discriminator(interpolated, training=True))
        return losses.gradient_penalty_from_gradients(tape.gradient(score, interpolated))

    def _log(self, terms: dict) -> dict:
        self.trackers["G"].update_state(ops.mean(terms["G"]))
        self.trackers["F"].update_state(ops.mean(terms["F"]))
        self.trackers["D_A"].update_state(ops.mean(terms["D_A"]))
        self.trackers["D_B"].update_state(ops.mean(terms["D_B"]))
        self.trackers["cycle"].update_state(ops.mean(terms["cycle_a"] + terms["cycle_b"]))
        if "identity" in self.trackers:
            self.trackers["identity"].update_state(
                ops.mean(terms["identity_a"] + terms["identity_b"])
            )
        if "tv" in self.trackers:
            self.trackers["tv"].update_state(ops.mean(terms["tv"]))
        if self.embedding:
            self.trackers["D_E"].update_state(ops.mean(terms["D_E"]))
            self.trackers["E"].update_state(ops.mean(terms["E"]))
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if is_multi_worker(tf.distribute.get_strategy()):
            # Keras 3.15 averages step outputs across workers over axis 0, which needs one.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    # -- training and evaluation --------------------------------------------------------------
    def train_step(self, data):
        real_a, real_b = data
        if self.config.critic_updates > 1:
            return self._critic_first_step(real_a, real_b)
        # 1. Generators: fool the discriminators, and come back to where they started.
        terms, fake_a, fake_b, codes = self._generator_update(real_a, real_b)
        # 2. Discriminators: real images against a history of generated ones.
        terms.update(self._discriminator_update(real_a, real_b, fake_a, fake_b, codes))
        return self._log(terms)

    def _critic_first_step(self, real_a, real_b):
        """WGAN: n_critic critic updates, each on its own slice of the step's batch (the data
        gives n_critic x batch_size images per domain), then one generator update on the last."""
        n = self.config.critic_updates
        slices = list(zip(ops.split(real_a, n), ops.split(real_b, n), strict=True))
        critic_terms = []
        for a, b in slices:
            fake_b, fake_a, code_a, code_b = self._translate_with_codes(a, b, True)
            codes = None if code_a is None else (code_a, code_b)
            critic_terms.append(self._discriminator_update(a, b, fake_a, fake_b, codes))
        terms, _, _, _ = self._generator_update(*slices[-1])
        for name in critic_terms[0]:
            terms[name] = ops.concatenate([t[name] for t in critic_terms])
        return self._log(terms)

    def _generator_update(self, real_a, real_b):
        with tf.GradientTape() as tape:
            gen_total, terms, fake_a, fake_b = self._generator_losses(real_a, real_b, True)
            gen_loss = self.gen_optimizer.scale_loss(self._per_replica_mean(gen_total))
        gradients = tape.gradient(gen_loss, self.generator_variables)
        self.gen_optimizer.apply_gradients(zip(gradients, self.generator_variables, strict=True))
        if self.generator_average is not None:
            self.generator_average.update(self.generator_variables)
        codes = None
        if self.embedding:  # what the embedding discriminator learns from (no gradient to G)
            codes = tuple(ops.stop_gradient(terms.pop(k)) for k in ("code_a", "code_b"))
        return terms, fake_a, fake_b, codes

    def _discriminator_update(self, real_a, real_b, fake_a, fake_b, codes) -> dict:
        if self.config.lambda_gan > 0:
            fake_a = self.pool_a(ops.stop_gradient(fake_a))
            fake_b = self.pool_b(ops.stop_gradient(fake_b))
        terms = {}
        with tf.GradientTape() as tape:
            terms["D_A"] = self._discriminator_loss(self.discriminator_a, real_a, fake_a, True)
            terms["D_B"] = self._discriminator_loss(self.discriminator_b, real_b, fake_b, True)
            per_example = terms["D_A"] + terms["D_B"]
            if codes is not None:
                terms["D_E"], _ = losses.embedding_losses(
                    self.discriminator_embedding(codes[0], training=True),
                    self.discriminator_embedding(codes[1], training=True),
                )
                per_example += terms["D_E"]
            disc_loss = self.disc_optimizer.scale_loss(self._per_replica_mean(per_example))
        # Without adversarial terms (lambda_gan 0) the image discriminators have nothing to learn.
        variables = self.discriminator_variables if self.config.lambda_gan > 0 else []
        if codes is not None and self.config.lambda_gan == 0:
            variables = self.discriminator_embedding.trainable_variables
        if variables:
            gradients = tape.gradient(disc_loss, variables)
            self.disc_optimizer.apply_gradients(zip(gradients, variables, strict=True))
        if self.config.gan_mode == "wgan":
            clip = self.config.wgan_clip
            for variable in self.critic_variables:
                variable.assign(ops.clip(variable, -clip, clip))
        return terms

    def test_step(self, data):
        real_a, real_b = data
        _, terms, fake_a, fake_b = self._generator_losses(real_a, real_b, False)
        terms["D_A"] = self._discriminator_loss(self.discriminator_a, real_a, fake_a, False)
        terms["D_B"] = self._discriminator_loss(self.discriminator_b, real_b, fake_b, False)
        return self._log(terms)
