"""Tables and charts of scores, for the notebooks."""
from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure


def score_table(scores: dict) -> pl.DataFrame:
    """One row per model of a validation dict (entries that are dicts holding a map@12)."""
    rows = [{"model": name, **{k: v for k, v in val.items() if isinstance(v, (int, float))}}
            for name, val in scores.items() if isinstance(val, dict) and "map@12" in val]
    return pl.DataFrame(rows).sort("map@12", descending=True) if rows else pl.DataFrame()


CEILINGS = ("oracle", "oracle_within_candidates", "perfect_within_candidates")


def score_chart(table: pl.DataFrame, metric: str = "map@12") -> Figure:
    """A bar per model of :func:`score_table`; the ceilings (oracle, the candidates' best orderings) in grey."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(table.height, 1) + 1))
    t = table.reverse()
    colours = ["tab:gray" if m in CEILINGS else "tab:blue" for m in t["model"].to_list()]
    ax.barh(t["model"].to_list(), t[metric].to_list(), color=colours)
    for y, v in enumerate(t[metric].to_list()):
        ax.text(v, y, f" {v:.4f}", va="center", fontsize=8)
    ax.set(title=f"{metric.upper()} on the held-out week", xlabel=metric)
    fig.tight_layout()
    return fig


def importance_chart(importance: pl.DataFrame, top: int = 25) -> Figure:
    """The `top` features by gain (frame feature, gain)."""
    t = importance.head(top).reverse()
    fig, ax = plt.subplots(figsize=(7, 0.3 * t.height + 1))
    ax.barh(t["feature"].to_list(), t["gain"].to_list(), color="tab:green")
    ax.set(title="Ranker feature importance", xlabel="gain")
    fig.tight_layout()
    return fig
