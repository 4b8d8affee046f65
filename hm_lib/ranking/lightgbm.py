"""The LightGBM ranker (lambdarank by default); early stopping watches LightGBM's MAP@12 on the validation week's
candidate groups (the competition's MAP@12, over all buyers, is :mod:`hm_lib.evaluation`'s)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.features import ARTICLE_CATEGORICALS
from hm_lib.features.common import lightgbm_input
from hm_lib.io import atomic_path
from hm_lib.ranking.base import Ranker
from hm_lib.ranking.frames import LABEL, groups
from hm_lib.ranking.settings import RankerSettings

log = logging.getLogger(__name__)
MODEL_FILE = "ranker.txt"
# Early stopping counts an iteration as better only by this much: LightGBM's threads add up the validation
# MAP in no fixed order, so two tied iterations can differ in the last bits, and which one is "best" would
# change from run to run (a real gain in MAP@12 over a week's buyers is orders of magnitude larger).
MIN_GAIN = 1e-9
# Below this many rows LightGBM runs on one thread: syncing two threads at every step of every tree costs more
# than the work, and when another process holds a core each sync waits for its time slice (8 fits on 360 rows
# beside a `hm run`: 0.23 s on one thread, 10.1 s on two; benchmarks/bench_lightgbm_threads.py, docs/benchmarks.md).
ONE_THREAD_ROWS = 100_000
THREADS = 2


def threads(rows: int) -> int:
    """LightGBM's threads for a fit or prediction on ``rows`` rows (a function of the size alone: the same
    inputs give the same trees)."""
    return 1 if rows < ONE_THREAD_ROWS else THREADS


class LightGBMRanker(Ranker):
    """LightGBM's LGBMRanker (``ranker__objective``, lambdarank by default), deterministic, article attributes as
    categoricals. With the binary objective the candidate groups serve the early-stopping MAP@12 alone."""

    name = "lightgbm"

    def __init__(self, settings: RankerSettings, booster: lgb.Booster | None = None,
                 best_iteration: int | None = None) -> None:
        super().__init__(settings)
        self._booster, self.best_iteration = booster, best_iteration
        self._paths: tuple[np.ndarray, list[np.ndarray]] | None = None  # _leaf_contributions, once per booster

    @property
    def booster(self) -> lgb.Booster:
        if self._booster is None:
            raise ValueError("the LightGBM ranker is not fitted yet: call fit() or load() first")
        return self._booster

    def _fit(self, train: pl.DataFrame, valid: pl.DataFrame | None, columns: list[str]) -> None:
        s = self.settings
        model = lgb.LGBMRanker(**booster_params(s), n_jobs=threads(train.height))
        fit_args: dict[str, Any] = {"group": groups(train), "feature_name": columns,
                                    "categorical_feature": [c for c in ARTICLE_CATEGORICALS if c in columns]}
        if valid is not None:
            fit_args |= {"eval_X": (lightgbm_input(valid, columns),), "eval_y": (valid[LABEL].to_numpy(),),
                         "eval_group": [groups(valid)], "eval_at": [schema.K], "eval_metric": "map",
                         "callbacks": [lgb.early_stopping(s.early_stopping_rounds, verbose=False, min_delta=MIN_GAIN)]}
        model.fit(lightgbm_input(train, columns), train[LABEL].to_numpy(), **fit_args)
        self._booster, self.best_iteration, self._paths = model.booster_, model.best_iteration_, None
        log.info("ranker: %d trees on %d rows (%d customers), %d features", self.trees, train.height,
                 len(fit_args["group"]), len(columns))

    @property
    def trees(self) -> int:
        """The trees the ranker scores with (those up to the best iteration when it stopped early)."""
        return self.best_iteration or self.booster.num_trees()

    @property
    def feature_names(self) -> list[str]:
        return self.booster.feature_name()

    def score(self, frame: pl.DataFrame) -> np.ndarray:
        return self.booster.predict(lightgbm_input(frame, self.feature_names), num_iteration=self.best_iteration,
                                    num_threads=threads(frame.height))

    def contributions(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Path attribution (as in treeinterpreter): a feature's contribution sums, over the splits on the
        row's path through each tree, the change in the tree's expected value that its splits make. Exact
        (the base is the trees' root values) and as cheap as a prediction, where LightGBM's SHAP values cost
        hundreds of times more."""
        leaves = np.asarray(self.booster.predict(lightgbm_input(frame, self.feature_names), pred_leaf=True,
                                                 num_iteration=self.best_iteration,
                                                 num_threads=threads(frame.height))).reshape(frame.height, -1)
        if self._paths is None:
            self._paths = _leaf_contributions(self.booster)
        roots, tables = self._paths
        used = leaves.shape[1]  # the trees up to the best iteration
        contrib = np.zeros((frame.height, len(self.feature_names)))
        for tree, table in enumerate(tables[:used]):
            contrib += table[leaves[:, tree]]
        return np.full(frame.height, float(np.sum(roots[:used]))), contrib

    def importance(self) -> pl.DataFrame:
        gain = self.booster.feature_importance(importance_type="gain")
        return pl.DataFrame({"feature": self.feature_names, "gain": gain}).sort("gain", descending=True)

    def summary(self) -> dict[str, Any]:
        return {"trees": self.trees}

    def save(self, folder: Path) -> list[Path]:
        return [self.write(Path(folder) / MODEL_FILE)]

    def write(self, path: Path) -> Path:
        """The booster (its trees up to the best iteration) as LightGBM's text model at ``path``, atomically."""
        with atomic_path(path) as tmp:
            self.booster.save_model(str(tmp), num_iteration=self.best_iteration)
        return path

    @classmethod
    def read(cls, path: Path, settings: RankerSettings) -> LightGBMRanker:
        """A ranker of the booster :meth:`write` left at ``path``."""
        return cls(settings, lgb.Booster(model_file=str(path)))

    @classmethod
    def load(cls, folder: Path, settings: RankerSettings) -> LightGBMRanker:
        return cls.read(Path(folder) / MODEL_FILE, settings)


def booster_params(s: RankerSettings) -> dict[str, Any]:
    """LightGBM's parameters from the ranker settings (threads aside): deterministic, bagging every iteration."""
    return {"objective": s.objective, "n_estimators": s.n_estimators, "learning_rate": s.learning_rate,
            "num_leaves": s.num_leaves, "min_child_samples": s.min_child_samples, "subsample": s.subsample,
            "subsample_freq": 1, "colsample_bytree": s.colsample_bytree, "random_state": s.seed,
            "deterministic": True, "force_row_wise": True, "verbose": -1}


def _leaf_contributions(booster: lgb.Booster) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each tree's root value, and per tree each leaf's path contribution of every feature (leaves x features)."""
    roots, tables, features = [], [], booster.num_feature()
    for tree in booster.dump_model()["tree_info"]:
        root, table = tree["tree_structure"], np.zeros((tree["num_leaves"], features))
        tables.append(table)
        if "split_feature" not in root:  # a single leaf
            roots.append(root["leaf_value"])
            continue
        roots.append(root["internal_value"])
        stack = [(root, np.zeros(features))]
        while stack:
            node, path = stack.pop()
            for child in (node["left_child"], node["right_child"]):
                leaf = "split_feature" not in child
                step = path.copy()
                step[node["split_feature"]] += child["leaf_value" if leaf else "internal_value"] - node["internal_value"]
                if leaf:
                    table[child["leaf_index"]] = step
                else:
                    stack.append((child, step))
    return np.asarray(roots), tables
