"""One plain-SGD training step of a tiny CycleGAN, as a single process or as one worker of the
cluster in TF_CONFIG; the chief saves the weights before and after the step to the .npz named by
argv[1]. Data: the image folder argv[2] (trainA/trainB of two images each: one global batch).

Run by tests/test_multiworker.py; SGD (not Adam) so a wrong gradient reduction shows as a factor.
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
import tensorflow as tf

from cyclegan_tf.config import CycleGANConfig
from cyclegan_tf.distribute import is_chief, is_multi_worker, make_strategy
from cyclegan_tf.training import build_model, load_data


def main(out: str, data: str) -> None:
    mode = "multiworker" if os.environ.get("TF_CONFIG") else "none"
    config = CycleGANConfig.preset(
        "tiny",
        data=data,
        ngf=4,
        ndf=4,
        crop_size=32,
        load_size=32,
        batch_size=2,
        no_flip=True,
        distribute=mode,
    )
    strategy = make_strategy(mode, peer_timeout=60)
    data = load_data(config, strategy=strategy)
    model = build_model(config, strategy)
    with (strategy or tf.distribute.get_strategy()).scope():
        model.compile(
            gen_optimizer=keras.optimizers.SGD(0.01), disc_optimizer=keras.optimizers.SGD(0.01)
        )
    before = [v.numpy().copy() for v in model.trainable_variables]
    if is_multi_worker(strategy):
        model.fit(data.train, steps_per_epoch=1, epochs=1, verbose=0)
    else:
        model.fit(data.train.take(1), epochs=1, verbose=0)
    after = [v.numpy() for v in model.trainable_variables]
    if is_chief(strategy):
        np.savez(out, *before, *after, count=np.array(len(before)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
