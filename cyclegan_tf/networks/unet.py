"""The pix2pix U-Net generator, as the official `UnetGenerator` (`unet_128`, `unet_256`)."""

from __future__ import annotations

import keras

from cyclegan_tf.networks.common import LayerFactory


def build_unet_generator(
    num_downs: int,
    channels: int = 3,
    ngf: int = 64,
    size: int | None = None,
    use_dropout: bool = False,
    make: LayerFactory = LayerFactory(),
    name: str = "unet_generator",
) -> keras.Model:
    """A U-Net that halves the image `num_downs` times (7 for 128 px, 8 for 256 px) and back.

    Example:
        g = build_unet_generator(8, size=256)  # the 1x1 bottleneck needs 256 px input
    """
    if num_downs < 5:
        raise ValueError(f"num_downs must be >= 5, got {num_downs}")
    # (outer filters, inner filters, dropout) from the outermost block to the innermost one.
    levels = [(channels, ngf), (ngf, ngf * 2), (ngf * 2, ngf * 4), (ngf * 4, ngf * 8)]
    levels += [(ngf * 8, ngf * 8)] * (num_downs - 4)
    inputs = make.image_input(channels, size, name="image")

    def block(x, depth: int):
        outer, inner = levels[depth]
        outermost, innermost = depth == 0, depth == num_downs - 1
        tag = f"level{depth}"
        h = x
        if not outermost:
            h = make.leaky_relu(name=f"{tag}_down_lrelu")(h)
        h = make.conv(inner, 4, strides=2, padding="same", name=f"{tag}_down_conv")(h)
        if not (outermost or innermost):
            h = make.norm_layer(name=f"{tag}_down_norm")(h)
        if not innermost:
            h = block(h, depth + 1)
        h = make.relu(name=f"{tag}_up_relu")(h)
        h = make.deconv(
            outer, 4, padding="same", name=f"{tag}_up_deconv", use_bias=True if outermost else None
        )(h)
        if outermost:
            return make.tanh_output()(h)
        h = make.norm_layer(name=f"{tag}_up_norm")(h)
        # Dropout sits in the (num_downs - 5) blocks just outside the innermost one.
        if use_dropout and 4 <= depth < num_downs - 1:
            h = keras.layers.Dropout(0.5, name=f"{tag}_dropout", dtype=make.dtype)(h)
        return keras.layers.Concatenate(name=f"{tag}_skip", dtype=make.dtype)([x, h])

    return keras.Model(inputs, block(inputs, 0), name=name)
