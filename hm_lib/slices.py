"""Scores by article slice: new arrivals, rarely sold articles and the rest, as of a cut-off.

A week's purchases split by what was known of their article at the cut-off: ``new`` (no sale before it: a
new arrival, known by its attributes and photo alone), ``rare`` (sold before, but fewer than
:data:`RARE_SALES` times in the :data:`RARE_DAYS` days before it), ``established`` (the rest). Each slice is
scored on its own purchases: MAP@12 over the customers who bought in it (their whole list of 12 counts, hits
only on the slice's articles) and recall@12 (the slice's bought pairs found in the lists).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from hm_lib.evaluation import map_at_k, recall_at_k
from hm_lib.schema import ARTICLE, CUSTOMER, K

SLICES = ("new", "rare", "established")
RARE_SALES = 5
RARE_DAYS = 30
SLICE = "slice"


def article_slices(transactions: pl.DataFrame, articles: pl.Series, cutoff: dt.date) -> pl.DataFrame:
    """(article_id, slice) of every article in ``articles``, from the sales before ``cutoff``."""
    before = transactions.lazy().filter(pl.col("t_dat") < cutoff)
    recent = before.filter(pl.col("t_dat") >= cutoff - dt.timedelta(days=RARE_DAYS))
    sold = before.select(pl.col(ARTICLE).cast(pl.Int32)).unique().with_columns(pl.lit(True).alias("_sold"))
    counts = recent.group_by(pl.col(ARTICLE).cast(pl.Int32)).agg(pl.len().alias("_n"))
    return (articles.cast(pl.Int32).alias(ARTICLE).unique().sort().to_frame().lazy()
            .join(sold, on=ARTICLE, how="left").join(counts, on=ARTICLE, how="left")
            .select(ARTICLE, pl.when(pl.col("_sold").is_null()).then(pl.lit("new"))
                    .when(pl.col("_n").fill_null(0) < RARE_SALES).then(pl.lit("rare"))
                    .otherwise(pl.lit("established")).alias(SLICE))
            .collect())


def slice_truth(truth: pl.DataFrame, slices: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The (customer, article_id) pairs of ``truth`` in each slice (articles missing from ``slices``: new)."""
    tagged = truth.select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32)).join(
        slices, on=ARTICLE, how="left").with_columns(pl.col(SLICE).fill_null("new"))
    return {name: tagged.filter(pl.col(SLICE) == name).drop(SLICE) for name in SLICES}


def slice_scores(predictions: pl.DataFrame, parts: dict[str, pl.DataFrame], k: int = K) -> dict[str, dict]:
    """MAP@k and recall@k of ``predictions`` on each slice's pairs (:func:`slice_truth`)."""
    return {name: {f"map@{k}": map_at_k(predictions, pairs, k), f"recall@{k}": recall_at_k(predictions, pairs, k)}
            for name, pairs in parts.items()}


def slice_sizes(parts: dict[str, pl.DataFrame]) -> dict[str, dict]:
    """Each slice's bought pairs, buyers, and share of all the pairs."""
    total = max(sum(p.height for p in parts.values()), 1)
    return {name: {"pairs": p.height, "buyers": p[CUSTOMER].n_unique(), "share": p.height / total}
            for name, p in parts.items()}
