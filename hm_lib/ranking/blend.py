"""A blend of LightGBM rankers that differ only in their seed (``ranker__blend_members``): each is fitted on the
same rows with its own row and column samples and its own early stopping, and the blend scores with their mean.

The mean of tree ensembles is explained exactly as one is: a row's base and contributions are the members'
averaged, so the demo's reasons stay the sum of per-feature contributions.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hm_lib.ranking.base import Ranker
from hm_lib.ranking.lightgbm import LightGBMRanker
from hm_lib.ranking.settings import RankerSettings

MEMBER_FILE = "ranker_{}.txt"


class LightGBMBlend(Ranker):
    """``blend_members`` LightGBM rankers with seeds ``seed``, ``seed + 1``, ...; the score is their mean."""

    name = "lightgbm_blend"

    def __init__(self, settings: RankerSettings, members: list[LightGBMRanker] | None = None) -> None:
        super().__init__(settings)
        self._members = members

    @property
    def members(self) -> list[LightGBMRanker]:
        if self._members is None:
            raise ValueError("the LightGBM blend is not fitted yet: call fit() or load() first")
        return self._members

    def _fit(self, train: pl.DataFrame, valid: pl.DataFrame | None, columns: list[str]) -> None:
        members = []
        for i in range(self.settings.blend_members):
            member = LightGBMRanker(dataclasses.replace(self.settings, seed=self.settings.seed + i))
            member._fit(train, valid, columns)
            members.append(member)
        self._members = members

    @property
    def feature_names(self) -> list[str]:
        return self.members[0].feature_names

    def score(self, frame: pl.DataFrame) -> np.ndarray:
        return np.mean([m.score(frame) for m in self.members], axis=0)

    def contributions(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        parts = [m.contributions(frame) for m in self.members]
        return np.mean([base for base, _ in parts], axis=0), np.mean([c for _, c in parts], axis=0)

    def importance(self) -> pl.DataFrame:
        gains = pl.concat([m.importance() for m in self.members])
        return (gains.group_by("feature", maintain_order=True).agg(pl.col("gain").mean())
                .sort("gain", "feature", descending=[True, False]))

    def summary(self) -> dict[str, Any]:
        trees = [m.trees for m in self.members]
        return {"trees": sum(trees), "member_trees": trees}

    def save(self, folder: Path) -> list[Path]:
        paths = [Path(folder) / MEMBER_FILE.format(i) for i in range(len(self.members))]
        for stale in set(Path(folder).glob(MEMBER_FILE.format("*"))) - set(paths):  # a larger blend's, before
            stale.unlink()
        return [member.write(path) for member, path in zip(self.members, paths, strict=True)]

    @classmethod
    def load(cls, folder: Path, settings: RankerSettings) -> LightGBMBlend:
        count = sum(1 for _ in Path(folder).glob(MEMBER_FILE.format("*")))
        return cls(settings, [LightGBMRanker.read(Path(folder) / MEMBER_FILE.format(i), settings) for i in range(count)])
