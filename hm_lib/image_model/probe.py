"""Linear probe: can a hidden article label (the synthetic world's visual style) be read from features?

A ridge classifier (one-vs-rest least squares on standardised features) trained on the articles of
80% of the product codes and scored on the other 20%: colour variants of one code share their style
and look alike, so splitting by code keeps near-copies out of the test part.
"""
from __future__ import annotations

import numpy as np

TEST_SHARE = 0.2


def linear_probe(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, ridge: float = 1.0,
                 seed: int = 0) -> dict[str, float]:
    """Held-out accuracy of a ridge classifier of ``labels`` from ``features``, and the majority rate."""
    rng = np.random.default_rng(seed)
    codes = np.unique(groups)
    test_codes = rng.choice(codes, size=max(1, int(codes.size * TEST_SHARE)), replace=False)
    test = np.isin(groups, test_codes)
    x = features.astype(np.float64)
    mean, std = x[~test].mean(axis=0), x[~test].std(axis=0) + 1e-6
    x = np.hstack([(x - mean) / std, np.ones((x.shape[0], 1))])
    classes, y = np.unique(labels, return_inverse=True)
    target = np.eye(classes.size)[y]
    a = x[~test]
    w = np.linalg.solve(a.T @ a + ridge * a.shape[0] * np.eye(a.shape[1]) / a.shape[1], a.T @ target[~test])
    predicted = (x[test] @ w).argmax(axis=1)
    return {"accuracy": float((predicted == y[test]).mean()),
            "majority": float(np.bincount(y[test], minlength=classes.size).max() / max(test.sum(), 1)),
            "train_articles": int((~test).sum()), "test_articles": int(test.sum())}
