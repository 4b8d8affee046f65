"""MAP@12 and recall on long prediction frames, the held-out week, and the time split.

Predictions are long frames (customer, article_id, rank; rank 1 = best); the truth is the set of
distinct (customer, article_id) pairs bought in the target window. The metric follows
docs/data_format.md and the Kaggle reference ``apk``: a repeated prediction is never a second hit
but still occupies its position, and customers are averaged only if they bought something.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from hm_lib.schema import ARTICLE, CUSTOMER, RANK, K

_POS = "_pos"
_AP = "ap"


def apk(actual: Sequence[Any], predicted: Sequence[Any], k: int = K) -> float:
    """AP@k of one customer (reference implementation; ``actual`` is deduplicated)."""
    bought = set(actual)
    if not bought:
        return 0.0
    hits, total = 0, 0.0
    for i, p in enumerate(predicted[:k]):
        if p in bought and p not in predicted[:i]:
            hits += 1
            total += hits / (i + 1)
    return total / min(len(bought), k)


def _pairs(df: pl.DataFrame) -> pl.DataFrame:
    """Distinct (customer, article_id) pairs with the schema's dtypes."""
    return df.select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32)).unique()


def _top(predictions: pl.DataFrame, truth: pl.DataFrame, k: int | None) -> pl.DataFrame:
    """Each truth customer's predictions, first occurrences only, with their position (<= k).

    Positions are 1-based and count every row in rank order (ties keep input order), so a
    duplicate is dropped but still uses up its slot.
    """
    ranked = (
        predictions.select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32), RANK)
        .join(truth.select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
        .sort(CUSTOMER, RANK, maintain_order=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(CUSTOMER).alias(_POS))
    )
    if k is not None:
        ranked = ranked.filter(pl.col(_POS) <= k)
    return ranked.unique([CUSTOMER, ARTICLE], keep="first", maintain_order=True)


def ap_per_customer(predictions: pl.DataFrame, truth: pl.DataFrame, k: int = K) -> pl.DataFrame:
    """AP@k for every customer of ``truth`` (0 when not predicted): frame customer, ap."""
    truth = _pairs(truth)
    bought = truth.group_by(CUSTOMER).agg(pl.len().alias("_m"))
    sums = (
        _top(predictions, truth, k)
        .join(truth, on=[CUSTOMER, ARTICLE], how="semi")
        .sort(CUSTOMER, _POS)
        .with_columns(pl.int_range(1, pl.len() + 1).over(CUSTOMER).alias("_hit"))
        .group_by(CUSTOMER)
        .agg((pl.col("_hit") / pl.col(_POS)).sum().alias("_sum"))
    )
    return (
        bought.join(sums, on=CUSTOMER, how="left")
        .select(CUSTOMER, (pl.col("_sum").fill_null(0.0) / pl.min_horizontal("_m", k)).alias(_AP))
        .sort(CUSTOMER)
    )


def map_at_k(predictions: pl.DataFrame, truth: pl.DataFrame, k: int = K) -> float:
    """MAP@k over the customers with at least one purchase in ``truth``; 0.0 when it is empty."""
    ap = ap_per_customer(predictions, truth, k)
    return float(ap[_AP].mean()) if ap.height else 0.0


def recall_at_k(
    predictions: pl.DataFrame, truth: pl.DataFrame, k: int | None = None, per_customer: bool = False
) -> float:
    """Share of the truth pairs found in each customer's first ``k`` predictions (None: all).

    ``per_customer=False`` pools all pairs (micro average, the usual candidate-recall figure);
    ``True`` averages each buyer's own share (macro average over the truth customers).
    """
    truth = _pairs(truth)
    if not truth.height:
        return 0.0
    top = _top(predictions, truth, k).select(CUSTOMER, ARTICLE, pl.lit(True).alias("_hit"))
    found = truth.join(top, on=[CUSTOMER, ARTICLE], how="left").with_columns(pl.col("_hit").fill_null(False))
    if not per_customer:
        return float(found["_hit"].mean())
    return float(found.group_by(CUSTOMER).agg(pl.col("_hit").mean())["_hit"].mean())


def week_truth(transactions: pl.DataFrame, start: dt.date, days: int = 7) -> pl.DataFrame:
    """Distinct (customer, article_id) bought in [start, start + days), sorted."""
    end = start + dt.timedelta(days=days)
    window = transactions.filter(pl.col("t_dat") >= start, pl.col("t_dat") < end)
    return _pairs(window).sort(CUSTOMER, ARTICLE)


@dataclass(frozen=True)
class Split:
    """Training rows before ``cutoff`` and the held-out rows of [cutoff, test_end] (inclusive)."""

    train: pl.DataFrame
    test: pl.DataFrame
    cutoff: dt.date
    test_end: dt.date

    @property
    def days(self) -> int:
        return (self.test_end - self.cutoff).days + 1

    @property
    def truth(self) -> pl.DataFrame:
        """Distinct (customer, article_id) pairs of the held-out window."""
        return _pairs(self.test).sort(CUSTOMER, ARTICLE)


def time_split(transactions: pl.DataFrame, end_date: dt.date | None = None, days: int = 7) -> Split:
    """Hold out the last ``days`` days up to ``end_date`` (default: the last t_dat), inclusive."""
    end: dt.date = transactions["t_dat"].max() if end_date is None else end_date  # type: ignore[assignment]
    cutoff = end - dt.timedelta(days=days - 1)
    date = pl.col("t_dat")
    return Split(
        train=transactions.filter(date < cutoff),
        test=transactions.filter(date >= cutoff, date <= end),
        cutoff=cutoff,
        test_end=end,
    )


def score(
    predictions: pl.DataFrame, transactions: pl.DataFrame, week_start: dt.date, days: int = 7, k: int = K
) -> dict[str, float | int]:
    """MAP@k, recall@k (pooled) and coverage of ``predictions`` on the week from ``week_start``.

    ``coverage`` is the share of scored (buying) customers that received any prediction.
    """
    truth = week_truth(transactions, week_start, days)
    buyers = truth.select(CUSTOMER).unique()
    predicted = predictions.select(pl.col(CUSTOMER).cast(pl.Int32)).unique()
    covered = buyers.join(predicted, on=CUSTOMER, how="semi").height
    return {
        f"map@{k}": map_at_k(predictions, truth, k),
        f"recall@{k}": recall_at_k(predictions, truth, k),
        "customers_scored": buyers.height,
        "customers_predicted": predicted.height,
        "coverage": covered / buyers.height if buyers.height else 0.0,
    }
