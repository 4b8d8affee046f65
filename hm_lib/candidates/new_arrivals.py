"""New arrivals: articles just launched or not sold yet, matched to the customer's taste by their attributes.

No other source can propose an article without sales (every one counts sales), yet new arrivals are a few
percent of a week's purchases (400-1,000 launches a week in the real catalogue). This source knows them by
their catalogue codes alone: it is the metadata yardstick that a photo-based source must beat.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import scipy.sparse as sp

from hm_lib.candidates.base import CandidateSource
from hm_lib.candidates.past import ATTRIBUTES, POS, Past
from hm_lib.candidates.sparse import matrix, rows_with_entries, scale_rows, top_k_products
from hm_lib.sales import decay_weight
from hm_lib.schema import ARTICLE, CUSTOMER

_FIRST = "_first_sale"


def launch_pool(past: Past, days: int) -> np.ndarray:
    """Positions of the articles not sold before the cut-off or first sold in its last ``days`` days."""
    first = past.transactions.group_by(POS).agg(pl.col("t_dat").min().alias(_FIRST))
    recent = first.filter(pl.col(_FIRST) >= past.cutoff - dt.timedelta(days=days))[POS].to_numpy()
    unsold = np.setdiff1d(np.arange(past.n_articles), first[POS].to_numpy())
    return np.union1d(recent, unsold).astype(np.int64)


def attribute_matrix(past: Past) -> sp.csr_matrix:
    """Articles x attribute values (one column per distinct value of each of the catalogue's ATTRIBUTES): 1 where
    the article has the value."""
    columns, offset = [], 0
    for attr in (a for a in ATTRIBUTES if a in past.articles.columns):
        codes = past.articles[attr].rank("dense").cast(pl.Int64).to_numpy() - 1
        columns.append(codes + offset)
        offset += int(codes.max(initial=-1)) + 1
    rows = np.tile(np.arange(past.n_articles), len(columns))
    values = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, values)), shape=(past.n_articles, offset))


class NewArrivals(CandidateSource):
    """For customers with purchases in the last ``new_arrivals_history_days``: the articles of the launch pool
    (not sold before the cut-off, or first sold in its last ``new_arrivals_days``) that share most attribute
    values with them.

    score(c, a) = sum over the catalogue's attributes of the recency-weighted share of c's purchases with a's
    value (half-life ``new_arrivals_half_life_days``): 1 per attribute where every purchase matches; the same
    product code (a new colour of a garment the customer bought) counts as one attribute.
    """

    name = "new_arrivals"

    def fit(self, past: Past) -> NewArrivals:
        s = self.settings
        values = attribute_matrix(past)
        bought = matrix(past.window(s.new_arrivals_history_days), CUSTOMER, POS, (past.n_customers, past.n_articles),
                        decay_weight(past.cutoff, s.new_arrivals_half_life_days))
        totals = np.asarray(bought.sum(axis=1)).ravel()
        shares = scale_rows(bought, np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0))
        self._shares = (shares @ values).tocsr()  # customers x attribute values
        pool = launch_pool(past, s.new_arrivals_days)
        self._pool_values = values[pool].T.tocsr()       # attribute values x pool articles
        self._pool_ids = past.articles[ARTICLE].to_numpy()[pool]
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        ids = rows_with_entries(self._shares, customers)
        return top_k_products(self._shares[ids], self._pool_values, ids, self._pool_ids, self.settings.new_arrivals_n,
                              dense=True)
