"""The LightGBM ranker trained across a Dask cluster (``ranker__model=lightgbm_dask``; ``lightgbm.dask``).

The training rows are split into one partition per worker at customer boundaries, so no customer's
candidates straddle two partitions, and each partition carries its own group sizes. ``DaskLGBMRanker`` has
no early stopping: it grows ``n_estimators`` trees, then the number kept is the one with the best MAP@12
on the early-stopping week (the labelled week before the target, as the local ranker's early stopping),
computed here from the trees' scores every ``EVAL_EVERY`` trees. Scoring, contributions, saving and loading
are the local ranker's: the result is one LightGBM booster.

Partition i is sent to the i-th worker by address and LightGBM's machines are listed in that order, but
lightgbm.dask computes its training parts where the scheduler chooses, and the trees depend on which
machine holds which rows: two fits on the same rows can differ (on 360 rows, one of two models), unlike
the local ranker's. The chain's default stays the local ranker; this one is for data beyond one machine.
"""
from __future__ import annotations

import itertools
import logging
import socket
from urllib.parse import urlparse

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.errors import SettingError
from hm_lib.features import ARTICLE_CATEGORICALS
from hm_lib.features.common import lightgbm_input
from hm_lib.ranking.frames import LABEL, groups
from hm_lib.ranking.lightgbm import MIN_GAIN, LightGBMRanker, booster_params

log = logging.getLogger(__name__)
EVAL_EVERY = 5  # trees between two evaluations of the early-stopping week's MAP@12


class DaskLightGBMRanker(LightGBMRanker):
    """:class:`LightGBMRanker` whose trees are grown on the cluster this process works on
    (:func:`hm_lib.cluster.active`)."""

    name = "lightgbm_dask"

    def _fit(self, train: pl.DataFrame, valid: pl.DataFrame | None, columns: list[str]) -> None:
        import dask
        import dask.array as da
        import lightgbm as lgb

        from hm_lib.cluster import active

        try:
            client = active()
        except ValueError as err:
            raise SettingError("ranker__model=lightgbm_dask trains on a Dask cluster: run with --workers N or "
                               "--cluster ADDRESS (cluster__workers / cluster__address)") from err
        s = self.settings
        sizes = groups(train).astype(np.int64)
        workers = sorted(client.scheduler_info()["workers"])
        parts = partitions(sizes, len(workers))
        x = lightgbm_input(train, columns)
        y, rows = train[LABEL].to_numpy(), np.concatenate([[0], np.cumsum(sizes)])
        # partition i on the i-th worker (by address): the same machines see the same rows in every fit
        pieces = {"features": [], "labels": [], "group": []}
        for worker, (a, b) in zip(workers, parts, strict=False):
            lo, hi = rows[a], rows[b]
            for name, piece in (("features", x[lo:hi]), ("labels", y[lo:hi]), ("group", sizes[a:b])):
                future = client.scatter(piece, workers=[worker], hash=False)
                with dask.annotate(workers=[worker], allow_other_workers=False):
                    pieces[name].append(da.from_delayed(future, shape=piece.shape, dtype=piece.dtype))
        features, labels, group = (da.concatenate(pieces[n]) for n in ("features", "labels", "group"))
        # LightGBM ranks its machines in the order of `machines`: by worker address, as the partitions
        ports = client.run(free_port, workers=workers)
        machines = ",".join(f"{urlparse(w).hostname}:{ports[w]}" for w in workers[:len(parts)])
        model = lgb.DaskLGBMRanker(client=client, machines=machines, **booster_params(s), n_jobs=1)
        with client.as_current():  # lightgbm.dask waits on Dask's current client, which ours is not by default
            model.fit(features, labels, group=group, feature_name=columns,
                      categorical_feature=[columns.index(c) for c in ARTICLE_CATEGORICALS if c in columns])
        self._booster, self._paths = model.to_local().booster_, None
        self.best_iteration = None if valid is None else best_trees(self._booster, valid, columns)
        log.info("ranker: %d trees on %d rows (%d customers, %d partitions), %d features", self.trees, train.height,
                 sizes.size, len(parts), len(columns))


def free_port() -> int:
    """A TCP port free on this machine now (run on each worker)."""
    with socket.socket() as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def partitions(sizes: np.ndarray, workers: int) -> list[tuple[int, int]]:
    """(first, end) group indices of ``workers`` (at most) contiguous partitions of about equal rows."""
    cut = np.searchsorted(np.cumsum(sizes), np.arange(1, workers) * sizes.sum() / workers, side="right")
    edges = np.unique(np.concatenate([[0], cut, [sizes.size]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def best_trees(booster, valid: pl.DataFrame, columns: list[str]) -> int:
    """The number of trees (a multiple of ``EVAL_EVERY``, or all) with the best MAP@12 on ``valid``'s groups;
    the fewest among ties (within ``MIN_GAIN``)."""
    x, total = lightgbm_input(valid, columns), booster.num_trees()
    counts = sorted({*range(EVAL_EVERY, total, EVAL_EVERY), total})
    score, best, best_map, done = np.zeros(valid.height), total, -1.0, 0
    for count in counts:
        score += booster.predict(x, start_iteration=done, num_iteration=count - done, raw_score=True)
        done = count
        value = map_at_k(groups(valid).astype(np.int64), valid[LABEL].to_numpy(), score)
        if value > best_map + MIN_GAIN:
            best, best_map = count, value
    return best


def map_at_k(sizes: np.ndarray, labels: np.ndarray, score: np.ndarray, k: int = schema.K) -> float:
    """Mean average precision at ``k`` over consecutive groups (LightGBM's ``map@k``: the sum of the precisions
    at the relevant ranks within ``k``, over min(k, relevant))."""
    group = np.repeat(np.arange(sizes.size), sizes)
    order = np.lexsort((np.arange(score.size), -score, group))  # by group, best first, ties by row
    rel = labels[order] > 0
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(score.size) - np.repeat(starts, sizes) + 1
    hits = np.cumsum(rel) - np.repeat(np.concatenate([[0], np.cumsum(rel)])[starts], sizes)
    top = rel & (rank <= k)
    ap = np.bincount(group[top], weights=hits[top] / rank[top], minlength=sizes.size)
    positives = np.bincount(group, weights=labels > 0, minlength=sizes.size)
    kept = positives > 0
    return float(np.mean(ap[kept] / np.minimum(k, positives[kept]))) if kept.any() else 0.0
