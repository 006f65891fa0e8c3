"""A "looks like the target domain" rate: a linear probe on ImageNet features.

FID says how far two sets of images are apart; it does not say whether a translation crossed
over. The probe is a logistic regression trained to tell real A images (photos) from real B images
(anime) by their features; the share of translations it calls B is how often the generator's
output looks like the target domain to it (real photos score near 0, real anime near 1).

Example:
    probe = DomainProbe.fit(features_train_a, features_train_b)
    rate = probe.target_rate(features_of_translations)  # share called B
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DomainProbe:
    """Standardized features -> P(domain B) by logistic regression (NumPy, full-batch)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def fit(
        cls,
        features_a: np.ndarray,
        features_b: np.ndarray,
        l2: float = 1e-2,
        steps: int = 500,
        learning_rate: float = 0.5,
    ) -> DomainProbe:
        """Train on two (N, D) feature sets; L2 keeps it a probe, not a memorizer."""
        features_a, features_b = np.asarray(features_a), np.asarray(features_b)
        shapes_ok = features_a.ndim == features_b.ndim == 2
        if not shapes_ok or features_a.shape[1] != features_b.shape[1]:
            raise ValueError(
                f"probe needs two (N, D) feature sets with the same D, got {features_a.shape} "
                f"and {features_b.shape}"
            )
        if min(len(features_a), len(features_b)) < 2:
            raise ValueError("probe needs at least 2 examples of each domain")
        x = np.concatenate([features_a, features_b]).astype(np.float64)
        y = np.concatenate([np.zeros(len(features_a)), np.ones(len(features_b))])
        # Balanced classes: each domain weighs half, whatever its count.
        sample_weight = np.where(y == 1, 0.5 / len(features_b), 0.5 / len(features_a))
        mean, scale = x.mean(0), x.std(0) + 1e-6
        x = (x - mean) / scale
        weights, bias = np.zeros(x.shape[1]), 0.0
        for _ in range(steps):
            p = _sigmoid(x @ weights + bias)
            error = (p - y) * sample_weight
            weights -= learning_rate * (x.T @ error + l2 * weights)
            bias -= learning_rate * float(error.sum())
        return cls(mean, scale, weights, bias)

    def probability_b(self, features: np.ndarray) -> np.ndarray:
        """P(domain B) for each row of `features`."""
        x = (np.asarray(features, np.float64) - self.mean) / self.scale
        return _sigmoid(x @ self.weights + self.bias)

    def target_rate(self, features: np.ndarray, target: str = "B") -> float:
        """The share of rows the probe assigns to `target` ('A' or 'B')."""
        if target not in ("A", "B"):
            raise ValueError(f"target must be 'A' or 'B', got {target!r}")
        called_b = self.probability_b(features) > 0.5
        return float(np.mean(called_b if target == "B" else ~called_b))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
