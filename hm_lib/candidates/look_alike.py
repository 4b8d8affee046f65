"""Look-alikes: new arrivals whose photos look like what the customer bought.

The same launch pool and purchase history as :mod:`~hm_lib.candidates.new_arrivals` (so the two are compared on
the same articles), ranked by the photo instead of the catalogue codes: what a photo shows and no code says (a
print, an emblem, a cut) is the one signal a new article has before it sells. The photo descriptors come with
the :class:`~hm_lib.candidates.past.Past` (:mod:`hm_lib.candidates.photos`); without them the source proposes
nothing.
"""
from __future__ import annotations

import logging

import numpy as np
import polars as pl

from hm_lib.candidates.base import SOURCE_SCHEMA, CandidateSource
from hm_lib.candidates.new_arrivals import launch_pool
from hm_lib.candidates.past import POS, Past
from hm_lib.candidates.sparse import matrix, rows_with_entries, scale_columns, top_k_dense
from hm_lib.sales import decay_weight
from hm_lib.schema import ARTICLE, CUSTOMER

log = logging.getLogger(__name__)
BATCH_ROWS = 4096
DECIMALS = 6  # scores rounded so that the last bits of a BLAS product cannot reorder ties between processes


def unit_rows(descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Descriptors centred on the mean of the articles that have one, each scaled to length 1 (float64), and
    the mask of those articles (the others stay rows of zeros)."""
    d = descriptors.astype(np.float64)
    has = np.abs(d).sum(axis=1) > 0
    if not has.any():
        return d, has
    d = np.where(has[:, None], d - d[has].mean(axis=0), 0.0)
    norms = np.linalg.norm(d, axis=1, keepdims=True)
    return np.divide(d, norms, out=np.zeros_like(d), where=norms > 0), has


class LookAlike(CandidateSource):
    """For customers with purchases in the last ``new_arrivals_history_days``: the launch pool's articles (see
    :func:`~hm_lib.candidates.new_arrivals.launch_pool`) nearest to the customer's photo profile.

    profile(c) = the recency-weighted mean (half-life ``new_arrivals_half_life_days``) of the unit descriptors of
    c's purchases; score(c, a) = (1 + cos(profile(c), descriptor(a))) / 2, in [0, 1]. Exact nearest neighbours:
    the pool is a few hundred to a few thousand articles, so a dense product per batch of customers is cheaper than
    building an index (the same reason :mod:`~hm_lib.candidates.new_arrivals` ranks densely).
    """

    name = "look_alike"

    def fit(self, past: Past) -> LookAlike:
        s = self.settings
        self._pool_ids = np.zeros(0, dtype=np.int32)
        if past.photos is None:
            log.warning("look_alike: no photo descriptors for cut-off %s (no images folder?): it proposes nothing",
                        past.cutoff)
            self._bought = None
            return self
        unit, has = unit_rows(past.photos)
        bought = matrix(past.window(s.new_arrivals_history_days), CUSTOMER, POS, (past.n_customers, past.n_articles),
                        decay_weight(past.cutoff, s.new_arrivals_half_life_days))
        bought = scale_columns(bought, has.astype(np.float32))  # purchases without a photo say nothing here
        bought.eliminate_zeros()
        pool = launch_pool(past, s.new_arrivals_days)
        pool = pool[has[pool]]
        self._bought, self._unit = bought.tocsr(), unit.astype(np.float32)
        self._pool_unit = unit[pool].T  # descriptor x pool article, float64 like the profiles it meets
        self._pool_ids = past.articles[ARTICLE].to_numpy()[pool]
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        if self._bought is None or self._pool_ids.size == 0:
            return pl.DataFrame(schema=SOURCE_SCHEMA)
        ids = rows_with_entries(self._bought, customers)
        parts = [self._top(ids[lo:lo + BATCH_ROWS]) for lo in range(0, ids.size, BATCH_ROWS)]
        return pl.concat(parts) if parts else pl.DataFrame(schema=SOURCE_SCHEMA)

    def _top(self, ids: np.ndarray) -> pl.DataFrame:
        profile = (self._bought[ids] @ self._unit).astype(np.float64)
        norms = np.linalg.norm(profile, axis=1, keepdims=True)
        profile = np.divide(profile, norms, out=np.zeros_like(profile), where=norms > 0)
        scores = np.round((1.0 + profile @ self._pool_unit) / 2.0, DECIMALS)
        return top_k_dense(scores, ids, self._pool_ids, self.settings.look_alike_n)
