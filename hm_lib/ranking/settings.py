"""The knobs of the ranking stage, with defaults per data scale, and the weeks it learns from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from hm_lib.config import check_settings
from hm_lib.settings_base import StageSettings

FEATURE_SOURCES = ("direct", "feast")
OBJECTIVES = ("lambdarank", "rank_xendcg", "binary")  # LightGBM's: two listwise ranking losses, per-row log loss
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class RankerSettings(StageSettings):
    """``model``: the ranker implementation (a name of :data:`hm_lib.ranking.registry.RANKERS`); the
    LightGBM knobs below are read by the "lightgbm" one and by each member of "lightgbm_blend"."""

    SECTION: ClassVar[str] = "ranker"
    # A blend of 3 seeds at the smaller scales (+0.0006 +- 0.0004 MAP@12 on the week before the target, three
    # default worlds; docs/benchmarks.md); one booster at full size, where each costs minutes to fit and score.
    SCALE_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"train_weeks": 2, "n_estimators": 60, "num_leaves": 15, "min_child_samples": 5, "blend_members": 2},
        "small": {"train_weeks": 4, "n_estimators": 200, "num_leaves": 31, "min_child_samples": 20},
        "full": {"model": "lightgbm"},
    }

    model: str = "lightgbm_blend"
    objective: str = "lambdarank"    # one of OBJECTIVES (the lightgbm ranker's loss)
    train_weeks: int = 8             # labelled weeks to train on, before the early-stopping week (8 vs 4: docs/benchmarks.md)
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 63
    min_child_samples: int = 50
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 30
    seed: int = 42
    blend_members: int = 3           # the "lightgbm_blend" ranker's members (seeds seed, seed + 1, ...)
    rank_shard_customers: int = 50_000   # customers whose candidates are featurised and scored at once
    max_week_buyers: int = 40_000        # buyers sampled per training week (bounds memory at full scale)
    feature_source: str = "direct"       # "feast": training weeks' article and customer features via Feast
    compare_without: tuple[str, ...] = ()  # validating: also a ranker without each of these feature families
    compare_objectives: tuple[str, ...] = ()  # validating: also a ranker with each of these objectives
    validate_every_customer: bool = False  # validating: rank every customer, not only the held-out week's buyers

    def __post_init__(self) -> None:
        check_settings("RankerSettings", {
            f"feature_source must be one of {FEATURE_SOURCES}, not {self.feature_source!r}":
                self.feature_source in FEATURE_SOURCES,
            "train_weeks must be at least 1": self.train_weeks >= 1,
            "blend_members must be at least 1": self.blend_members >= 1,
            f"objective must be one of {OBJECTIVES}, not {self.objective!r}": self.objective in OBJECTIVES,
            f"compare_objectives must be among {OBJECTIVES}, not {self.compare_objectives!r}":
                set(self.compare_objectives) <= set(OBJECTIVES),
        })

    def weeks(self, cutoff: dt.date) -> list[dt.date]:
        """The cut-offs of the labelled weeks the ranker for ``cutoff`` learns from, latest first: the
        early-stopping week [cutoff - 7, cutoff), then the ``train_weeks`` training weeks before it."""
        return [cutoff - WEEK * i for i in range(1, self.train_weeks + 2)]

