"""Tables and figures of the pairs, for notebook 03_negatives."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hm_lib import schema
from hm_lib.negatives.sampling import DAY, LABEL, NEGATIVE_STRATEGIES, STRATEGIES, STRATEGY
from hm_lib.schema import ARTICLE, CUSTOMER

COLOURS = {"positive": "tab:green", "same_category": "tab:blue", "same_day": "tab:orange"}


def pair_counts(pairs: pl.DataFrame) -> pl.DataFrame:
    """Rows, customers and articles per strategy, and rows per positive."""
    positives = max(int(pairs[LABEL].sum()), 1)
    return (pairs.group_by(STRATEGY)
            .agg(pl.len().alias("pairs"), pl.col(CUSTOMER).n_unique().alias("customers"),
                 pl.col(ARTICLE).n_unique().alias("articles"))
            .with_columns((pl.col("pairs") / positives).alias("per_positive")).sort(STRATEGY))


def category_shares(pairs: pl.DataFrame, articles: pl.DataFrame, column: str) -> pl.DataFrame:
    """Share of each value of an article column among each strategy's rows: one column per strategy."""
    joined = pairs.select(ARTICLE, STRATEGY).join(articles.select(ARTICLE, column), on=ARTICLE)
    shares = (joined.group_by(STRATEGY, column).len()
              .with_columns((pl.col("len") / pl.col("len").sum().over(STRATEGY)).alias("share")))
    wide = shares.with_columns(pl.col(STRATEGY).cast(pl.Utf8)).pivot(STRATEGY, index=column, values="share")
    present = [s for s in STRATEGIES if s in wide.columns]
    return wide.select(column, *present).fill_null(0.0).sort(present[0], descending=True)


def category_mix_chart(shares: pl.DataFrame, top: int = 15) -> Figure:
    """Grouped bars of :func:`category_shares`: the ``top`` categories of the first strategy column."""
    column, *strategies = shares.columns
    part = shares.head(top).reverse()
    y = np.arange(part.height)
    height = 0.8 / max(len(strategies), 1)
    fig, ax = plt.subplots(figsize=(8, 0.35 * part.height + 1.5))
    for i, strategy in enumerate(strategies):
        ax.barh(y + i * height, part[strategy].to_list(), height, label=strategy, color=COLOURS[strategy])
    ax.set_yticks(y + height * (len(strategies) - 1) / 2, part[column].cast(pl.Utf8).to_list(), fontsize=8)
    ax.set(title=f"Category mix ({column}) of positives and negatives", xlabel="share of rows")
    ax.legend()
    fig.tight_layout()
    return fig


def mix_distance(pairs: pl.DataFrame, articles: pl.DataFrame, column: str) -> pl.DataFrame:
    """Per customer-day and negative strategy, the total variation distance between the category mix of
    the positives and that of the negatives (0: the same mix); customer-days without such negatives are
    left out."""
    joined = pairs.select(CUSTOMER, DAY, STRATEGY, ARTICLE).join(articles.select(ARTICLE, column), on=ARTICLE)
    total = pl.col("len").sum().over(CUSTOMER, DAY, STRATEGY)
    shares = joined.group_by(CUSTOMER, DAY, STRATEGY, column).len().with_columns((pl.col("len") / total)
                                                                                  .alias("share"))
    mix = {s: shares.filter(pl.col(STRATEGY) == s).select(CUSTOMER, DAY, column, "share") for s in STRATEGIES}
    gap = (pl.col("share").fill_null(0.0) - pl.col("share_negative").fill_null(0.0)).abs().sum() / 2
    parts = []
    for strategy in NEGATIVE_STRATEGIES:
        days = mix[strategy].select(CUSTOMER, DAY).unique()
        both = mix["positive"].join(days, on=[CUSTOMER, DAY]).join(
            mix[strategy], on=[CUSTOMER, DAY, column], how="full", coalesce=True, suffix="_negative")
        parts.append(both.group_by(CUSTOMER, DAY).agg(gap.alias("distance"))
                     .with_columns(pl.lit(strategy).alias(STRATEGY)))
    return pl.concat(parts).sort(STRATEGY, CUSTOMER, DAY)


