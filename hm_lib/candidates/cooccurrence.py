"""Bought together: how often two articles are bought by one customer within a few days."""
from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from hm_lib.candidates.past import POS, Past
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.candidates.sparse import scale_rows, top_k_per_row
from hm_lib.schema import CUSTOMER


def cooccurrence(past: Past, settings: CandidateSettings) -> sp.csr_matrix:
    """(A, A) matrix of P(j | i): the share of the baskets holding article i that also hold j.

    A basket is one customer's purchases in one block of ``cooccurrence_window_days`` (blocks
    counted back from the cut-off) within the last ``cooccurrence_days``. Only each article's
    ``cooccurrence_top`` most frequent partners are kept. Computed once per Past.
    """
    s = settings
    key = f"cooccurrence/{s.cooccurrence_days}/{s.cooccurrence_window_days}/{s.cooccurrence_top}"
    return past.memo(key, lambda: _cooccurrence(past, s))


def _cooccurrence(past: Past, s: CandidateSettings) -> sp.csr_matrix:
    days_before = (pl.lit(past.cutoff) - pl.col("t_dat")).dt.total_days() - 1
    block = (days_before // s.cooccurrence_window_days).cast(pl.Int64)
    items = (
        past.window(s.cooccurrence_days)
        .select((pl.col(CUSTOMER).cast(pl.Int64) * (s.cooccurrence_days + 1) + block).alias("_basket"), POS)
        .unique()
    )
    _, basket = np.unique(items["_basket"].to_numpy(), return_inverse=True)
    a = past.n_articles
    baskets = sp.csr_matrix((np.ones(items.height, dtype=np.float32), (basket, items[POS].to_numpy())),
                            shape=(int(basket.max(initial=-1)) + 1, a))
    pairs = (baskets.T @ baskets).tocsr()
    holding = pairs.diagonal()
    pairs.setdiag(0)
    share = scale_rows(pairs, np.divide(1.0, holding, out=np.zeros_like(holding), where=holding > 0))
    return top_k_per_row(share, s.cooccurrence_top)
