"""Figures for the notebook: training curves, the ablation by article slice and a nearest-neighbour grid of
photos by image embedding. Made with pyplot, as the other stages' figures, so the notebook's inline backend
shows them (a bare ``Figure`` is never displayed)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure
from PIL import Image

from hm_lib.schema import ARTICLE, image_relpath


def plot_training_curves(history: pl.DataFrame) -> Figure:
    """Loss and validation loss per epoch of each variant (phase 2 epochs follow phase 1's)."""
    fig, (ax_loss, ax_auc) = plt.subplots(1, 2, figsize=(11, 4))
    for variant in history["variant"].unique(maintain_order=True):
        rows = history.filter(pl.col("variant") == variant)
        step = np.arange(1, rows.height + 1)
        line = ax_loss.plot(step, rows["loss"], marker="o", label=f"{variant} train")[0]
        ax_loss.plot(step, rows["val_loss"], marker="o", linestyle="--", color=line.get_color(),
                     label=f"{variant} validation")
        ax_auc.plot(step, rows["val_auc"], marker="o", color=line.get_color(), label=variant)
        finetune = np.flatnonzero(rows["phase"].to_numpy() == "finetune")
        if finetune.size:
            ax_loss.axvline(finetune[0] + 0.5, color=line.get_color(), linewidth=0.8, alpha=0.6)
    ax_loss.set(xlabel="epoch (phase 1, then phase 2 after the vertical line)", ylabel="binary cross-entropy",
                title="Training and validation loss")
    ax_auc.set(xlabel="epoch", ylabel="pair AUC", title="Validation pair AUC")
    ax_loss.legend(fontsize=7)
    ax_auc.legend(fontsize=7)
    fig.tight_layout()
    return fig


SLICE_LABELS = {"all": "every article", "new": "new arrivals", "rare": "rarely sold", "established": "established"}


def plot_slice_ablation(slices: pl.DataFrame) -> Figure:
    """AUC and HR@10 of each variant on each article slice of the week after the cut-off, with bars of two
    standard errors: where the photos can help (new arrivals) beside where ids already know the article."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = slices["slice"].unique(maintain_order=True).to_list()
    variants = slices["variant"].unique(maintain_order=True).to_list()
    width = 0.8 / max(len(variants), 1)
    for ax, metric in zip(axes, ("auc", "hr@10")):
        for j, variant in enumerate(variants):
            rows = slices.filter(pl.col("variant") == variant)
            by = dict(zip(rows["slice"], zip(rows[metric], rows[f"{metric}_se"])))
            values = [by.get(name, (np.nan, np.nan)) for name in names]
            ax.bar(np.arange(len(names)) + (j - (len(variants) - 1) / 2) * width, [v for v, _ in values], width,
                   yerr=[2 * e for _, e in values], capsize=2, label=variant)
        counts = slices.filter(pl.col("variant") == variants[0])
        buyers = dict(zip(counts["slice"], counts["customers"]))
        ax.set_xticks(np.arange(len(names)), [f"{SLICE_LABELS.get(n, n)}\n{buyers.get(n, 0)} buyers" for n in names],
                      fontsize=8)
        if metric == "auc":
            ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
        ax.set(ylabel=metric.upper(), title=f"{metric.upper()} by article slice (bars: 2 standard errors)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def nearest_neighbours(embeddings: pl.DataFrame, queries: Sequence[int], k: int) -> dict[int, list[int]]:
    """The ``k`` articles most cosine-similar to each query article (itself excluded)."""
    ids = embeddings[ARTICLE].to_numpy()
    emb = np.stack(embeddings["embedding"].to_numpy()).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
    out = {}
    for q in queries:
        sim = emb @ emb[int(np.flatnonzero(ids == q)[0])]
        order = [int(ids[i]) for i in np.argsort(-sim) if ids[i] != q]
        out[int(q)] = order[:k]
    return out


def plot_neighbour_grid(embeddings: pl.DataFrame, raw_dir: Path, queries: Sequence[int] | None = None,
                        n_queries: int = 4, k: int = 6, seed: int = 0) -> Figure:
    """One row per query article: its photo, then the photos of its ``k`` nearest neighbours."""
    if queries is None:
        rng = np.random.default_rng(seed)
        ids = embeddings[ARTICLE].to_numpy()
        queries = rng.choice(ids, size=min(n_queries, ids.size), replace=False)
    neighbours = nearest_neighbours(embeddings, queries, k)
    fig, axes = plt.subplots(len(neighbours), k + 1, figsize=(1.6 * (k + 1), 2.3 * len(neighbours)), squeeze=False)
    for row, (q, near) in zip(axes, neighbours.items()):
        for j, (ax, article) in enumerate(zip(row, [q, *near])):
            path = Path(raw_dir) / image_relpath(article)
            if path.is_file():
                with Image.open(path) as img:
                    ax.imshow(np.asarray(img.convert("RGB")))
            ax.set_title(("query " if j == 0 else "") + f"{article:010d}", fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    return fig
