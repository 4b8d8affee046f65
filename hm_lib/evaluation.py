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


def week_customers(transactions: pl.DataFrame, start: dt.date, days: int = 7) -> pl.DataFrame:
    """The distinct customers who bought in [start, start + days), sorted (one column)."""
    return week_truth(transactions, start, days).select(CUSTOMER).unique().sort(CUSTOMER)


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


# Candidate generation (hm_lib.candidates): a wide frame customer, article_id, then <source>_score
# and <source>_rank per source, a customer's rows in the union's order.
_RANK_SUFFIX = "_rank"
UNION = "union"


def candidate_sources(candidates: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The sources of a candidates frame: the names of its ``<source>_rank`` columns, in order."""
    names = candidates.collect_schema().names()
    return [c.removesuffix(_RANK_SUFFIX) for c in names if c.endswith(_RANK_SUFFIX)]


def _union_ranked(candidates: pl.DataFrame | pl.LazyFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """The truth customers' candidate rows, with the union's rank (row order within the customer)."""
    return (
        candidates.lazy()
        .join(truth.lazy().select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(CUSTOMER).alias(RANK))
        .collect()
    )


def candidate_report(candidates: pl.DataFrame | pl.LazyFrame, truth: pl.DataFrame, k: int = K
                     ) -> pl.DataFrame:
    """How well each candidate source, and their union, covers the purchases of the truth week.

    One row per source, then ``union``: ``customers`` served (given at least one candidate),
    ``candidates_per_customer`` (its rows / every customer of ``candidates``), ``hits`` (truth
    pairs proposed), ``recall`` (hits / truth pairs, pooled over the buyers), and ``map@k`` of
    the source ranked alone by its own rank (the union: by its row order). ``truth`` holds the
    (customer, article_id) pairs bought in the week.
    """
    truth = _pairs(truth)
    sources = candidate_sources(candidates)
    lf = candidates.lazy()
    proposed = {s: pl.col(f"{s}{_RANK_SUFFIX}").is_not_null() for s in sources}
    sizes = lf.select(
        pl.col(CUSTOMER).n_unique().alias(f"{UNION}_customers"), pl.len().alias(f"{UNION}_rows"),
        *(pl.col(CUSTOMER).filter(p).n_unique().alias(f"{s}_customers") for s, p in proposed.items()),
        *(p.sum().alias(f"{s}_rows") for s, p in proposed.items()),
    ).collect().row(0, named=True)
    everyone = max(sizes[f"{UNION}_customers"], 1)
    ranked = _union_ranked(candidates, truth)
    rows = []
    for name in [*sources, UNION]:
        rank = pl.col(RANK) if name == UNION else pl.col(f"{name}{_RANK_SUFFIX}")
        predictions = ranked.filter(rank.is_not_null()).select(CUSTOMER, ARTICLE, rank.alias(RANK))
        recall = recall_at_k(predictions, truth)
        rows.append({"source": name, "customers": sizes[f"{name}_customers"],
                     "candidates_per_customer": sizes[f"{name}_rows"] / everyone,
                     "hits": round(recall * truth.height), "recall": recall,
                     f"map@{k}": map_at_k(predictions, truth, k)})
    return pl.DataFrame(rows)


def hits_first(candidates: pl.DataFrame | pl.LazyFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """The best list a ranker could make of each buyer's candidates: the ones they bought, ranked first.

    Its MAP@k is the ceiling of any ordering of these candidates on this week (what the real data allows in
    place of an oracle). ``truth`` holds the (customer, article_id) pairs bought in the week.
    """
    bought = candidates.lazy().select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32)).unique().join(
        _pairs(truth).lazy(), on=[CUSTOMER, ARTICLE], how="semi").sort(CUSTOMER, ARTICLE).collect()
    return bought.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(CUSTOMER).alias(RANK))


def candidate_recall_curve(candidates: pl.DataFrame | pl.LazyFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Recall of the union cut to each customer's first n candidates, for n = 1 .. the longest list.

    Columns: n, candidates_per_customer (mean of min(n, list length) over every customer), recall.
    """
    truth = _pairs(truth)
    lengths = candidates.lazy().group_by(CUSTOMER).len().collect()["len"]
    longest = lengths.to_frame().select(pl.col("len").max()).item() or 0
    found = _union_ranked(candidates, truth).join(truth, on=[CUSTOMER, ARTICLE], how="semi")[RANK]
    steps = pl.DataFrame({"n": pl.Series(range(1, longest + 1), dtype=pl.Int32)})
    hits = found.value_counts(name="hits").rename({RANK: "n"})
    ends = lengths.cast(pl.Int32).value_counts(name="ends").rename({"len": "n"})
    # min(n, length) summed over customers = sum over m <= n of the customers with length >= m
    return steps.join(hits, on="n", how="left").join(ends, on="n", how="left").fill_null(0).sort("n").select(
        "n",
        (pl.col("ends").reverse().cum_sum().reverse().cum_sum() / max(lengths.len(), 1))
        .alias("candidates_per_customer"),
        (pl.col("hits").cum_sum() / max(truth.height, 1)).alias("recall"),
    )


def candidate_figures(report: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """A :func:`candidate_report` as {source: {figure: value}} (for validation.json)."""
    return {row.pop("source"): row for row in report.to_dicts()}
