"""Repurchase: the customer's own recent purchases, recency weighted."""
from __future__ import annotations

import polars as pl

from hm_lib.candidates.base import CandidateSource, ranked, served
from hm_lib.candidates.past import Past
from hm_lib.sales import decay_weight
from hm_lib.schema import ARTICLE, CUSTOMER, SCORE


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
            .agg(decay_weight(past.cutoff, s.repurchase_half_life_days).sum().alias(SCORE))
        )
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        return ranked(served(self._scores, customers), self.settings.repurchase_n)
