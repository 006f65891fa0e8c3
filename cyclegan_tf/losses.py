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
# float32 logits and per element. A mode missing here is an error, never a silent fallback.
GAN_LOSSES = {
    "lsgan": (
        lambda fake: ops.square(fake - 1.0),
        lambda real, fake: (ops.square(real - 1.0), ops.square(fake)),
    ),
    "vanilla": (
        lambda fake: _bce_with_logits(fake, 1.0),
        lambda real, fake: (_bce_with_logits(real, 1.0), _bce_with_logits(fake, 0.0)),
    ),
    "hinge": (
        lambda fake: -fake,
        lambda real, fake: (ops.relu(1.0 - real), ops.relu(1.0 + fake)),
    ),
    "wgan-gp": (  # the gradient penalty is added by the training step
        lambda fake: -fake,
        lambda real, fake: (-real, fake),
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


def discriminator_gan_loss(mode: str, real_logits, fake_logits):
    """Adversarial loss of a discriminator, halved as in the official code (D learns slower)."""
    _, discriminator_terms = _gan_loss(mode)
    real, fake = discriminator_terms(
        ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    )
    return 0.5 * (_per_example_mean(real) + _per_example_mean(fake))


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


def gradient_penalty_from_gradients(gradients):
    """WGAN-GP penalty (Gulrajani et al., 2017): (||grad D(x_hat)||_2 - 1)^2 per example."""
    gradients = ops.cast(gradients, "float32")
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    norm = ops.sqrt(ops.sum(ops.square(flat), axis=1) + 1e-12)
    return ops.square(norm - 1.0)
