"""Repurchase: the customer's own recent purchases, recency weighted."""
from __future__ import annotations

import datetime as dt
import math

import polars as pl

from hm_lib.candidates.base import CandidateSource, ranked, served
from hm_lib.candidates.past import Past
from hm_lib.schema import ARTICLE, CUSTOMER, SCORE


def recency_weight(cutoff: dt.date, half_life_days: float) -> pl.Expr:
    """0.5 ** ((d - 1) / half_life_days) for a sale ``d`` days before ``cutoff`` (1 for the day before)."""
    days = (pl.lit(cutoff) - pl.col("t_dat")).dt.total_days() - 1
    return (days * (-math.log(2) / half_life_days)).exp()


class Repurchase(CandidateSource):
    """Articles the customer bought in the last ``repurchase_days``, scored by summed recency weights.

    Every unit counts (several units of one article add up); the weight halves every
    ``repurchase_half_life_days``.
    """

    name = "repurchase"

    def fit(self, past: Past) -> Repurchase:
        s = self.settings
        self._scores = (
            past.window(s.repurchase_days)
            .group_by(CUSTOMER, ARTICLE)
            .agg(recency_weight(past.cutoff, s.repurchase_half_life_days).sum().alias(SCORE))
        )
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        return ranked(served(self._scores, customers), self.settings.repurchase_n)
