"""Plots of the exploratory notebook (01_eda): each takes processed tables, returns a Figure."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from hm_lib import schema


def weekly_sales(tx: pl.DataFrame) -> Figure:
    """Rows per week, by sales channel (1 = store, 2 = online)."""
    weekly = (tx.group_by_dynamic("t_dat", every="1w", group_by="sales_channel_id").agg(pl.len().alias("rows"))
              .sort("t_dat"))
    fig, ax = plt.subplots(figsize=(11, 3.5))
    for ch, name in ((1, "store (1)"), (2, "online (2)")):
        part = weekly.filter(pl.col("sales_channel_id") == ch)
        ax.plot(part["t_dat"].to_list(), part["rows"].to_list(), label=name)
    ax.set(title="Transactions per week", ylabel="rows")
    ax.legend()
    return fig


def channel_and_price(tx: pl.DataFrame) -> Figure:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.5))
    share = tx["sales_channel_id"].value_counts().sort("sales_channel_id")
    a.bar(["store (1)", "online (2)"][: share.height], share["count"].to_list(), color=["tab:blue", "tab:orange"])
    a.set(title="Rows per sales channel")
    price = tx["price"].to_numpy()
    b.hist(price[price < np.quantile(price, 0.995)], bins=60, color="tab:green")
    b.set(title=f"Price (median {np.median(price):.4f})", xlabel="price (scaled)")
    return fig


def ages(customers: pl.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(customers["age"].drop_nulls().to_numpy(), bins=np.arange(15, 100), color="tab:purple")
    ax.set(title=f"Customer age ({customers['age'].is_null().mean():.1%} missing)", xlabel="age")
    return fig


def top_categories(tx: pl.DataFrame, articles: pl.DataFrame, columns: tuple[str, ...] = ("product_type_name", "colour_group_name"),
                   n: int = 15) -> Figure:
    """Best-selling values of article attributes (share of rows)."""
    joined = tx.select("article_id").join(articles.select("article_id", *columns), on="article_id")
    fig, axes = plt.subplots(1, len(columns), figsize=(5.5 * len(columns), 4.5))
    for ax, col in zip(np.atleast_1d(axes), columns):
        top = joined[col].value_counts(sort=True).head(n).reverse()
        ax.barh(top[col].cast(pl.Utf8).to_list(), (top["count"] / joined.height).to_list())
        ax.set(title=f"Top {n} {col}", xlabel="share of rows")
    fig.tight_layout()
    return fig


def repurchase_curve(tx: pl.DataFrame, max_weeks: int = 8) -> Figure:
    """Share of a week's buyers who buy the same article / product code again within 1..max_weeks weeks."""
    end = tx["t_dat"].max()
    wk = tx.with_columns(((pl.lit(end) - pl.col("t_dat")).dt.total_days() // 7).alias("wk"))
    ref_week = max_weeks + 1
    ref = wk.filter(pl.col("wk") == ref_week)
    n = max(ref["customer"].n_unique(), 1)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in ((pl.col("article_id"), "same article"), (pl.col("article_id") // 1000, "same product code")):
        r = ref.select("customer", key.alias("k")).unique()
        later = wk.filter(pl.col("wk").is_between(ref_week - max_weeks, ref_week - 1)).select(
            "customer", key.alias("k"), "wk")
        hits = r.join(later, on=["customer", "k"]).group_by("customer").agg(pl.col("wk").max().alias("first"))
        gaps = ref_week - hits["first"].to_numpy()
        ax.plot(range(1, max_weeks + 1), [(gaps <= w).sum() / n for w in range(1, max_weeks + 1)], marker="o", label=label)
    ax.set(title="Repurchase within w weeks", xlabel="weeks", ylabel="share of buyers")
    ax.legend()
    return fig


def image_grid(articles: pl.DataFrame, data_dir: Path, n: int = 24, seed: int = 0, cols: int = 8) -> Figure:
    """A random sample of product images with their product type and colour."""
    from PIL import Image

    sample = articles.sample(min(n, articles.height), seed=seed)
    rows = -(-sample.height // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 2.6 * rows))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for ax, rec in zip(np.atleast_1d(axes).ravel(), sample.iter_rows(named=True)):
        path = Path(data_dir) / schema.image_relpath(rec["article_id"])
        if path.exists():
            ax.imshow(Image.open(path))
        else:
            ax.text(0.5, 0.5, "no image", ha="center", va="center")
        ax.set_title(f"{rec['product_type_name']}\n{rec['colour_group_name']}", fontsize=7)
    fig.tight_layout()
    return fig


def figures_chart(comparison: pl.DataFrame) -> Figure:
    """Ratio of each figure to the real data's (1 = equal; the band is +-25%)."""
    comp = comparison.filter(pl.col("ratio").is_not_null() & pl.col("ratio").is_finite()).reverse()
    fig, ax = plt.subplots(figsize=(8, 0.24 * comp.height + 1))
    colours = ["tab:green" if w else "tab:red" for w in comp["within"].to_list()]
    ax.barh(comp["figure"].to_list(), comp["ratio"].to_list(), color=colours)
    ax.axvspan(0.75, 1.25, color="grey", alpha=0.15)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set(title="This data / real data (grey band: within 25%)", xlabel="ratio")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig
