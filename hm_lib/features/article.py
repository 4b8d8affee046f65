"""Article features: recent sales, trend, same weeks last year, prices, age, categories."""
from __future__ import annotations

import datetime as dt

import polars as pl

from hm_lib.features.common import Tables, days_before, history, restrict, with_timestamp

# Integer-coded attributes given to LightGBM as categoricals.
ARTICLE_CATEGORICALS = ("product_type_no", "graphical_appearance_no", "colour_group_code", "perceived_colour_master_id",
                        "department_no", "index_group_no", "section_no", "garment_group_no")


def article_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per article of the catalogue (of ``keys`` when given; sorted by id), as known on the day before
    `cutoff`."""
    tx, articles = data.transactions, data.articles
    past = history(tx, cutoff)
    d = days_before(cutoff)
    sales = past.group_by("article_id").agg(
        (d <= 1).sum().alias("a_sales_1d"),
        (d <= 7).sum().alias("a_sales_7d"),
        ((d > 7) & (d <= 14)).sum().alias("a_sales_prev_7d"),
        (d <= 28).sum().alias("a_sales_28d"),
        pl.len().alias("a_sales_all"),
        pl.col("customer").filter(d <= 28).n_unique().alias("a_buyers_28d"),
        pl.col("price").filter(d <= 28).mean().alias("a_price_28d"),
        pl.col("price").mean().alias("a_price_mean"),
        (pl.col("price").max() - pl.col("price").min()).alias("a_price_range"),
        (pl.col("sales_channel_id") == 2).mean().alias("a_online_share"),
        d.min().alias("a_days_since_last_sale"),
        d.max().alias("a_days_since_first_sale"),
    )
    # The 7 days one year before the target week (the week starting at the cut-off).
    year_ago = cutoff - dt.timedelta(days=364)
    last_year = (tx.lazy().filter((pl.col("t_dat") >= year_ago) & (pl.col("t_dat") < year_ago + dt.timedelta(days=7)))
                 .group_by("article_id").agg(pl.len().alias("a_sales_last_year")))
    counts = ("a_sales_1d", "a_sales_7d", "a_sales_prev_7d", "a_sales_28d", "a_sales_all", "a_buyers_28d",
              "a_sales_last_year")
    out = (articles.lazy().select("article_id", *ARTICLE_CATEGORICALS)
           .join(sales, on="article_id", how="left").join(last_year, on="article_id", how="left")
           .with_columns(pl.col(c).fill_null(0).cast(pl.Int32) for c in counts)
           .with_columns(((pl.col("a_sales_7d") + 1) / (pl.col("a_sales_prev_7d") + 1)).cast(pl.Float32).alias("a_trend"),
                         pl.col("a_price_28d", "a_price_mean", "a_price_range", "a_online_share").cast(pl.Float32),
                         pl.col("a_days_since_last_sale", "a_days_since_first_sale").cast(pl.Int32))
           .sort("article_id").collect())
    return with_timestamp(restrict(out, keys, "article_id"), cutoff)
