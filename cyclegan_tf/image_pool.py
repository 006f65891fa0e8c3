"""The history of generated images that feeds the discriminators (paper, section 4).

The official code keeps a Python list; here the pool lives in variables so it works inside the
compiled `train_step`, is saved with every checkpoint and is per replica under `tf.distribute`
(each replica keeps its own history, as each GPU does in the official multi-GPU runs).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="cyclegan_tf")
class ImagePool(keras.layers.Layer):
    """Returns, for each generated image, either itself or an older one it replaces (p = 0.5).

    While the pool is filling, images go in and come back unchanged, as in the official
    `ImagePool.query`. With `pool_size=0` the layer returns its input.

    Example:
        pool = ImagePool(50, image_shape=(256, 256, 3))
        fake_for_discriminator = pool(fake_b)
    """

    def __init__(self, pool_size: int, image_shape: tuple[int, int, int], **kwargs):
        super().__init__(**kwargs)
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {pool_size}")
        self.pool_size = int(pool_size)
        self.image_shape = tuple(int(d) for d in image_shape)
        if self.pool_size:
            shape = (self.pool_size, *self.image_shape)
            # ON_READ: every replica updates its own copy inside the replica context.
            self.images = keras.Variable(
                ops.zeros(shape),
                trainable=False,
                name="images",
                dtype="float32",
                synchronization="on_read",
                aggregation="only_first_replica",
            )
            self.count = keras.Variable(
                0,
                trainable=False,
                name="count",
                dtype="int32",
                synchronization="on_read",
                aggregation="only_first_replica",
            )
        self.built = True

    def call(self, images):
        if not self.pool_size:
            return images
        floats = ops.cast(images, "float32")
        count = tf.shape(floats)[0]

        def query(i, outputs):  # one image at a time, as the official per-image loop
            return i + 1, outputs.write(i, self._query_one(floats[i]))

        _, outputs = tf.while_loop(
            lambda i, _: i < count, query, (0, tf.TensorArray("float32", size=count))
        )
        outputs = outputs.stack()
        outputs.set_shape(images.shape)
        return ops.cast(outputs, images.dtype)

    def _query_one(self, image):
        count = self.count.value
        filling = count < self.pool_size
        swap = ops.logical_and(ops.logical_not(filling), tf.random.uniform(()) > 0.5)
        random_slot = tf.random.uniform((), 0, self.pool_size, dtype="int32")
        slot = ops.where(filling, count, random_slot)
        stored = ops.take(self.images.value, slot, axis=0)
        write = ops.logical_or(filling, swap)
        # Only the slot is written (the image, or what it held): rewriting the whole pool per
        # image (scatter into a copy, then a select over it) took 11% of the phone recipe's
        # step (benchmarks/results/profile_step_mobile128.md) and grows with the image size.
        kept = ops.where(write, image, stored)
        try:
            self.images.value.scatter_update(tf.IndexedSlices(kept[None], slot[None]))
        except NotImplementedError:  # ON_READ copies under a tf.distribute strategy
            slots = ops.reshape(slot, (1, 1))
            self.images.assign(ops.scatter_update(self.images.value, slots, kept[None]))
        self.count.assign(ops.minimum(count + 1, self.pool_size))
        return ops.where(swap, stored, image)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "image_shape": list(self.image_shape),
        }
