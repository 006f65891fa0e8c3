"""FID and KID between two sets of features, in NumPy (no SciPy needed at run time).

FID (Heusel et al., 2017) is the Fréchet distance between Gaussians fitted to the features. KID
(Binkowski et al., 2018) is the unbiased MMD² with the cubic polynomial kernel
k(x, y) = (x·y / d + 1)³, averaged over random subsets; papers report it x100.

Example:
    fid = frechet_distance(real_features, fake_features)
    kid = kernel_inception_distance(real_features, fake_features)  # {"mean": ..., "std": ...}
"""

from __future__ import annotations

import numpy as np


def _check_features(name: str, features: np.ndarray, minimum: int) -> np.ndarray:
    features = np.asarray(features, np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (images x features), got {features.shape}")
    if len(features) < minimum:
        raise ValueError(f"{name} needs at least {minimum} rows, got {len(features)}")
    return features


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative round-off clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """FID: |mu_r - mu_f|² + Tr(S_r + S_f - 2 (S_r S_f)^½) of the two feature sets.

    Tr((S_r S_f)^½) is computed as the sum of square roots of the eigenvalues of the symmetric
    matrix S_r^½ S_f S_r^½ (same eigenvalues), which stays real and stable for singular
    covariances (fewer images than feature dimensions).
    """
    real, fake = _check_features("real", real, 2), _check_features("fake", fake, 2)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: real {real.shape[1]}, fake {fake.shape[1]}")
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root_r = _sqrt_psd(cov_r)
    middle = np.linalg.eigvalsh(root_r @ cov_f @ root_r)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = np.sum((mu_r - mu_f) ** 2) + np.trace(cov_r) + np.trace(cov_f) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def polynomial_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of two equal-size samples with k(a, b) = (a·b / d + 1)³."""
    m, d = len(x), x.shape[1]
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.mean())


def kid_subsets(n_real: int, n_fake: int, n_subsets: int, subset_size: int, seed: int):
    """The (real, fake) index subsets KID averages over: drawn without replacement each time."""
    rng = np.random.default_rng(seed)
    for _ in range(n_subsets):
        yield (
            rng.choice(n_real, subset_size, replace=False),
            rng.choice(n_fake, subset_size, replace=False),
        )


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    n_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """KID as {'mean', 'std', 'subset_size', 'n_subsets'}; subsets are capped at the smaller set."""
    real, fake = _check_features("real", real, 2), _check_features("fake", fake, 2)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: real {real.shape[1]}, fake {fake.shape[1]}")
    size = min(subset_size, len(real), len(fake))
    values = [
        polynomial_mmd(real[r], fake[f])
        for r, f in kid_subsets(len(real), len(fake), n_subsets, size, seed)
    ]
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "subset_size": size,
        "n_subsets": n_subsets,
    }
