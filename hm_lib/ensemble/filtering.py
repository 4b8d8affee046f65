"""Optional candidate filtering by the stacked relevance, and what each threshold would cost in recall."""
from __future__ import annotations

import polars as pl

from hm_lib.ensemble.scorer import RELEVANCE
from hm_lib.schema import ARTICLE, CUSTOMER


def filter_candidates(scored: pl.DataFrame, min_relevance: float | None) -> pl.DataFrame:
    """Candidates whose stacked relevance is at least ``min_relevance`` (all of them when None)."""
    if min_relevance is None:
        return scored
    return scored.filter(pl.col(RELEVANCE) >= min_relevance)


def threshold_recall(scored: pl.DataFrame, truth: pl.DataFrame, thresholds: tuple[float, ...]) -> pl.DataFrame:
    """Per threshold: share of candidates kept, recall of the week's purchases kept, recall lost.

    ``scored``: customer, article_id, relevance (one row per candidate); ``truth``: customer, article_id
    of the week's purchases. Recall counts purchases of the customers that have candidates.
    """
    bought = truth.select(CUSTOMER, ARTICLE).unique()
    bought = bought.join(scored.select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
    hits = scored.select(CUSTOMER, ARTICLE, RELEVANCE).join(bought, on=[CUSTOMER, ARTICLE], how="semi")
    total = max(bought.height, 1)
    base = hits.height / total
    rows = [{"threshold": 0.0, "candidates_kept": 1.0, "recall": base, "recall_lost": 0.0}]
    for t in sorted(thresholds):
        kept = hits.filter(pl.col(RELEVANCE) >= t).height / total
        rows.append({"threshold": t, "candidates_kept": scored.filter(pl.col(RELEVANCE) >= t).height
                     / max(scored.height, 1), "recall": kept, "recall_lost": base - kept})
    return pl.DataFrame(rows)
