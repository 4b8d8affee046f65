"""Figures of the ensemble's comparison: metrics per model and calibration curves."""
from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure


def plot_comparison(table: pl.DataFrame) -> Figure:
    """AUC, average precision and log loss of each model, side by side."""
    metrics = [("auc", "AUC (higher is better)"), ("average_precision", "average precision (higher)"),
               ("log_loss", "log loss (lower)")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.35 * table.height + 1.6))
    names = table["model"].to_list()
    for ax, (column, title) in zip(axes, metrics):
        values = table[column].to_list()
        colours = ["tab:orange" if n in ("stacker", "members' mean", "class-weighted single") else "tab:blue"
                   for n in names]
        ax.barh(names, values, color=colours)
        ax.set_title(title)
        ax.invert_yaxis()
        lo, hi = min(values), max(values)
        ax.set_xlim(lo - 0.1 * (hi - lo + 1e-9), hi + 0.1 * (hi - lo + 1e-9))
    for ax in axes[1:]:
        ax.set_yticklabels([])
    fig.tight_layout()
    return fig


def plot_calibration(curves: pl.DataFrame, models: list[str] | None = None) -> Figure:
    """Observed positive rate against predicted probability (the diagonal is perfect calibration)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=1, label="perfectly calibrated")
    for name in models or curves["model"].unique(maintain_order=True).to_list():
        part = curves.filter(pl.col("model") == name)
        ax.plot(part["predicted"], part["observed"], marker="o", ms=3, label=name)
    ax.set(xlabel="mean predicted probability", ylabel="observed share of purchases", xlim=(0, 1), ylim=(0, 1),
           title="Calibration on held-out pairs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_threshold_recall(table: pl.DataFrame) -> Figure:
    """Recall kept and candidates kept against the relevance threshold."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(table["threshold"], table["recall"] / max(table["recall"][0], 1e-9), marker="o", label="recall kept")
    ax.plot(table["threshold"], table["candidates_kept"], marker="s", label="candidates kept")
    ax.set(xlabel="minimum stacked relevance", ylabel="share of no filtering", ylim=(0, 1.05),
           title="Filtering candidates by relevance")
    ax.legend()
    fig.tight_layout()
    return fig
