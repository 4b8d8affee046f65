"""Bought together with the customer's own recent purchases."""
from __future__ import annotations

import polars as pl

from hm_lib.candidates.base import CandidateSource
from hm_lib.candidates.cooccurrence import cooccurrence
from hm_lib.candidates.past import POS, Past
from hm_lib.candidates.sparse import matrix, rows_with_entries, top_k_products
from hm_lib.sales import decay_weight
from hm_lib.schema import CUSTOMER


class BoughtTogether(CandidateSource):
    """Partners of the customer's purchases of the last ``together_seed_days``.

    score(c, j) = sum over c's recent articles i of w(c, i) * P(j | i), with w the recency weight
    of c's purchases of i (half-life ``together_half_life_days``) and P from :func:`cooccurrence`.
    """

    name = "together"

    def fit(self, past: Past) -> BoughtTogether:
        s = self.settings
        weight = decay_weight(past.cutoff, s.together_half_life_days)
        seeds = past.window(s.together_seed_days)
        self._seeds = matrix(seeds, CUSTOMER, POS, (past.n_customers, past.n_articles), weight)
        self._partners = cooccurrence(past, s)
        self._article_ids = past.articles["article_id"].to_numpy()
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        ids = rows_with_entries(self._seeds, customers)
        n = self.settings.together_n
        return top_k_products(self._seeds[ids], self._partners, ids, self._article_ids, n)
