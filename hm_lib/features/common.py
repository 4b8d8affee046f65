"""Helpers shared by the feature families."""
from __future__ import annotations

import datetime as dt

import polars as pl

EVENT_TIMESTAMP = "event_timestamp"


def history(tx: pl.DataFrame | pl.LazyFrame, cutoff: dt.date, days: int | None = None) -> pl.LazyFrame:
    """Rows strictly before `cutoff` (and within `days` of it when given)."""
    lf = tx.lazy().filter(pl.col("t_dat") < cutoff)
    if days is not None:
        lf = lf.filter(pl.col("t_dat") >= cutoff - dt.timedelta(days=days))
    return lf


def days_before(cutoff: dt.date, column: str = "t_dat") -> pl.Expr:
    """Whole days between a date column and the cut-off (1 = the day before)."""
    return (pl.lit(cutoff) - pl.col(column)).dt.total_days()


def with_timestamp(df: pl.DataFrame, cutoff: dt.date) -> pl.DataFrame:
    """Add the feature-store event timestamp (midnight of the cut-off, UTC)."""
    ts = dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.timezone.utc)
    return df.with_columns(pl.lit(ts).dt.cast_time_unit("us").alias(EVENT_TIMESTAMP))
