"""The contract of every ranker: learn to order a customer's candidates, then score, rank and explain.

A ranker is fitted on labelled frames (:mod:`hm_lib.ranking.frames`: keys, label, feature columns,
sorted by customer), with early stopping on a validation week when given. It scores rows of the same
columns (its :attr:`~Ranker.feature_names`; other columns are ignored), splits each score into one
contribution per feature plus a base (the demo's reasons), reports what it learnt from each feature,
and saves itself to a folder that :func:`hm_lib.ranking.registry.load_ranker` reads back.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.ranking.frames import feature_columns, top_k, with_positives
from hm_lib.ranking.settings import RankerSettings


class Ranker(ABC):
    """One way of ordering candidates (see the module docstring for the contract)."""

    name: ClassVar[str]

    def __init__(self, settings: RankerSettings) -> None:
        self.settings = settings

    def fit(self, train: pl.DataFrame, valid: pl.DataFrame | None = None) -> Ranker:
        """Learn from the customers of ``train`` with a positive candidate; ``valid`` (same columns) for early
        stopping, when it has such customers. Returns self."""
        train = with_positives(train)
        if train.is_empty():
            raise ValueError("no training customer has a purchased article among their candidates: "
                             "the candidates or the training weeks are too small to learn a ranking")
        valid = None if valid is None else with_positives(valid)
        self._fit(train, None if valid is None or valid.is_empty() else valid, feature_columns(train))
        return self

    @abstractmethod
    def _fit(self, train: pl.DataFrame, valid: pl.DataFrame | None, columns: list[str]) -> None:
        """Learn from ``columns`` of ``train`` (customers with a positive only; sorted by customer)."""

    @property
    @abstractmethod
    def feature_names(self) -> list[str]:
        """The columns the fitted ranker reads, in its order."""

    @abstractmethod
    def score(self, frame: pl.DataFrame) -> np.ndarray:
        """(rows,) float scores of ``frame``'s rows: higher is better within a customer."""

    @abstractmethod
    def contributions(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(base (rows,), per feature (rows, features)): each row's score is its base plus its contributions."""

    @abstractmethod
    def importance(self) -> pl.DataFrame:
        """feature, gain: how much the ranker draws on each feature, largest first."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """A few figures of the fitted ranker for validation.json (e.g. its trees)."""

    @abstractmethod
    def save(self, folder: Path) -> list[Path]:
        """Write the fitted ranker's files into ``folder`` (atomically); returns them."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, settings: RankerSettings) -> Ranker:
        """A ranker as :meth:`save` left it in ``folder``."""

    def rank(self, frame: pl.DataFrame, k: int = schema.K) -> pl.DataFrame:
        """The k best candidates of each customer by :meth:`score` (long predictions frame)."""
        return top_k(frame, self.score(frame), k)

