"""The CycleGAN objective, term by term, named as in the paper.

Every function returns one value per example (shape `(batch,)`): the model sums them and divides by
the global batch size, which is what makes the losses right under `tf.distribute`.

Example:
    g_loss = generator_gan_loss("lsgan", discriminator_b(fake_b))
    cyc = cycle_consistency_loss(real_a, reconstructed_a)
"""

from __future__ import annotations

from keras import ops

from cyclegan_tf.config import GAN_MODES


def _per_example_mean(x):
    x = ops.cast(x, "float32")
    return ops.mean(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1)


def _bce_with_logits(logits, target: float):
    # max(x, 0) - x * t + log(1 + exp(-|x|)): stable for large |x|.
    return ops.relu(logits) - logits * target + ops.log1p(ops.exp(-ops.abs(logits)))


# One entry per GAN mode: (generator term, (real term, fake term) of the discriminator), each on
# float32 logits and per element; the discriminator's terms also take the targets for real and
# fake (1 and 0 unless label noise softens them; the modes without targets ignore them). A mode
# missing here is an error, never a silent fallback.
GAN_LOSSES = {
    "lsgan": (
        lambda fake: ops.square(fake - 1.0),
        lambda real, fake, t_real, t_fake: (ops.square(real - t_real), ops.square(fake - t_fake)),
    ),
    "vanilla": (
        lambda fake: _bce_with_logits(fake, 1.0),
        lambda real, fake, t_real, t_fake: (
            _bce_with_logits(real, t_real),
            _bce_with_logits(fake, t_fake),
        ),
    ),
    "hinge": (
        lambda fake: -fake,
        lambda real, fake, t_real, t_fake: (ops.relu(1.0 - real), ops.relu(1.0 + fake)),
    ),
    "wgan": (  # the critic's weights are clipped by the training step
        lambda fake: -fake,
        lambda real, fake, t_real, t_fake: (-real, fake),
    ),
    "wgan-gp": (  # the gradient penalty is added by the training step
        lambda fake: -fake,
        lambda real, fake, t_real, t_fake: (-real, fake),
    ),
}


def _gan_loss(mode: str):
    if mode not in GAN_LOSSES:
        raise ValueError(f"gan_mode must be one of {list(GAN_MODES)}, got {mode!r}")
    return GAN_LOSSES[mode]


def generator_gan_loss(mode: str, fake_logits):
    """Adversarial loss of a generator: how far D is from calling its fakes real."""
    generator_term, _ = _gan_loss(mode)
    return _per_example_mean(generator_term(ops.cast(fake_logits, "float32")))


def discriminator_gan_loss(mode: str, real_logits, fake_logits, real_target=1.0, fake_target=0.0):
    """Adversarial loss of a discriminator, halved as in the official code (D learns slower).

    `real_target` and `fake_target` (numbers or tensors shaped like the logits) are the labels
    an lsgan or vanilla discriminator is trained towards; `noisy_targets` draws soft ones."""
    _, discriminator_terms = _gan_loss(mode)
    real, fake = discriminator_terms(
        ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32"), real_target, fake_target
    )
    return 0.5 * (_per_example_mean(real) + _per_example_mean(fake))


def noisy_targets(logits, low: float, high: float):
    """Targets drawn from U(low, high) per element, a fresh draw at every call (GAN hacks: noisy
    labels keep the discriminator from becoming too sure)."""
    import tensorflow as tf  # the stateful op works inside tf.function and under strategies

    return tf.random.uniform(ops.shape(logits), low, high, dtype="float32")


def embedding_losses(logits_a, logits_b):
    """The embedding discriminator's loss and the generators' term against it (LSGAN).

    `logits_a`: its scores of G's encoder output on real A; `logits_b`: of F's on real B. It
    learns to call A's codes 1 and B's 0; the generators learn the swapped labels, which pushes
    both encoders' outputs into one space (XGAN's domain-adversarial term)."""
    discriminator = discriminator_gan_loss("lsgan", logits_a, logits_b)
    generators = discriminator_gan_loss("lsgan", logits_b, logits_a)
    return discriminator, generators


def cycle_consistency_loss(real, reconstructed):
    """L1 distance between an image and its round trip through both generators (paper, eq. 2)."""
    return _per_example_mean(
        ops.abs(ops.cast(real, "float32") - ops.cast(reconstructed, "float32"))
    )


def identity_loss(real, same):
    """L1 distance between an image of the target domain and the generator's output for it.

    The paper (section 5.2) uses it to keep the colours of photos when painting them.
    """
    return cycle_consistency_loss(real, same)


def total_variation_loss(image):
    """Mean absolute difference between neighbouring pixels (anisotropic L1 total variation).

    A smoothness prior for flat target styles (White-box Cartoonization, Wang & Yu 2020, puts one
    on its cartoons): it costs every speckle but a sharp edge only once, so flat areas stay flat
    and outlines stay sharp."""
    image = ops.cast(image, "float32")
    down = ops.abs(image[:, 1:, :, :] - image[:, :-1, :, :])
    across = ops.abs(image[:, :, 1:, :] - image[:, :, :-1, :])
    return _per_example_mean(down) + _per_example_mean(across)


def gradient_penalty_from_gradients(gradients):
    """WGAN-GP penalty (Gulrajani et al., 2017): (||grad D(x_hat)||_2 - 1)^2 per example."""
    gradients = ops.cast(gradients, "float32")
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    norm = ops.sqrt(ops.sum(ops.square(flat), axis=1) + 1e-12)
    return ops.square(norm - 1.0)
