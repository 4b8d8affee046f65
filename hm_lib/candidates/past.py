"""What candidate sources may read: the sales before a cut-off, the catalogue and the customers' ages.

:class:`Past` is the only door from the data to a source. It keeps the transactions strictly
before the cut-off (nothing on or after it is ever handed on), checks that the cut-off makes
sense for the data, and numbers the articles 0..A-1 (``pos``, in article_id order) so that
sources can build sparse matrices.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl

from hm_lib.data import Dataset
from hm_lib.errors import InputError
from hm_lib.schema import ARTICLE, CUSTOMER

POS = "pos"  # article position 0..A-1
# The catalogue's descriptive codes a source may read (the first two are required; the others are kept when the
# articles table has them, as the Kaggle file does).
ATTRIBUTES = ("product_code", "product_type_no", "graphical_appearance_no", "colour_group_code",
              "perceived_colour_master_id", "department_no", "index_group_no", "section_no", "garment_group_no")
WEEK = dt.timedelta(days=7)
LATEST_AFTER_DATA = dt.timedelta(days=8)  # a cut-off may lie up to a week after the day after the data
T = TypeVar("T")


class CutoffError(InputError):
    """The cut-off leaves no usable history (before the data starts, or long after it ends)."""


class SparseWeekWarning(UserWarning):
    """The 7 days before the cut-off have no sales: 'last week' is the last 7 days that had some."""


@dataclass(frozen=True)
class Past:
    """Sales strictly before ``cutoff`` (t_dat, customer, article_id, pos), articles, customer ages.

    ``week_end`` ends the "last week" window of the sources: the cut-off, or the day after the
    last sale when the 7 days before the cut-off have none (a documented fallback, with a warning).
    """

    cutoff: dt.date
    week_end: dt.date
    transactions: pl.DataFrame
    articles: pl.DataFrame   # pos (0..A-1), article_id, then the ATTRIBUTES it has, by article_id
    customers: pl.DataFrame  # customer, age (Float32, null when unknown)
    n_customers: int         # rows of every customer-indexed matrix
    # photo descriptors, one row per article in pos order (hm_lib.candidates.photos); None without photos
    photos: np.ndarray | None = field(default=None, compare=False, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, transactions: pl.DataFrame, cutoff: dt.date, articles: pl.DataFrame,
              customers: pl.DataFrame) -> Past:
        """Keep the rows before ``cutoff``; raise :class:`CutoffError` when the cut-off is unusable."""
        before = transactions.lazy().filter(pl.col("t_dat") < cutoff)
        rows = before.select("t_dat", CUSTOMER, ARTICLE).collect()
        first, last = rows.select(pl.col("t_dat").min().alias("first"), pl.col("t_dat").max()).row(0)
        if first is None:
            raise CutoffError(f"cut-off {cutoff} is on or before the first day of data: no sale lies "
                              "before it; choose a later cut-off")
        if cutoff > last + LATEST_AFTER_DATA:
            raise CutoffError(f"cut-off {cutoff} is more than a week after the data ends ({last}): the "
                              f"latest usable cut-off is {last + LATEST_AFTER_DATA}")
        week_end = cutoff
        if last < cutoff - WEEK:
            week_end = last + dt.timedelta(days=1)
            warnings.warn(f"no sales in the 7 days before the cut-off {cutoff}; last week's sources use the "
                          f"7 days before {week_end} instead", SparseWeekWarning, stacklevel=2)
        catalogue = articles.select(pl.col(ARTICLE).cast(pl.Int32), pl.col("product_code").cast(pl.Int32),
                                    pl.col("product_type_no").cast(pl.Int32),
                                    *(pl.col(c).cast(pl.Int32) for c in ATTRIBUTES[2:] if c in articles.columns)
                                    ).sort(ARTICLE)
        catalogue = catalogue.with_row_index(POS).with_columns(pl.col(POS).cast(pl.Int32))
        ids = catalogue[ARTICLE]
        pos = ids.search_sorted(rows[ARTICLE]).cast(pl.Int32)
        known = (pos < ids.len()) & (ids.gather(pos.clip(0, max(ids.len() - 1, 0))) == rows[ARTICLE])
        if not known.all():
            missing = rows.filter(~known)[ARTICLE][0]
            raise ValueError(f"article {missing} of the transactions is not in the articles table")
        ages = customers.select(pl.col(CUSTOMER).cast(pl.Int32), pl.col("age").cast(pl.Float32))
        largest = pl.concat([ages[CUSTOMER], rows[CUSTOMER]]).to_frame().select(pl.col(CUSTOMER).max()).item()
        return cls(cutoff=cutoff, week_end=week_end, transactions=rows.with_columns(pos.alias(POS)),
                   articles=catalogue, customers=ages, n_customers=1 + (largest or 0))

    @classmethod
    def from_dataset(cls, ds: Dataset, cutoff: dt.date) -> Past:
        return cls.build(ds.transactions, cutoff, ds.articles, ds.customers)

    def with_photos(self, photos: np.ndarray) -> Past:
        """This past with photo descriptors (one row per article, in pos order)."""
        if photos.ndim != 2 or photos.shape[0] != self.n_articles:
            raise ValueError(f"photo descriptors must have one row per article ({self.n_articles}), "
                             f"not shape {photos.shape}")
        return dataclasses.replace(self, photos=photos, _memo={})

    @property
    def n_articles(self) -> int:
        return self.articles.height

    @property
    def first_day(self) -> dt.date:
        return self.transactions["t_dat"].min()  # type: ignore[return-value]

    def window(self, days: int, end: dt.date | None = None) -> pl.DataFrame:
        """Sales of the ``days`` days before ``end`` (default: the cut-off): [end - days, end)."""
        end = self.cutoff if end is None else min(end, self.cutoff)
        date = pl.col("t_dat")
        return self.transactions.filter(date >= end - dt.timedelta(days=days), date < end)

    def last_week(self) -> pl.DataFrame:
        """Sales of the 7 days before ``week_end``."""
        return self.window(7, self.week_end)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per Past and key (work shared by several sources)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
