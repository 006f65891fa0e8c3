"""How good a translation is, in the literature's numbers.

- `distances`: FID and KID between two sets of Inception features (NumPy only).
- `inception`: InceptionV3 pool features (2048-d, 299x299), weights from Keras or a local file.
- `paired`: PSNR / SSIM against ground truth, where the data has true pairs.
- `translators`: one interface over Keras generators and exported `.tflite` files.
- `evaluate`: the `cyclegan-tf evaluate` job (JSON + best/worst PNG).
- `callback`: the same paired metrics (and KID) every N epochs during `fit`.
"""
