"""Customer x article taste: how much of the customer's recent buying shares each of the article's attributes,
and how well the article sells among customers of the customer's age.

Purchases are weighted by recency (a purchase ``HALF_LIFE_DAYS`` before the cut-off counts half as much as
one on its eve), so a shift of taste shows within weeks. The age-band figures mirror the cold-start
source's bands, for every customer.
"""
from __future__ import annotations

import datetime as dt

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
_W, _TOTAL, _BAND = "_w", "_total", "_band"


def taste_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Features of each (customer, article_id) of ``keys`` (sorted by both), from the rows before `cutoff`.

    ``t_<attribute>``: the recency-weighted share of the customer's purchases with the article's value of
    that attribute (null for a customer without purchases); ``t_band_sales``: the article's sales to the
    customer's age band in the last ``BAND_DAYS`` days; ``t_band_lift``: its share of that band's sales over
    its share of everyone's (above 1: the band likes it more than most).
    """
    if keys is None:
        raise ValueError("taste features describe given (customer, article_id) rows: pass keys")
    attrs = data.articles.lazy().select(ARTICLE, *ARTICLE_CATEGORICALS)
    weight = (0.5 ** (days_before(cutoff) / HALF_LIFE_DAYS)).alias(_W)
    mine = (history(data.transactions, cutoff).join(keys.lazy().select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
            .select(CUSTOMER, ARTICLE, weight).join(attrs, on=ARTICLE, how="left"))
    out = (keys.lazy().select(CUSTOMER, ARTICLE).join(attrs, on=ARTICLE, how="left")
           .join(mine.group_by(CUSTOMER).agg(pl.col(_W).sum().alias(_TOTAL)), on=CUSTOMER, how="left"))
    for attr, column in TASTE_COLUMNS.items():
        by_value = mine.group_by(CUSTOMER, attr).agg(pl.col(_W).sum().alias(column))
        out = out.join(by_value, on=[CUSTOMER, attr], how="left")
    shares = [(pl.col(c).fill_null(0.0) / pl.col(_TOTAL)).cast(pl.Float32).alias(c) for c in TASTE_COLUMNS.values()]
    return (out.select(CUSTOMER, ARTICLE, *shares).join(_band_sales(data, cutoff, keys), on=[CUSTOMER, ARTICLE],
                                                        how="left")
            .sort(CUSTOMER, ARTICLE).collect())


def _band_sales(data: Tables, cutoff: dt.date, keys: pl.DataFrame) -> pl.LazyFrame:
    """``t_band_sales`` and ``t_band_lift`` of each key (nulls for a customer of unknown age)."""
    bands = data.customers.lazy().select(CUSTOMER, (pl.col("age") // BAND_YEARS).cast(pl.Int16).alias(_BAND))
    recent = history(data.transactions, cutoff, days=BAND_DAYS).select(CUSTOMER, ARTICLE).join(bands, on=CUSTOMER,
                                                                                                how="left")
    overall = recent.group_by(ARTICLE).agg(pl.len().alias("_all")).with_columns(
        (pl.col("_all") / pl.col("_all").sum()).alias("_all_share"))
    by_band = (recent.filter(pl.col(_BAND).is_not_null()).group_by(_BAND, ARTICLE).agg(pl.len().alias("t_band_sales"))
               .with_columns((pl.col("t_band_sales") / pl.col("t_band_sales").sum().over(_BAND)).alias("_band_share")))
    return (keys.lazy().select(CUSTOMER, ARTICLE).join(bands, on=CUSTOMER, how="left")
            .join(by_band, on=[_BAND, ARTICLE], how="left").join(overall, on=ARTICLE, how="left")
            .select(CUSTOMER, ARTICLE,
                    pl.when(pl.col(_BAND).is_not_null()).then(pl.col("t_band_sales").fill_null(0))
                    .cast(pl.Int32).alias("t_band_sales"),
                    pl.when(pl.col(_BAND).is_not_null()).then(pl.col("_band_share").fill_null(0.0) / pl.col("_all_share"))
                    .cast(pl.Float32).alias("t_band_lift")))
