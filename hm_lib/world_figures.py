"""Figures of a data set beside the real H&M data's published figures (docs/data_format.md).

Computed on the processed tables (t_dat, customer, article_id, price, sales_channel_id), so the
same code describes the real files and any synthetic world. The world report of the
generator and the EDA notebook show them; the calibration test checks the key ones.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.baselines import decayed_popularity_with_repurchase, popular_last_week
from hm_lib.evaluation import map_at_k, week_truth

REAL_ARTICLES = 105_542  # the real catalogue
TOP_SHARE = "previous week's top 0.1% of the catalogue (100 of 105k) covers last week's rows"
# figure -> published value of the real data; None: shown, not compared.
REAL: dict[str, float | None] = {
    "customers without any transaction": 0.0071,
    "customers buying in the last week": 0.0503,
    "customers with no purchase in the last 13 weeks": 0.50,
    "rows per buying customer: mean": 23.3,
    "rows per buying customer: median": 9,
    "rows per buying customer: Q1": 3,
    "rows per buying customer: Q3": 27,
    "rows per buying customer: p90": 60,
    "buyers with exactly one row": 0.0965,
    "rows per buyer in the last week: mean": 3.48,
    "rows per buyer in the last week: median": 2,
    "last-week buyers with no earlier purchase": 0.081,
    "basket (customer, day, channel) size: mean": 3.46,
    "basket (customer, day, channel) size: median": 2,
    "rows per distinct (customer, article) pair": 1.164,
    "weekly rows: max / mean": 636 / 303.2,
    "weekly rows: min / mean": 177 / 303.2,
    "last week's rows / mean weekly rows": 240.3 / 303.2,
    "articles sold per week / catalogue": 19688 / REAL_ARTICLES,
    "articles never sold": 995 / REAL_ARTICLES,
    "sales per sold article: median / mean": 65 / 304,
    "sales per sold article: Q3 / median": 286 / 65,
    "articles per product code: mean": 2.23,
    "product codes with more than one article": 0.49,
    "re-buy same article within 3 weeks": 0.066,
    "re-buy same product code within 3 weeks": 0.094,
    "previous week's top 12 covers last week's rows": 0.0235,
    "year-over-year correlation of weekly rows": 0.53,
    "sales channel 2 share": 0.704,
    "price: mean": 0.0278,
    "price: median": 0.0254,
    "age: mean": 36.4,
    "age: median": 32,
    "age missing": 0.0116,
    "club_member_status ACTIVE": 0.9275,
    "fashion_news_frequency NONE": 0.6397,
    "FN missing": 0.6524,
    "product group 'Garment Upper body' share of articles": 0.405,
    "product group 'Garment Lower body' share of articles": 0.188,
    "articles without an image": 442 / REAL_ARTICLES,
    # Difficulty (published analyses of the competition, ../shared/docs/data_format.md).
    TOP_SHARE: 0.12,
    "last week's sold articles not sold in the 30 days before": 0.08,
    "last week's (customer, article) pairs bought by that customer before": None,
    "MAP@12 last week: previous week's best-sellers": None,
    "MAP@12 last week: own last purchases, then best-sellers": 0.021,
}
TOLERANCE = 0.25


def _weeks_back(tx: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    return tx.with_columns(((pl.lit(end) - pl.col("t_dat")).dt.total_days() // 7).cast(pl.Int32).alias("wk"))


def _top_coverage(tx: pl.DataFrame, top: int) -> float:
    """Share of the last week's rows (wk 0) whose article is among the previous week's `top` best-sellers."""
    last = tx.filter(pl.col("wk") == 0)["article_id"]
    prev = tx.filter(pl.col("wk") == 1)["article_id"].value_counts(sort=True)["article_id"].head(top)
    return float(last.is_in(prev.implode()).mean()) if last.len() else float("nan")


def _rebuy(tx: pl.DataFrame, key: pl.Expr) -> float:
    """Of the buyers of week 4 before the end, the share buying the same key again in weeks 1-3."""
    ref = tx.filter(pl.col("wk") == 4).select("customer", key.alias("k")).unique()
    nxt = tx.filter(pl.col("wk").is_between(1, 3)).select("customer", key.alias("k")).unique()
    n = ref["customer"].n_unique()
    return ref.join(nxt, on=["customer", "k"])["customer"].n_unique() / n if n else float("nan")


def behaviour_figures(tx: pl.DataFrame, n_customers: int) -> dict[str, float]:
    """Figures of the transactions alone (customers, weeks, baskets, repurchase, channels, prices)."""
    end = tx["t_dat"].max()
    tx = _weeks_back(tx, end)
    f: dict[str, float] = {}
    last = tx.filter(pl.col("wk") == 0)
    f["customers without any transaction"] = 1 - tx["customer"].n_unique() / n_customers
    f["customers buying in the last week"] = last["customer"].n_unique() / n_customers
    f["customers with no purchase in the last 13 weeks"] = 1 - tx.filter(pl.col("wk") < 13)["customer"].n_unique() / n_customers
    per = tx.group_by("customer").len()["len"].to_numpy()
    f["rows per buying customer: mean"] = float(per.mean())
    for name, q in (("median", 50), ("Q1", 25), ("Q3", 75), ("p90", 90)):
        f[f"rows per buying customer: {name}"] = float(np.percentile(per, q))
    f["buyers with exactly one row"] = float((per == 1).mean())
    lw = last.group_by("customer").len()["len"].to_numpy()
    f["rows per buyer in the last week: mean"] = float(lw.mean()) if lw.size else float("nan")
    f["rows per buyer in the last week: median"] = float(np.median(lw)) if lw.size else float("nan")
    earlier = tx.filter(pl.col("wk") > 0).select("customer").unique()
    lb = last.select("customer").unique()
    f["last-week buyers with no earlier purchase"] = (lb.join(earlier, on="customer", how="anti").height / lb.height
                                                      if lb.height else float("nan"))
    bs = tx.group_by("customer", "t_dat", "sales_channel_id").len()["len"].to_numpy()
    f["basket (customer, day, channel) size: mean"] = float(bs.mean())
    f["basket (customer, day, channel) size: median"] = float(np.median(bs))
    f["rows per distinct (customer, article) pair"] = tx.height / tx.select("customer", "article_id").unique().height
    weekly = tx.filter(pl.col("wk") < 104).group_by("wk").len().sort("wk")["len"].to_numpy()
    f["weekly rows: max / mean"] = float(weekly.max() / weekly.mean())
    f["weekly rows: min / mean"] = float(weekly.min() / weekly.mean())
    f["last week's rows / mean weekly rows"] = float(weekly[0] / weekly.mean())
    if weekly.size >= 104:
        f["year-over-year correlation of weekly rows"] = float(np.corrcoef(weekly[:52], weekly[52:104])[0, 1])
    f["re-buy same article within 3 weeks"] = _rebuy(tx, pl.col("article_id"))
    f["re-buy same product code within 3 weeks"] = _rebuy(tx, pl.col("article_id") // 1000)
    f["previous week's top 12 covers last week's rows"] = _top_coverage(tx, 12)
    f["sales channel 2 share"] = float((tx["sales_channel_id"] == 2).mean())
    f["price: mean"] = float(tx["price"].mean())
    f["price: median"] = float(tx["price"].median())
    return f


def catalogue_figures(tx: pl.DataFrame, articles: pl.DataFrame, images_dir: Path | None) -> dict[str, float]:
    """Figures of the articles and their sales."""
    end = tx["t_dat"].max()
    tx = _weeks_back(tx, end)
    f: dict[str, float] = {}
    n = articles.height
    f["articles sold per week / catalogue"] = float(
        tx.filter(pl.col("wk") < 10).group_by("wk").agg(pl.col("article_id").n_unique())["article_id"].mean() / n)
    sales = tx.group_by("article_id").len()["len"].to_numpy()
    f["articles never sold"] = 1 - sales.size / n
    f["sales per sold article: median / mean"] = float(np.median(sales) / sales.mean())
    f["sales per sold article: Q3 / median"] = float(np.percentile(sales, 75) / np.median(sales))
    pc = articles.group_by("product_code").len()["len"].to_numpy()
    f["articles per product code: mean"] = float(pc.mean())
    f["product codes with more than one article"] = float((pc > 1).mean())
    for g in ("Garment Upper body", "Garment Lower body"):
        f[f"product group '{g}' share of articles"] = float((articles["product_group_name"] == g).mean())
    if images_dir is not None and images_dir.is_dir():
        have = sum((images_dir.parent / schema.image_relpath(a)).exists() for a in articles["article_id"].to_list())
        f["articles without an image"] = 1 - have / n
    return f


def difficulty_figures(tx: pl.DataFrame, n_articles: int) -> dict[str, float]:
    """How far simple retrieval reaches in the last week: the previous week's best-sellers (the same share of
    the catalogue as the real data's top 100), new arrivals, repurchases."""
    end = tx["t_dat"].max()
    tx = _weeks_back(tx, end)
    last = tx.filter(pl.col("wk") == 0)
    if last.is_empty():
        return {}
    earlier = tx.filter(pl.col("wk") > 0)
    recent = earlier.filter(pl.col("t_dat") >= end - dt.timedelta(days=36)).select("article_id").unique()
    sold = last.select("article_id").unique()
    pairs = last.select("customer", "article_id").unique()
    before = earlier.select("customer", "article_id").unique()
    return {
        TOP_SHARE: _top_coverage(tx, max(1, round(100 * n_articles / REAL_ARTICLES))),
        "last week's sold articles not sold in the 30 days before":
            sold.join(recent, on="article_id", how="anti").height / sold.height,
        "last week's (customer, article) pairs bought by that customer before": pairs.join(
            before, on=["customer", "article_id"], how="semi").height / pairs.height,
    }


