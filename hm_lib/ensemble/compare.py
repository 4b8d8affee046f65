"""Comparing relevance scores on held-out pairs: AUC, average precision, log loss and calibration."""
from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

EPS = 1e-6


def compare(scores: dict[str, np.ndarray], labels: np.ndarray) -> pl.DataFrame:
    """One row per model: AUC, average precision, log loss, mean predicted probability, positive rate."""
    y = np.asarray(labels).astype(np.int8)
    if np.unique(y).size < 2:
        raise ValueError("held-out pairs of both labels are needed to compare relevance models")
    rows = []
    for name, p in scores.items():
        p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
        rows.append({"model": name, "auc": roc_auc_score(y, p), "average_precision": average_precision_score(y, p),
                     "log_loss": log_loss(y, p, labels=[0, 1]), "mean_probability": float(p.mean()),
                     "positive_rate": float(y.mean()), "pairs": int(y.size)})
    return pl.DataFrame(rows)


def calibration(scores: dict[str, np.ndarray], labels: np.ndarray, bins: int = 10) -> pl.DataFrame:
    """Observed positive rate against mean predicted probability, in quantile bins, per model."""
    frames = []
    for name, p in scores.items():
        observed, predicted = calibration_curve(labels, np.clip(p, 0, 1), n_bins=bins, strategy="quantile")
        frames.append(pl.DataFrame({"model": name, "predicted": predicted, "observed": observed}))
    return pl.concat(frames)
