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


def slice_chart(slices: dict) -> Figure:
    """Per article slice of the held-out week (validation figures' ``slices``): the share of its purchases that
    the candidates hold and that the ranker's (and the oracle's) 12 find, with each slice's share of the week."""
    names = [n for n, s in slices.items() if s.get("pairs")]
    bars = [("candidates (union)", lambda s: s["candidate_recall"].get("union", 0.0), "tab:gray"),
            ("ranker, recall@12", lambda s: s["ranker"]["recall@12"], "tab:blue"),
            ("oracle, recall@12", lambda s: s["oracle"]["recall@12"] if "oracle" in s else 0.0, "tab:orange")]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / len(bars)
    for i, (label, value, colour) in enumerate(bars):
        ax.bar([x + i * width for x in range(len(names))], [value(slices[n]) for n in names], width, label=label,
               color=colour)
    ax.set_xticks([x + width for x in range(len(names))],
                  [f"{n}\n{slices[n]['share']:.1%} of purchases" for n in names])
    ax.set(title="Purchases found, by article slice", ylabel="share of the slice's purchases")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
