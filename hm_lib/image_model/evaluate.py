"""The paper's evaluation: per customer, one held-out purchase ranked among 100 sampled articles not bought.

Held-out purchases are the validation positives (one per customer, drawn at random); the sampled
articles come uniformly, without replacement, from the articles of the training and validation pairs,
excluding everything the customer ever bought. AUC, HR@10 and NDCG@10 are averaged over customers, each
with its standard error.

By slice (:func:`slice_eval_sets`): the same protocol on the week after the cut-off (when the data has it),
within each article slice of :mod:`hm_lib.slices` (new arrivals, rarely sold, established): a buyer's
held-out purchase and its negatives are articles of one slice sold that week, so that popularity across
slices cannot answer, and for new arrivals nothing but attributes and photos can.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.image_model.scoring import ImageRelevanceModel, logits
from hm_lib.schema import ARTICLE, CUSTOMER
from hm_lib.slices import article_slices, slice_truth

LABEL = "label"
TOP = 10


@dataclass(frozen=True)
class EvalSet:
    """customers (C,) and candidate article ids (C, 1 + negatives); column 0 is the held-out purchase."""

    customers: np.ndarray
    candidates: np.ndarray


def sample_eval_set(pairs_valid: pl.DataFrame, bought: pl.DataFrame, universe: np.ndarray,
                    negatives: int = 100, max_customers: int | None = None, seed: int = 0) -> EvalSet:
    """One positive per validation customer and ``negatives`` articles of ``universe`` they never bought."""
    return held_out_set(pairs_valid.filter(pl.col(LABEL) == 1), bought, universe, negatives, max_customers, seed)


def held_out_set(purchases: pl.DataFrame, bought: pl.DataFrame, universe: np.ndarray, negatives: int,
                 max_customers: int | None, seed: int, strict: bool = True) -> EvalSet:
    """One of each customer's ``purchases`` (drawn at random) and ``negatives`` articles of ``universe`` they
    never bought (in ``bought``). ``strict`` False drops the customers who bought too much of a small universe
    to leave ``negatives`` instead of raising."""
    rng = np.random.default_rng(seed)
    positives = purchases.select(CUSTOMER, ARTICLE).unique().sort(CUSTOMER, ARTICLE)
    held = (positives.with_columns(_r=pl.Series(rng.random(positives.height)))
            .sort("_r").unique(CUSTOMER, keep="first").sort(CUSTOMER))
    if max_customers is not None and held.height > max_customers:
        held = held.sample(max_customers, seed=seed).sort(CUSTOMER)
    universe = np.unique(np.asarray(universe))
    if universe.size < negatives + 1:
        raise ValueError(f"{universe.size} articles cannot supply {negatives} negatives per customer")
    owned = (bought.select(CUSTOMER, ARTICLE).join(held.select(CUSTOMER), on=CUSTOMER, how="semi")
             .group_by(CUSTOMER).agg(pl.col(ARTICLE)))
    owned_by = dict(zip(owned[CUSTOMER].to_list(), owned[ARTICLE].to_list()))
    customers = held[CUSTOMER].to_numpy()
    candidates = np.empty((customers.size, negatives + 1), dtype=np.int64)
    candidates[:, 0] = held[ARTICLE].to_numpy()
    full = np.ones(customers.size, dtype=bool)
    for i, c in enumerate(customers):
        exclude = set(owned_by.get(int(c), ())) | {int(candidates[i, 0])}
        draw = rng.choice(universe, size=min(universe.size, negatives + len(exclude)), replace=False)
        kept = [a for a in draw if int(a) not in exclude][:negatives]
        if len(kept) < negatives:
            pool = np.setdiff1d(universe, np.fromiter(exclude, dtype=np.int64))
            if pool.size < negatives and not strict:
                full[i] = False
                continue
            kept = rng.choice(pool, size=negatives, replace=False)
        candidates[i, 1:] = kept
    return EvalSet(customers[full].astype(np.int32), candidates[full])


def slice_eval_sets(transactions: pl.DataFrame, cutoff: dt.date, days: int, negatives: int,
                    max_customers: int | None = None, seed: int = 0) -> dict[str, EvalSet]:
    """The held-out sets of the ``days`` from ``cutoff``, all articles and each slice of :data:`hm_lib.slices.SLICES`
    (module docstring); a slice with fewer than 2 articles sold is left out, and a smaller one draws fewer
    negatives (half its articles). Empty when the data ends before ``cutoff``."""
    end = cutoff + dt.timedelta(days=days)
    week = (transactions.lazy().filter((pl.col("t_dat") >= cutoff) & (pl.col("t_dat") < end))
            .select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32)).unique().collect())
    if week.is_empty():
        return {}
    parts = {"all": week, **slice_truth(week, article_slices(transactions, week[ARTICLE], cutoff))}
    sets = {}
    for name, purchases in parts.items():
        universe = np.unique(purchases[ARTICLE].to_numpy())
        if universe.size < 2:
            continue
        n = min(negatives, universe.size // 2)
        sets[name] = held_out_set(purchases, transactions, universe, n, max_customers, seed, strict=False)
    return sets


METRICS = ("auc", f"hr@{TOP}", f"ndcg@{TOP}")


def customer_metrics(scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per customer (row of a (C, 1 + n) score matrix whose column 0 is the positive): AUC, HR@10, NDCG@10."""
    pos, neg = scores[:, :1], scores[:, 1:]
    above, ties = (neg > pos).sum(axis=1), (neg == pos).sum(axis=1)
    rank = above + ties / 2  # 0-based rank of the positive; ties count half
    hit = rank < TOP
    return {"auc": 1.0 - rank / max(neg.shape[1], 1), f"hr@{TOP}": hit.astype(np.float64),
            f"ndcg@{TOP}": np.where(hit, 1.0 / np.log2(rank + 2), 0.0)}


def ranking_metrics(scores: np.ndarray) -> dict[str, float]:
    """Means over customers of :func:`customer_metrics` and their standard errors (``*_se``; NaN if C = 0)."""
    if scores.shape[0] == 0:
        return {**{m: float("nan") for m in METRICS}, "customers": 0,
                **{f"{m}_se": float("nan") for m in METRICS}}
    values = customer_metrics(scores)
    n = scores.shape[0]
    se = {f"{m}_se": float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan") for m, v in values.items()}
    return {**{m: float(v.mean()) for m, v in values.items()}, "customers": int(n), **se}


def eval_scores(model: ImageRelevanceModel, eval_set: EvalSet, history: np.ndarray | None = None) -> np.ndarray:
    """(C, 1 + n) logits of every customer's candidates (``history``: the purchase histories the customer
    tower reads instead of the model's own, e.g. those before the cut-off)."""
    flat = eval_set.candidates.ravel()
    unique, slot = np.unique(flat, return_inverse=True)
    items = model.item_table(model.positions(unique))[slot]
    customers = (model.customer_table(eval_set.customers) if history is None
                 else model.customer_table_at(eval_set.customers, history))
    rows = np.repeat(np.arange(eval_set.customers.size), eval_set.candidates.shape[1])
    return logits(customers[rows], items, model.global_bias).reshape(eval_set.candidates.shape)


def evaluate(model: ImageRelevanceModel, eval_set: EvalSet, history: np.ndarray | None = None) -> dict[str, float]:
    return ranking_metrics(eval_scores(model, eval_set, history))
