"""Stage three: a LightGBM lambdarank model orders each customer's candidates.

Training rows are the candidates of past weeks, labelled by that week's purchases; customers
without any positive candidate are left out (they carry no ranking signal). Early stopping
watches LightGBM's MAP@12 on the validation week's candidate groups; the competition's MAP@12
(over all buyers, `hm_lib.evaluation`) is reported separately.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.config import check_scale
from hm_lib.features import ARTICLE_CATEGORICALS, article_features, customer_features, pair_features
from hm_lib.features.common import EVENT_TIMESTAMP, lightgbm_input
from hm_lib.io import atomic_path

log = logging.getLogger(__name__)
LABEL = "label"
FEATURE_SOURCES = ("direct", "feast")
KEYS = (schema.CUSTOMER, schema.ARTICLE)


@dataclass(frozen=True)
class RankerSettings:
    train_weeks: int = 8             # labelled weeks to train on, before the early-stopping week (8 vs 4: docs/benchmarks.md)
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 63
    min_child_samples: int = 50
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 30
    seed: int = 42
    rank_shard_customers: int = 50_000   # customers whose candidates are featurised and scored at once
    max_week_buyers: int = 40_000        # buyers sampled per training week (bounds memory at full scale)
    feature_source: str = "direct"       # "feast": training weeks' article and customer features via Feast

    def __post_init__(self) -> None:
        if self.feature_source not in FEATURE_SOURCES:
            raise ValueError(f"ranker feature_source must be one of {FEATURE_SOURCES}, not {self.feature_source!r}")

    @classmethod
    def for_scale(cls, scale: str = "default", **overrides: object) -> RankerSettings:
        """Defaults for a data scale, then ``overrides``."""
        per_scale = {"tiny": {"train_weeks": 2, "n_estimators": 60, "num_leaves": 15, "min_child_samples": 5},
                     "small": {"train_weeks": 4, "n_estimators": 200, "num_leaves": 31, "min_child_samples": 20}}
        return dataclasses.replace(cls(), **{**per_scale.get(check_scale(scale), {}), **overrides})


def label(candidates: pl.DataFrame, transactions: pl.DataFrame, cutoff: dt.date, days: int = 7) -> pl.DataFrame:
    """Candidates with `label` = 1 when the customer bought the article in [cutoff, cutoff + days)."""
    bought = (transactions.lazy().filter((pl.col("t_dat") >= cutoff) & (pl.col("t_dat") < cutoff + dt.timedelta(days=days)))
              .select(*KEYS).unique().with_columns(pl.lit(1, dtype=pl.Int8).alias(LABEL)))
    return (candidates.lazy().join(bought, on=list(KEYS), how="left")
            .with_columns(pl.col(LABEL).fill_null(0)).collect())


@dataclass(frozen=True)
class FeatureTables:
    """The per-entity feature tables of one cut-off (computed once, joined to every shard)."""

    cutoff: dt.date
    articles: pl.DataFrame
    customers: pl.DataFrame

    @classmethod
    def build(cls, transactions: pl.DataFrame, customers: pl.DataFrame, articles: pl.DataFrame,
              cutoff: dt.date) -> FeatureTables:
        return cls(cutoff, article_features(transactions, articles, cutoff),
                   customer_features(transactions, customers, articles, cutoff))


def assemble(transactions: pl.DataFrame, articles: pl.DataFrame, tables: FeatureTables,
             candidates: pl.DataFrame) -> pl.DataFrame:
    """Candidates (with their source columns) joined with every feature family, sorted by customer."""
    pairs = pair_features(transactions, articles, candidates.select(*KEYS), tables.cutoff)
    return (candidates.lazy().join(pairs.lazy(), on=list(KEYS), how="left")
            .join(tables.articles.lazy().drop(EVENT_TIMESTAMP), on=schema.ARTICLE, how="left")
            .join(tables.customers.lazy().drop(EVENT_TIMESTAMP), on=schema.CUSTOMER, how="left")
            .sort(schema.CUSTOMER, schema.ARTICLE).collect())


def feature_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in (*KEYS, LABEL, EVENT_TIMESTAMP)]


def _groups(frame: pl.DataFrame) -> np.ndarray:
    """Group sizes of consecutive customers (the frame is sorted by customer)."""
    return frame.group_by(schema.CUSTOMER, maintain_order=True).len()["len"].to_numpy()


def with_positives(frame: pl.DataFrame) -> pl.DataFrame:
    """Only the customers that have at least one positive candidate."""
    keep = frame.group_by(schema.CUSTOMER).agg(pl.col(LABEL).max()).filter(pl.col(LABEL) > 0)
    return frame.join(keep.select(schema.CUSTOMER), on=schema.CUSTOMER, how="semi").sort(*KEYS)


def fit(train: pl.DataFrame, valid: pl.DataFrame | None, settings: RankerSettings) -> lgb.LGBMRanker:
    """Train the lambdarank model; early stopping on the validation week's MAP@12 when given."""
    train = with_positives(train)
    if train.is_empty():
        raise ValueError("no training customer has a purchased article among their candidates: "
                         "the candidates or the training weeks are too small to learn a ranking")
    cols = feature_columns(train)
    cats = [c for c in ARTICLE_CATEGORICALS if c in cols]
    model = lgb.LGBMRanker(objective="lambdarank", n_estimators=settings.n_estimators, learning_rate=settings.learning_rate,
                           num_leaves=settings.num_leaves, min_child_samples=settings.min_child_samples,
                           subsample=settings.subsample, subsample_freq=1, colsample_bytree=settings.colsample_bytree,
                           random_state=settings.seed, deterministic=True, force_row_wise=True, n_jobs=2, verbose=-1)
    fit_args: dict = {"group": _groups(train), "categorical_feature": cats}
    if valid is not None and not (valid := with_positives(valid)).is_empty():
        fit_args |= {"eval_X": (lightgbm_input(valid, cols),), "eval_y": (valid[LABEL].to_numpy(),), "eval_group": [_groups(valid)],
                     "eval_at": [schema.K], "eval_metric": "map",
                     "callbacks": [lgb.early_stopping(settings.early_stopping_rounds, verbose=False)]}
    model.fit(lightgbm_input(train, cols), train[LABEL].to_numpy(), **fit_args)
    log.info("ranker: %d trees on %d rows (%d customers), %d features", model.best_iteration_ or settings.n_estimators,
             train.height, len(fit_args["group"]), len(cols))
    return model


def rank(model: lgb.LGBMRanker, frame: pl.DataFrame, k: int = schema.K) -> pl.DataFrame:
    """The k best candidates of each customer by the model's score (long predictions frame)."""
    scores = model.predict(lightgbm_input(frame, model.feature_name_), num_iteration=model.best_iteration_)
    return (frame.select(*KEYS).with_columns(pl.Series(schema.SCORE, scores, dtype=pl.Float32))
            .sort([schema.CUSTOMER, schema.SCORE, schema.ARTICLE], descending=[False, True, False])
            .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(schema.CUSTOMER).alias(schema.RANK))
            .filter(pl.col(schema.RANK) <= k))


def importance(model: lgb.LGBMRanker) -> pl.DataFrame:
    """Gain importance of each feature, largest first."""
    gain = model.booster_.feature_importance(importance_type="gain")
    return pl.DataFrame({"feature": model.feature_name_, "gain": gain}).sort("gain", descending=True)


def save(model: lgb.LGBMRanker, path: Path) -> Path:
    with atomic_path(path) as tmp:
        model.booster_.save_model(str(tmp), num_iteration=model.best_iteration_)
    return path
