"""Customer x article repurchase rhythm: how regularly the customer has bought the article and its product code,
and whether the next purchase is due."""
from __future__ import annotations

import datetime as dt

import polars as pl

from hm_lib.features.common import Tables, days_before, history
from hm_lib.schema import ARTICLE, CUSTOMER

_FIRST, _LAST, _DAYS = "_first", "_last", "_days"


def rhythm_features(data: Tables, cutoff: dt.date, keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Features of each (customer, article_id) of ``keys``, in their order, from the rows before `cutoff`.

    ``r_article_gap`` / ``r_code_gap``: the mean days between the customer's purchase days of the article / of
    its product code (null below two such days); ``r_article_due`` / ``r_code_due``: the days since the last of
    them over that gap (about 1 or more: a repurchase is due).
    """
    if keys is None:
        raise ValueError("rhythm features describe given (customer, article_id) rows: pass keys")
    codes = data.articles.lazy().select(ARTICLE, "product_code")
    mine = (history(data.transactions, cutoff).join(keys.lazy().select(CUSTOMER).unique(), on=CUSTOMER, how="semi")
            .select(CUSTOMER, ARTICLE, days_before(cutoff).alias("_d")).join(codes, on=ARTICLE, how="left"))
    out = keys.lazy().select(CUSTOMER, ARTICLE).join(codes, on=ARTICLE, how="left", maintain_order="left")
    for key, name in ((ARTICLE, "article"), ("product_code", "code")):
        rhythm = (mine.group_by(CUSTOMER, key)
                  .agg(pl.col("_d").max().alias(_FIRST), pl.col("_d").min().alias(_LAST),
                       pl.col("_d").n_unique().alias(_DAYS))
                  .filter(pl.col(_DAYS) >= 2)
                  .select(CUSTOMER, key, ((pl.col(_FIRST) - pl.col(_LAST)) / (pl.col(_DAYS) - 1)).alias(f"r_{name}_gap"),
                          pl.col(_LAST).alias(f"_last_{name}")))
        out = out.join(rhythm, on=[CUSTOMER, key], how="left", maintain_order="left").with_columns(
            (pl.col(f"_last_{name}") / pl.col(f"r_{name}_gap")).alias(f"r_{name}_due"))
    columns = ("r_article_gap", "r_article_due", "r_code_gap", "r_code_due")
    return out.select(CUSTOMER, ARTICLE, *(pl.col(c).cast(pl.Float32) for c in columns)).collect()