def mix_summary(distance: pl.DataFrame) -> pl.DataFrame:
    """Per strategy: customer-days, mean :func:`mix_distance`, share of customer-days with the same mix."""
    return (distance.group_by(STRATEGY)
            .agg(pl.len().alias("customer_days"), pl.col("distance").mean().alias("mean_distance"),
                 (pl.col("distance") < 1e-9).mean().alias("same_mix"))
            .sort(STRATEGY))


def popularity_chart(pairs: pl.DataFrame) -> Figure:
    """Window buyers of the articles in each strategy's rows: the uniform same-category draw picks rarer
    articles than the buyers do; the same-day draw picks them in proportion to their buyers."""
    buyers = pairs.filter(pl.col(LABEL) == 1).group_by(ARTICLE).agg(pl.len().alias("buyers"))
    joined = pairs.select(ARTICLE, STRATEGY).join(buyers, on=ARTICLE, how="left")
    top = max(int(buyers["buyers"].max() or 1), 2)
    bins = np.logspace(0, np.log10(top) + 0.01, 40)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for strategy in STRATEGIES:
        values = joined.filter(pl.col(STRATEGY) == strategy)["buyers"].fill_null(0).to_numpy()
        if values.size:
            ax.hist(values, bins=bins, weights=np.full(values.size, 1 / values.size), histtype="step",
                    lw=1.5, label=strategy, color=COLOURS[strategy])
    ax.set_xscale("log")
    ax.set(title="Popularity of the articles in the pairs", xlabel="buyers of the article in the window",
           ylabel="share of rows")
    ax.legend()
    fig.tight_layout()
    return fig


def customer_gallery(pairs: pl.DataFrame, articles: pl.DataFrame, data_dir: Path, customers: int = 3,
                     per_customer: int = 10, seed: int = 0) -> Figure:
    """Product images of a few customer-days (a row each): what they bought, then their negatives."""
    picked = _gallery_days(pairs, customers, seed)
    names = articles.select(ARTICLE, "product_type_name")
    n_rows = max(len(picked), 1)
    fig, axes = plt.subplots(n_rows, per_customer, figsize=(1.5 * per_customer, 2.4 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for row, (customer, day) in zip(axes, picked):
        shown = _gallery_rows(pairs, customer, day, per_customer).join(names, on=ARTICLE, how="left",
                                                                      maintain_order="left")
        for ax, rec in zip(row, shown.iter_rows(named=True)):
            _show_image(ax, Path(data_dir) / schema.image_relpath(rec[ARTICLE]))
            ax.set_title(f"{rec[STRATEGY].replace('_', ' ')}\n{rec['product_type_name']}", fontsize=7,
                         color=COLOURS[rec[STRATEGY]])
        row[0].text(-0.1, 0.5, f"customer {customer}\n{day}", transform=row[0].transAxes, ha="right",
                    va="center", fontsize=7)
    fig.tight_layout()
    return fig


def _gallery_days(pairs: pl.DataFrame, n: int, seed: int) -> list[tuple[int, dt.date]]:
    """Up to ``n`` (customer, day) with at least two positives and some negatives, chosen with ``seed``."""
    days = (pairs.group_by(CUSTOMER, DAY)
            .agg(pl.col(LABEL).sum().alias("pos"), (pl.col(LABEL) == 0).sum().alias("neg"))
            .filter((pl.col("pos") >= 2) & (pl.col("neg") > 0)).sort(CUSTOMER, DAY))
    return days.sample(min(n, days.height), seed=seed).select(CUSTOMER, DAY).rows()


def _gallery_rows(pairs: pl.DataFrame, customer: int, day: dt.date, n: int) -> pl.DataFrame:
    """A customer-day's first ``n`` pairs: positives, then negatives alternating between the strategies."""
    rows = pairs.filter((pl.col(CUSTOMER) == customer) & (pl.col(DAY) == day)).sort(STRATEGY, ARTICLE)
    turn = pl.int_range(pl.len()).over(STRATEGY)
    return rows.sort(pl.col(LABEL), turn, STRATEGY, descending=[True, False, False]).head(n)


def _show_image(ax: Axes, path: Path) -> None:
    """The image at ``path``, or a note where it is missing or unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            ax.imshow(image.convert("RGB"))
    except OSError:  # missing, or not an image
        ax.text(0.5, 0.5, "no image", ha="center", va="center", fontsize=8)
