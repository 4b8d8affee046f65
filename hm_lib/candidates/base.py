"""The contract of every candidate source, and the union of their proposals.

A source is fitted once on the :class:`~hm_lib.candidates.past.Past` of a cut-off (matrices,
lists), then asked for any customers, shard by shard. Its rows are (customer, article_id, score,
rank): at most its ``*_n`` articles per customer, distinct, rank 1 = best, score non-increasing
with rank, sorted by customer then rank. Customers it has nothing for get no rows.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import polars as pl

from hm_lib.candidates.past import Past
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.sales import Customers, customer_frame
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE

SOURCE_SCHEMA = pl.Schema({CUSTOMER: pl.Int32, ARTICLE: pl.Int32, SCORE: pl.Float32, RANK: pl.Int16})
_BEST, _FIRST = "_best_rank", "_first_source"


class CandidateSource(ABC):
    """One way of proposing articles to customers (see the module docstring for the contract)."""

    name: ClassVar[str]

    def __init__(self, settings: CandidateSettings) -> None:
        self.settings = settings

    @abstractmethod
    def fit(self, past: Past) -> CandidateSource:
        """Learn what the source needs from the sales before the cut-off; returns self."""

    @abstractmethod
    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        """Rows of :data:`SOURCE_SCHEMA` for ``customers`` (distinct Int32 customer indexes)."""

    def generate(self, past: Past, customers: Customers) -> pl.DataFrame:
        """Fit on ``past``, then recommend to ``customers``."""
        return self.fit(past).recommend(customer_frame(customers)[CUSTOMER])


def ranked(scored: pl.DataFrame, n: int, by: str = CUSTOMER) -> pl.DataFrame:
    """The ``n`` best-scored articles of each ``by`` (ties: smaller article id): by, article_id, score, rank.

    ``scored`` has ``by``, article_id and score, each pair at most once; dtypes as :data:`SOURCE_SCHEMA`.
    """
    return (
        scored.sort([by, SCORE, ARTICLE], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over(by).alias(RANK))
        .filter(pl.col(RANK) <= n)
        .select(pl.col(by).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32), pl.col(SCORE).cast(pl.Float32),
                pl.col(RANK).cast(pl.Int16))
    )


def for_everyone(articles: pl.DataFrame, customers: pl.Series) -> pl.DataFrame:
    """One list (article_id, score, rank) proposed to every customer."""
    return (
        customers.cast(pl.Int32).alias(CUSTOMER).sort().to_frame()
        .join(articles.sort(RANK), how="cross")
        .select(SOURCE_SCHEMA.names())
        .cast(SOURCE_SCHEMA)
    )


def served(frame: pl.DataFrame, customers: pl.Series) -> pl.DataFrame:
    """Rows of ``frame`` whose customer is in ``customers``."""
    return frame.join(customers.cast(pl.Int32).alias(CUSTOMER).to_frame(), on=CUSTOMER, how="semi")


def score_column(source: str) -> str:
    return f"{source}_{SCORE}"


def rank_column(source: str) -> str:
    return f"{source}_{RANK}"


def union(proposals: Mapping[str, pl.DataFrame], cap: int) -> pl.DataFrame:
    """Every proposed (customer, article) pair once, each source's score and rank as columns.

    Columns: customer, article_id, then ``<source>_score`` (Float32) and ``<source>_rank`` (Int16)
    per source in ``proposals`` order, null where a source did not propose the pair. Each customer
    keeps at most ``cap`` pairs, taken round-robin: by best rank over the sources, ties to the
    earlier source, then the smaller article id; rows come in that order.
    """
    wide: pl.DataFrame | None = None
    for name, rows in proposals.items():
        part = rows.select(CUSTOMER, ARTICLE, pl.col(SCORE).alias(score_column(name)),
                           pl.col(RANK).alias(rank_column(name)))
        wide = part if wide is None else wide.join(part, on=[CUSTOMER, ARTICLE], how="full", coalesce=True)
    if wide is None:
        raise ValueError("union of no sources")
    ranks = [pl.col(rank_column(name)) for name in proposals]
    best = pl.min_horizontal(ranks)
    first = pl.coalesce([pl.when(r == best).then(pl.lit(i, dtype=pl.Int8)) for i, r in enumerate(ranks)])
    return (
        wide.with_columns(best.alias(_BEST), first.alias(_FIRST))
        .sort(CUSTOMER, _BEST, _FIRST, ARTICLE)
        .filter(pl.int_range(pl.len()).over(CUSTOMER) < cap)
        .drop(_BEST, _FIRST)
    )
