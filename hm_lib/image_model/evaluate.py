"""The paper's evaluation: per customer, one held-out purchase ranked among 100 sampled articles not bought.

Held-out purchases are the validation positives (one per customer, drawn at random); the sampled
articles come uniformly, without replacement, from the articles of the training and validation pairs,
excluding everything the customer ever bought. AUC, HR@10 and NDCG@10 are averaged over customers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.image_model.scoring import ImageRelevanceModel, logits
from hm_lib.schema import ARTICLE, CUSTOMER

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
    rng = np.random.default_rng(seed)
    positives = (pairs_valid.filter(pl.col(LABEL) == 1).select(CUSTOMER, ARTICLE).unique()
                 .sort(CUSTOMER, ARTICLE))
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
    for i, c in enumerate(customers):
        exclude = set(owned_by.get(int(c), ())) | {int(candidates[i, 0])}
        draw = rng.choice(universe, size=min(universe.size, negatives + len(exclude)), replace=False)
        kept = [a for a in draw if int(a) not in exclude][:negatives]
        if len(kept) < negatives:
            pool = np.setdiff1d(universe, np.fromiter(exclude, dtype=np.int64))
            kept = rng.choice(pool, size=negatives, replace=False)
        candidates[i, 1:] = kept
    return EvalSet(customers.astype(np.int32), candidates)


def ranking_metrics(scores: np.ndarray) -> dict[str, float]:
    """AUC, HR@10 and NDCG@10 of a (C, 1 + n) score matrix whose column 0 is the positive (NaN if C = 0)."""
    if scores.shape[0] == 0:
        return {"auc": float("nan"), f"hr@{TOP}": float("nan"), f"ndcg@{TOP}": float("nan"), "customers": 0}
    pos, neg = scores[:, :1], scores[:, 1:]
    above, ties = (neg > pos).sum(axis=1), (neg == pos).sum(axis=1)
    rank = above + ties / 2  # 0-based rank of the positive; ties count half
    auc = 1.0 - rank / neg.shape[1]
    hit = rank < TOP
    ndcg = np.where(hit, 1.0 / np.log2(rank + 2), 0.0)
    return {"auc": float(auc.mean()), f"hr@{TOP}": float(hit.mean()), f"ndcg@{TOP}": float(ndcg.mean()),
            "customers": int(scores.shape[0])}


def eval_scores(model: ImageRelevanceModel, eval_set: EvalSet) -> np.ndarray:
    """(C, 1 + n) logits of every customer's candidates."""
    flat = eval_set.candidates.ravel()
    unique, slot = np.unique(flat, return_inverse=True)
    items = model.item_table(model.positions(unique))[slot]
    customers = model.customer_table(eval_set.customers)
    rows = np.repeat(np.arange(eval_set.customers.size), eval_set.candidates.shape[1])
    return logits(customers[rows], items, model.global_bias).reshape(eval_set.candidates.shape)


def evaluate(model: ImageRelevanceModel, eval_set: EvalSet) -> dict[str, float]:
    return ranking_metrics(eval_scores(model, eval_set))
