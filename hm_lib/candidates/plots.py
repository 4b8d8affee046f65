"""Charts of candidate recall, for the notebooks."""
from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from hm_lib.evaluation import UNION


def recall_chart(report: pl.DataFrame, curve: pl.DataFrame) -> Figure:
    """Recall against candidates per customer: the union cut at 1..cap, and each source alone.

    ``report`` and ``curve`` come from ``hm_lib.evaluation.candidate_report`` and
    ``candidate_recall_curve``.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(curve["candidates_per_customer"], curve["recall"], color="black",
            label="union, first n per customer")
    for row in report.filter(pl.col("source") != UNION).iter_rows(named=True):
        ax.scatter(row["candidates_per_customer"], row["recall"], s=40, zorder=3)
        ax.annotate(row["source"], (row["candidates_per_customer"], row["recall"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.set(xlabel="candidates per customer (mean)", ylabel="recall of the week's purchases",
           title="Candidate recall on the held-out week", ylim=(0, None), xlim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