def customer_figures(customers: pl.DataFrame) -> dict[str, float]:
    return {
        "age: mean": float(customers["age"].mean()),
        "age: median": float(customers["age"].median()),
        "age missing": float(customers["age"].is_null().mean()),
        "club_member_status ACTIVE": float((customers["club_member_status"] == "ACTIVE").fill_null(False).mean()),
        "fashion_news_frequency NONE": float((customers["fashion_news_frequency"] == "NONE").fill_null(False).mean()),
        "FN missing": float(customers["FN"].is_null().mean()),
    }


def baseline_figures(tx: pl.DataFrame) -> dict[str, float]:
    """MAP@12 of the two simple baselines on the last 7 days, trained on the rows before."""
    end = tx["t_dat"].max()
    cutoff = end - dt.timedelta(days=6)
    truth = week_truth(tx, cutoff, 7)
    train = tx.filter(pl.col("t_dat") < cutoff)
    buyers = truth.select("customer").unique()
    return {
        "MAP@12 last week: previous week's best-sellers": map_at_k(popular_last_week(train, cutoff, buyers), truth),
        "MAP@12 last week: own last purchases, then best-sellers": map_at_k(
            decayed_popularity_with_repurchase(train, cutoff, buyers), truth),
    }


def world_figures(transactions: pl.DataFrame, customers: pl.DataFrame, articles: pl.DataFrame,
                  images_dir: Path | None = None) -> dict[str, float]:
    """All figures of REAL for a data set, in REAL's order."""
    f = {**behaviour_figures(transactions, customers.height), **catalogue_figures(transactions, articles, images_dir),
         **customer_figures(customers), **difficulty_figures(transactions, articles.height),
         **baseline_figures(transactions)}
    return {k: f[k] for k in REAL if k in f}


def compare(figures: dict[str, float], tolerance: float = TOLERANCE) -> pl.DataFrame:
    """One row per figure: value, real value, relative gap and whether it is within the band."""
    rows = []
    for name, real in REAL.items():
        value = figures.get(name, float("nan"))
        ok = None if real is None or np.isnan(value) else abs(value - real) <= tolerance * abs(real)
        rows.append({"figure": name, "value": value, "real": real,
                     "ratio": None if real in (None, 0) else value / real, "within": ok})
    return pl.DataFrame(rows, schema={"figure": pl.Utf8, "value": pl.Float64, "real": pl.Float64,
                                      "ratio": pl.Float64, "within": pl.Boolean})
