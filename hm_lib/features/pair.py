"""Customer x article features: the customer's own history with the article, its code and its type."""
from __future__ import annotations

import datetime as dt

import polars as pl

from hm_lib.features.common import Tables, days_before, history


def pair_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Features of each (customer, article_id) of ``keys``, in their order, from the rows before `cutoff`.

    Times bought and days since, for the article, its product code and its product type; the
    type's share of the customer's purchases; the article's recent price against the customer's.
    """
    if keys is None:
        raise ValueError("customer x article features describe given (customer, article_id) rows: pass keys")
    tx, pairs = data.transactions, keys
    d = days_before(cutoff)
    codes = data.articles.lazy().select("article_id", "product_code", "product_type_no")
    mine = (history(tx, cutoff).join(pairs.lazy().select("customer").unique(), on="customer", how="semi")
            .join(codes, on="article_id", how="left").with_columns(d.alias("_d")))
    totals = mine.group_by("customer").agg(pl.len().alias("_n"), pl.col("price").mean().alias("_cprice"))
    by_article = mine.group_by("customer", "article_id").agg(pl.len().alias("x_article_count"),
                                                             pl.col("_d").min().alias("x_article_days"))
    by_code = mine.group_by("customer", "product_code").agg(pl.len().alias("x_code_count"),
                                                            pl.col("_d").min().alias("x_code_days"))
    by_type = mine.group_by("customer", "product_type_no").agg(pl.len().alias("_type_n"),
                                                               pl.col("_d").min().alias("x_type_days"))
    price = (history(tx, cutoff, days=28).group_by("article_id").agg(pl.col("price").mean().alias("_aprice")))
    joins = ((codes, ["article_id"]), (by_article, ["customer", "article_id"]), (by_code, ["customer", "product_code"]),
             (by_type, ["customer", "product_type_no"]), (totals, ["customer"]), (price, ["article_id"]))
    out = pairs.lazy().select("customer", "article_id")
    for table, on in joins:
        out = out.join(table, on=on, how="left", maintain_order="left")
    return out.select("customer", "article_id",
                      pl.col("x_article_count", "x_code_count").fill_null(0).cast(pl.Int16),
                      pl.col("x_article_days", "x_code_days", "x_type_days").cast(pl.Int32),
                      (pl.col("_type_n").fill_null(0) / pl.col("_n")).cast(pl.Float32).alias("x_type_share"),
                      (pl.col("_aprice") / pl.col("_cprice")).cast(pl.Float32).alias("x_price_ratio")).collect()
