"""Stratified random draws: the seed decides which item gets which value, not the values' spread.

A world's difficulty hangs on the extremes of a few heavy-tailed draws (the most popular product
code, a taste group's favourite style). Drawn independently, those extremes swing from seed to seed;
drawn as a permutation of the distribution's quantiles, every seed gets the same spread and the
knobs alone set it.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri


def normal_scores(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) standard-normal quantiles at (i + 0.5) / cols, in an independent random order per row."""
    scores = ndtri((np.arange(cols) + 0.5) / cols)
    return scores[rng.permuted(np.tile(np.arange(cols), (rows, 1)), axis=1)]


def allocate(shares: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    """Whole counts summing to `total` in proportion to `shares` (largest remainders), each at least `minimum`."""
    shares = np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.maximum(np.floor(shares * total).astype(np.int64), minimum)
    while counts.sum() > total:  # the minimums took more than their share: the largest give them back
        counts[np.argmax(np.where(counts > minimum, counts - shares * total, -np.inf))] -= 1
    remainder = shares * total - counts
    for i in np.argsort(-remainder, kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts
