"""Customer features: age, activity, recency, prices, channels, category mix."""
from __future__ import annotations

import datetime as dt

import polars as pl

from hm_lib.features.common import Tables, days_before, history, restrict, with_timestamp

INDEX_GROUPS = {1: "ladies", 2: "divided", 3: "men", 4: "kids", 26: "sport"}


def customer_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per customer of the customers table (of ``keys`` when given; sorted), as known on the day
    before `cutoff`."""
    tx, customers, articles = data.transactions, data.customers, data.articles
    d = days_before(cutoff)
    past = history(tx, cutoff).join(articles.lazy().select("article_id", "index_group_no"), on="article_id", how="left")
    activity = past.group_by("customer").agg(
        pl.len().alias("c_rows_all"),
        (d <= 7).sum().alias("c_rows_7d"),
        (d <= 28).sum().alias("c_rows_28d"),
        pl.col("t_dat").n_unique().alias("c_active_days"),
        d.min().alias("c_days_since_last"),
        d.max().alias("c_days_since_first"),
        pl.col("price").mean().alias("c_price_mean"),
        pl.col("price").std().alias("c_price_std"),
        (pl.col("sales_channel_id") == 2).mean().alias("c_online_share"),
        *[(pl.col("index_group_no") == no).mean().alias(f"c_share_{name}") for no, name in INDEX_GROUPS.items()],
    )
    out = (customers.lazy()
           .select("customer", pl.col("age").alias("c_age"), pl.col("FN").fill_null(0).alias("c_fn"),
                   (pl.col("club_member_status") == "ACTIVE").fill_null(False).cast(pl.Int8).alias("c_club_active"))
           .join(activity, on="customer", how="left")
           .with_columns(pl.col("c_rows_all", "c_rows_7d", "c_rows_28d", "c_active_days").fill_null(0).cast(pl.Int32),
                         pl.col("c_days_since_last", "c_days_since_first").cast(pl.Int32),
                         pl.col("^c_share_.*$", "c_price_mean", "c_price_std", "c_online_share", "c_age").cast(pl.Float32))
           .sort("customer").collect())
    return with_timestamp(restrict(out, keys, "customer"), cutoff)
