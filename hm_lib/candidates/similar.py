"""Bought last week by similar customers: user-based collaborative filtering over purchase histories.

Each customer is a vector over product codes (or articles: ``similar_on``) of their purchases
in the last ``similar_history_days``: log(1 + units), times the code's inverse document
frequency over customers, scaled to unit length. Every customer who bought last week is a
neighbour and votes for each article they bought last week with the cosine similarity of the
two histories: score(c, j) = sum_u cos(c, u) [u bought j last week]. That sum factorises as
x_c . V[:, j] with V = sum_u x_u lastweek_u^T (codes x articles), so no customer x customer
matrix is ever formed; V keeps the ``similar_row_top`` largest votes of each code.

Choice, measured on the default synthetic world (60k customers; recall of 40 candidates per
buyer, mean of the last three weeks): this all-neighbour form 0.158 (0.156 keeping 100 votes per
code instead of 50); an explicit k-nearest-neighbour version (cosine over the same vectors, the
customer excluded) 0.098 / 0.114 / 0.152 / 0.158 with 20 / 50 / 200 / 1000 neighbours, at the
cost of a dense customer x last-week-buyer product; article columns instead of product codes
0.154; no IDF 0.151; 182 instead of 365 days of history 0.147. The all-neighbour form is as good
as the best kNN and costs one sparse product per customer batch, so it scales to full size.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from hm_lib.candidates.base import CandidateSource
from hm_lib.candidates.past import POS, Past
from hm_lib.candidates.sparse import (
    l2_normalize_rows,
    matrix,
    rows_with_entries,
    scale_columns,
    top_k_per_row,
    top_k_products,
)
from hm_lib.schema import ARTICLE, CUSTOMER

_COLUMN = "_column"


class SimilarCustomers(CandidateSource):
    """See the module docstring: cosine-weighted votes of every last-week buyer."""

    name = "similar"

    def fit(self, past: Past) -> SimilarCustomers:
        s = self.settings
        history = past.window(s.similar_history_days)
        if s.similar_on == "product_code":
            codes = past.articles["product_code"]
            column = codes.rank("dense").cast(pl.Int32) - 1
            width = codes.n_unique()
            history = history.with_columns(column.gather(history[POS]).alias(_COLUMN))
        else:
            width = past.n_articles
            history = history.with_columns(pl.col(POS).alias(_COLUMN))
        counts = matrix(history, CUSTOMER, _COLUMN, (past.n_customers, width))
        counts.data = np.log1p(counts.data)
        buyers_per_column = np.bincount(counts.indices, minlength=width)
        customers = max(int((np.diff(counts.indptr) > 0).sum()), 1)
        idf = np.log((customers + 1) / (buyers_per_column + 1)).astype(np.float32)
        self._profiles = l2_normalize_rows(scale_columns(counts, idf))
        week = past.last_week()
        bought = matrix(week, CUSTOMER, POS, (past.n_customers, past.n_articles))
        bought.data[:] = 1.0
        neighbours = np.unique(week[CUSTOMER].to_numpy())
        votes = self._profiles[neighbours].T @ bought[neighbours]
        self._votes = top_k_per_row(votes.tocsr(), s.similar_row_top)
        self._article_ids = past.articles[ARTICLE].to_numpy()
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        ids = rows_with_entries(self._profiles, customers)
        n = self.settings.similar_n
        return top_k_products(self._profiles[ids], self._votes, ids, self._article_ids, n)
