"""The `CycleGAN` Keras model: four networks, two image pools, and a `train_step` that reads like
the paper's objective (Zhu et al., 2017, eq. 3 plus the identity loss of section 5.2).

Example:
    model = CycleGAN(CycleGANConfig.preset("tiny"))
    model.compile()
    model.fit(unpaired_dataset, epochs=model.config.total_epochs, callbacks=[LinearDecay()])
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from cyclegan_tf import losses
from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.distribute import is_multi_worker
from cyclegan_tf.image_pool import ImagePool
from cyclegan_tf.networks import discriminators_from_config, generators_from_config
from cyclegan_tf.precision import resolve_precision


def make_adam(config: CycleGANConfig, name: str) -> keras.optimizers.Optimizer:
    """Adam as in the paper (lr 2e-4, beta_1 0.5), wrapped for loss scaling under float16.

    epsilon 1e-8 is PyTorch's default, which the official code uses (Keras' is 1e-7): with it, one
    step moves 99.97% of the weights as the reference does, within 1% of the learning rate
    (`benchmarks/parity_with_reference.py`; 99.75% with 1e-7).
    """
    optimizer = keras.optimizers.Adam(
        learning_rate=config.lr,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=1e-8,
        name=name,
    )
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
        image_shape = (self.config.crop_size, self.config.crop_size, self.config.channels)
        self.pool_a = ImagePool(self.config.pool_size, image_shape, name="fake_a_pool")
        self.pool_b = ImagePool(self.config.pool_size, image_shape, name="fake_b_pool")
        names = ["G", "F", "D_A", "D_B", "cycle"]
        if self.config.lambda_identity > 0:
            names.append("identity")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True

    # -- Keras plumbing -----------------------------------------------------------------------
    def compile(self, gen_optimizer=None, disc_optimizer=None, **kwargs):
        """Adam for both generators and for both discriminators unless others are given."""
        self.gen_optimizer = gen_optimizer or make_adam(self.config, "generator_adam")
        self.disc_optimizer = disc_optimizer or make_adam(self.config, "discriminator_adam")
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
    def discriminator_variables(self) -> list:
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

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

    def _generator_losses(self, real_a, real_b, training: bool):
        c = self.config
        fake_b = self.generator_ab(real_a, training=training)
        reconstructed_a = self.generator_ba(fake_b, training=training)
        fake_a = self.generator_ba(real_b, training=training)
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
        return total, terms, fake_a, fake_b

    def _discriminator_loss(self, discriminator, real, fake, training: bool):
        c = self.config
        per_example = losses.discriminator_gan_loss(
            c.gan_mode,
            discriminator(real, training=training),
            discriminator(fake, training=training),
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
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if is_multi_worker(tf.distribute.get_strategy()):
            # Keras 3.15 averages step outputs across workers over axis 0, which needs one.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    # -- training and evaluation --------------------------------------------------------------
    def train_step(self, data):
        real_a, real_b = data
        # 1. Generators: fool the discriminators, and come back to where they started.
        with tf.GradientTape() as tape:
            gen_total, terms, fake_a, fake_b = self._generator_losses(real_a, real_b, True)
            gen_loss = self.gen_optimizer.scale_loss(self._per_replica_mean(gen_total))
        gradients = tape.gradient(gen_loss, self.generator_variables)
        self.gen_optimizer.apply_gradients(zip(gradients, self.generator_variables, strict=True))

        # 2. Discriminators: real images against a history of generated ones.
        if self.config.lambda_gan > 0:
            fake_a = self.pool_a(ops.stop_gradient(fake_a))
            fake_b = self.pool_b(ops.stop_gradient(fake_b))
        with tf.GradientTape() as tape:
            terms["D_A"] = self._discriminator_loss(self.discriminator_a, real_a, fake_a, True)
            terms["D_B"] = self._discriminator_loss(self.discriminator_b, real_b, fake_b, True)
            disc_loss = self.disc_optimizer.scale_loss(
                self._per_replica_mean(terms["D_A"] + terms["D_B"])
            )
        if self.config.lambda_gan > 0:  # without adversarial terms, D has nothing to learn
            gradients = tape.gradient(disc_loss, self.discriminator_variables)
            self.disc_optimizer.apply_gradients(
                zip(gradients, self.discriminator_variables, strict=True)
            )
        return self._log(terms)

    def test_step(self, data):
        real_a, real_b = data
        _, terms, fake_a, fake_b = self._generator_losses(real_a, real_b, False)
        terms["D_A"] = self._discriminator_loss(self.discriminator_a, real_a, fake_a, False)
        terms["D_B"] = self._discriminator_loss(self.discriminator_b, real_b, fake_b, False)
        return self._log(terms)
