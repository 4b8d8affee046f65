"""The ranker's rows: candidates labelled by a week's purchases and joined with every feature family.

Training rows are the candidates of past weeks, labelled by that week's purchases, with the week's cut-off
in ``WEEK``; customers without any positive candidate are left out (they carry no ranking signal). Every frame is
sorted by week (where it has one), customer and article, so a customer's candidates of one week form one
consecutive group: the ranker learns to order a week's candidates against each other, not against another
week's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.features import entity_families, pair_families
from hm_lib.features.common import EVENT_TIMESTAMP, Tables

LABEL = "label"
WEEK = "week"
KEYS = (schema.CUSTOMER, schema.ARTICLE)


def label(candidates: pl.DataFrame, transactions: pl.DataFrame, cutoff: dt.date, days: int = 7) -> pl.DataFrame:
    """Candidates with `label` = 1 when the customer bought the article in [cutoff, cutoff + days)."""
    bought = (transactions.lazy().filter((pl.col("t_dat") >= cutoff) & (pl.col("t_dat") < cutoff + dt.timedelta(days=days)))
              .select(*KEYS).unique().with_columns(pl.lit(1, dtype=pl.Int8).alias(LABEL)))
    return (candidates.lazy().join(bought, on=list(KEYS), how="left")
            .with_columns(pl.col(LABEL).fill_null(0)).collect())


@dataclass(frozen=True)
class FeatureTables:
    """The entity families' tables of one cut-off (family name -> table), computed once, joined to every shard."""

    cutoff: dt.date
    tables: dict[str, pl.DataFrame]

    @classmethod
    def build(cls, data: Tables, cutoff: dt.date) -> FeatureTables:
        return cls(cutoff, {f.name: f.build(data, cutoff, None) for f in entity_families()})


def assemble(data: Tables, tables: FeatureTables, candidates: pl.DataFrame) -> pl.DataFrame:
    """Candidates (with their source columns) and every feature family's columns, sorted by customer and
    article: the pair families' features first, then the entity families' (in :data:`~hm_lib.features.FAMILIES`
    order). A pair family describes the sorted candidates row by row, so its columns are put beside them
    (no join, no sort of the wide frame)."""
    frame = candidates.sort(*KEYS)
    keys = frame.select(*KEYS)
    pairs = [_aligned(family.name, family.build(data, tables.cutoff, keys), keys) for family in pair_families()]
    wide = pl.concat([frame, *pairs], how="horizontal").lazy()
    for family in entity_families():
        wide = wide.join(tables.tables[family.name].lazy().drop(EVENT_TIMESTAMP), on=family.key, how="left",
                         maintain_order="left")
    return wide.collect()


def _aligned(name: str, part: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """A pair family's table without its keys, once checked to hold one row per key in ``keys``' order."""
    if not part.select(*KEYS).equals(keys):
        raise ValueError(f"the {name} feature family must give one row per (customer, article_id) it is given, "
                         "in their order")
    return part.drop(*KEYS)


def feature_columns(frame: pl.DataFrame) -> list[str]:
    """The columns a ranker reads: all but the keys, the label and the event timestamp."""
    return [c for c in frame.columns if c not in (*KEYS, LABEL, WEEK, EVENT_TIMESTAMP)]


def order(frame: pl.DataFrame) -> tuple[str, ...]:
    """The columns the frame is sorted by: week (on training rows), customer, article."""
    return (WEEK, *KEYS) if WEEK in frame.columns else KEYS


def groups(frame: pl.DataFrame) -> np.ndarray:
    """Sizes of the ranking groups: one per customer (and week, on training rows), in the frame's order."""
    return frame.group_by(order(frame)[:-1], maintain_order=True).len()["len"].to_numpy()


def with_positives(frame: pl.DataFrame) -> pl.DataFrame:
    """Only the groups (customer, and week where there is one) with at least one positive candidate, in
    :func:`order`: ``frame`` itself when it is so already (no copy: the ranker's fit on the training weeks is the
    ranking stage's peak of memory, and the stage gives them in order)."""
    group = list(order(frame)[:-1])
    best = frame.group_by(group).agg(pl.col(LABEL).max())
    if best[LABEL].min() > 0 and _sorted(frame):
        return frame
    keep = best.filter(pl.col(LABEL) > 0)
    return frame.join(keep.select(group), on=group, how="semi").sort(*order(frame))


def _sorted(frame: pl.DataFrame) -> bool:
    """Whether the rows are in :func:`order`."""
    later = None  # rows whose key columns so far put them after the row before: None, then an expression
    for column in reversed(order(frame)):
        step = pl.col(column).to_physical().cast(pl.Int64).diff()
        later = step >= 0 if later is None else (step > 0) | ((step == 0) & later)
    return bool(frame.select(later.fill_null(True).all()).item())


def top_k(frame: pl.DataFrame, scores: np.ndarray, k: int = schema.K) -> pl.DataFrame:
    """The k best-scored rows of each customer (ties: smaller article id) as a long predictions frame."""
    return (frame.select(*KEYS).with_columns(pl.Series(schema.SCORE, scores, dtype=pl.Float32))
            .sort([schema.CUSTOMER, schema.SCORE, schema.ARTICLE], descending=[False, True, False])
            .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(schema.CUSTOMER).alias(schema.RANK))
            .filter(pl.col(schema.RANK) <= k))
