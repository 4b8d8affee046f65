"""Customer x article taste: how much of the customer's recent buying shares each of the article's attributes,
and how well the article sells among customers of the customer's age.

Purchases are weighted by recency (a purchase ``HALF_LIFE_DAYS`` before the cut-off counts half as much as
one on its eve), so a shift of taste shows within weeks. The age-band figures mirror the cold-start
source's bands, for every customer.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from hm_lib.features.article import ARTICLE_CATEGORICALS
from hm_lib.features.common import Tables, days_before, history
from hm_lib.schema import ARTICLE, CUSTOMER

HALF_LIFE_DAYS = 30.0
BAND_YEARS = 5
BAND_DAYS = 28
# The ranker's column for each attribute's share: t_<short name>.
TASTE_COLUMNS = {c: "t_" + c.removesuffix("_no").removesuffix("_code").removesuffix("_id")
                 for c in ARTICLE_CATEGORICALS}
_W, _BAND = "_w", "_band"


def taste_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Features of each (customer, article_id) of ``keys``, in their order, from the rows before `cutoff`.

    ``t_<attribute>``: the recency-weighted share of the customer's purchases with the article's value of
    that attribute (null for a customer without purchases); ``t_band_sales``: the article's sales to the
    customer's age band in the last ``BAND_DAYS`` days; ``t_band_lift``: its share of that band's sales over
    its share of everyone's (above 1: the band likes it more than most).

    The shares are array lookups rather than a join per attribute (a ranking shard at full size has millions of
    keys): each attribute's values are numbered, and the customer's weight per value is summed once.
    """
    if keys is None:
        raise ValueError("taste features describe given (customer, article_id) rows: pass keys")
    codes = data.articles.select(ARTICLE, *(pl.col(a).rank("dense").cast(pl.Int64).sub(1).fill_null(-1)
                                            for a in ARTICLE_CATEGORICALS))
    weight = (0.5 ** (days_before(cutoff) / HALF_LIFE_DAYS)).alias(_W)
    mine = (history(data.transactions, cutoff).join(keys.lazy().select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
            .select(CUSTOMER, ARTICLE, weight).join(codes.lazy(), on=ARTICLE, how="left").collect())
    wanted = keys.select(CUSTOMER, ARTICLE).join(codes, on=ARTICLE, how="left", maintain_order="left")
    customers = np.unique(wanted[CUSTOMER].to_numpy())
    row, at = np.searchsorted(customers, mine[CUSTOMER].to_numpy()), np.searchsorted(customers, wanted[CUSTOMER].to_numpy())
    w = mine[_W].to_numpy()
    total = np.bincount(row, weights=w, minlength=customers.size)[at]
    with np.errstate(invalid="ignore"):  # 0 / 0 for a customer without purchases: NaN, then null
        shares = [pl.Series(column, _sums_at(row, mine[attr].to_numpy(), w, at, wanted[attr].to_numpy()) / total,
                            dtype=pl.Float32, nan_to_null=True) for attr, column in TASTE_COLUMNS.items()]
    return wanted.select(CUSTOMER, ARTICLE, *shares).hstack(_band_sales(data, cutoff, keys).drop(CUSTOMER, ARTICLE))


def _sums_at(rows: np.ndarray, codes: np.ndarray, weights: np.ndarray, at_rows: np.ndarray, at_codes: np.ndarray
             ) -> np.ndarray:
    """For each (at_rows, at_codes) pair, the sum of ``weights`` over the equal (rows, codes) pairs (0 where none;
    a negative code matches nothing)."""
    width = int(max(codes.max(initial=-1), at_codes.max(initial=-1))) + 1
    known = codes >= 0
    pairs, which = np.unique(rows[known] * width + codes[known], return_inverse=True)
    if pairs.size == 0:
        return np.zeros(at_rows.size)
    sums = np.bincount(which, weights=weights[known], minlength=pairs.size)
    query = at_rows * width + at_codes
    found = np.minimum(np.searchsorted(pairs, query), pairs.size - 1)
    return np.where((at_codes >= 0) & (pairs[found] == query), sums[found], 0.0)


def _band_sales(data: Tables, cutoff: dt.date, keys: pl.DataFrame) -> pl.DataFrame:
    """``t_band_sales`` and ``t_band_lift`` of each key, in their order (nulls for a customer of unknown age)."""
    bands = data.customers.lazy().select(CUSTOMER, (pl.col("age") // BAND_YEARS).cast(pl.Int16).alias(_BAND))
    recent = history(data.transactions, cutoff, days=BAND_DAYS).select(CUSTOMER, ARTICLE).join(bands, on=CUSTOMER,
                                                                                                how="left")
    overall = recent.group_by(ARTICLE).agg(pl.len().alias("_all")).with_columns(
        (pl.col("_all") / pl.col("_all").sum()).alias("_all_share"))
    by_band = (recent.filter(pl.col(_BAND).is_not_null()).group_by(_BAND, ARTICLE).agg(pl.len().alias("t_band_sales"))
               .with_columns((pl.col("t_band_sales") / pl.col("t_band_sales").sum().over(_BAND)).alias("_band_share")))
    return (keys.lazy().select(CUSTOMER, ARTICLE).join(bands, on=CUSTOMER, how="left", maintain_order="left")
            .join(by_band, on=[_BAND, ARTICLE], how="left", maintain_order="left")
            .join(overall, on=ARTICLE, how="left", maintain_order="left")
            .select(CUSTOMER, ARTICLE,
                    pl.when(pl.col(_BAND).is_not_null()).then(pl.col("t_band_sales").fill_null(0))
                    .cast(pl.Int32).alias("t_band_sales"),
                    pl.when(pl.col(_BAND).is_not_null()).then(pl.col("_band_share").fill_null(0.0) / pl.col("_all_share"))
                    .cast(pl.Float32).alias("t_band_lift"))
            .collect())
