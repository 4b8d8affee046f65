"""Last week's best-sellers, and what is bought together with them."""
from __future__ import annotations

import numpy as np
import polars as pl

from hm_lib.candidates.base import CandidateSource, for_everyone
from hm_lib.candidates.cooccurrence import cooccurrence
from hm_lib.candidates.past import POS, Past
from hm_lib.schema import ARTICLE, RANK, SCORE


class Popular(CandidateSource):
    """The ``popular_n`` best-sellers of the last week, plus ``popular_partners`` articles bought with them.

    A best-seller scores its share of the week's sales; a partner j scores
    sum_i share(i) * P(j | i) over the best-sellers i (:func:`cooccurrence`); an article that is
    both adds the two. The same list goes to every customer.
    """

    name = "popular"

    def fit(self, past: Past) -> Popular:
        s = self.settings
        week = past.last_week()
        counts = np.bincount(week[POS].to_numpy(), minlength=past.n_articles).astype(np.float64)
        share = counts / max(counts.sum(), 1.0)
        best = _top(share, s.popular_n)
        seeds = np.zeros_like(share)
        seeds[best] = share[best]
        together = np.asarray(cooccurrence(past, s).T @ seeds).ravel()
        partners = np.where(seeds > 0, 0.0, together)
        chosen = np.concatenate([best, _top(partners, s.popular_partners)])
        score = share[chosen] + together[chosen]
        self._list = (
            pl.DataFrame({ARTICLE: past.articles[ARTICLE].gather(chosen), SCORE: score})
            .sort([SCORE, ARTICLE], descending=[True, False])
            .with_columns(pl.int_range(1, pl.len() + 1).alias(RANK))
        )
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        return for_everyone(self._list, customers)


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest positive values, largest first (ties: smaller position)."""
    order = np.lexsort((np.arange(values.size), -values))[:n]
    return order[values[order] > 0]
