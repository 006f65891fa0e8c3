"""Translation quality during `fit`: paired PSNR/SSIM (and KID) every N epochs, in the logs.

The values go into the epoch's `logs`, so the `CSVLogger`, TensorBoard and the loss-curve PNG
pick them up; put this callback before them. Epochs without a measurement log NaN, so the CSV
keeps one column per metric.

Example:
    model.fit(train, epochs=20, callbacks=[TranslationMetrics(test_a, test_b, every=2), csv])
"""

from __future__ import annotations

import keras
import numpy as np

from cyclegan_tf.evaluation.distances import kernel_inception_distance
from cyclegan_tf.evaluation.paired import finite_mean, psnr_per_image, ssim_per_image
from cyclegan_tf.imaging import model_to_uint8
from cyclegan_tf.inference import translate_batch


class TranslationMetrics(keras.callbacks.Callback):
    """Logs psnr_ab, ssim_ab, psnr_ba, ssim_ba (paired data) and kid_ab, kid_ba (x100).

    Args:
        images_a, images_b: test images in [-1, 1]; true pairs when `paired`.
        every: measure every N epochs (and after the last epoch of `fit`).
        paired: whether images_a[i] and images_b[i] show the same thing.
        extractor: an `InceptionFeatures`, for KID; None skips KID.
    """

    def __init__(self, images_a, images_b, every: int = 1, paired: bool = True, extractor=None):
        super().__init__()
        self.images_a, self.images_b = np.asarray(images_a), np.asarray(images_b)
        self.every, self.paired, self.extractor = every, paired, extractor
        self._real_features = None

    def metric_names(self) -> list[str]:
        names = ["psnr_ab", "ssim_ab", "psnr_ba", "ssim_ba"] if self.paired else []
        return names + (["kid_ab", "kid_ba"] if self.extractor is not None else [])

    def measure(self) -> dict[str, float]:
        real_a, real_b = model_to_uint8(self.images_a), model_to_uint8(self.images_b)
        fake_b = translate_batch(self.model.generator_ab, self.images_a)
        fake_a = translate_batch(self.model.generator_ba, self.images_b)
        values = {}
        if self.paired:
            values["psnr_ab"] = finite_mean(psnr_per_image(fake_b, real_b))
            values["ssim_ab"] = float(np.mean(ssim_per_image(fake_b, real_b)))
            values["psnr_ba"] = finite_mean(psnr_per_image(fake_a, real_a))
            values["ssim_ba"] = float(np.mean(ssim_per_image(fake_a, real_a)))
        if self.extractor is not None:
            if self._real_features is None:
                self._real_features = (self.extractor(real_a), self.extractor(real_b))
            feats_a, feats_b = self._real_features
            kid_ab = kernel_inception_distance(feats_b, self.extractor(fake_b), n_subsets=20)
            kid_ba = kernel_inception_distance(feats_a, self.extractor(fake_a), n_subsets=20)
            values["kid_ab"], values["kid_ba"] = 100 * kid_ab["mean"], 100 * kid_ba["mean"]
        return values

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        last = self.params.get("epochs") == epoch + 1 if self.params else False
        if (epoch + 1) % self.every == 0 or last:
            with self.model.averaged_generators():  # what the run saves
                logs.update(self.measure())
        else:
            logs.update({name: float("nan") for name in self.metric_names()})
