"""Scores on the held-out week and the run's record of them, outputs/validation.json.

Each stage merges its figures into the one file; the baselines and (on a synthetic world) the
oracle give every score its yardsticks.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from hm_lib import schema
from hm_lib.baselines import BASELINES
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.evaluation import score, week_customers
from hm_lib.io import read_json, write_json, write_parquet
from hm_lib.submission import write_scored_submission
from hm_lib.truth import has_truth, oracle_week, truth_for_week

VALIDATION_FILE = "validation.json"
STAGES_KEY = "_stages"  # stage -> the entries it wrote


def record_validation(cfg: Config, figures: dict, *, stage: str) -> Path:
    """Merge one stage's figures into outputs/validation.json (atomically), in place of what that stage wrote
    there before: a rerun that compares fewer models leaves none of the earlier run's others behind. Which
    stage wrote which entries is kept under ``STAGES_KEY``."""
    path = cfg.output_dir / VALIDATION_FILE
    current = read_json(path) if path.exists() else {}
    owners = current.pop(STAGES_KEY, {})
    for key in owners.pop(stage, []):
        current.pop(key, None)
    current.update(figures)
    return write_json({**current, STAGES_KEY: {**owners, stage: sorted(figures)}}, path)


def loss_lines(scores: dict) -> list[str]:
    """Where MAP@12 is lost: in a line on the candidates' ceilings (when the validation has them), then one per
    article slice (:func:`slice_lines`)."""
    shares = scores.get("shares", {})
    if shares.get("ranker_of_oracle_within_candidates") is not None and shares.get(
            "oracle_within_candidates_of_oracle") is not None:
        ceiling = [(f"the ranker takes {shares['ranker_of_oracle_within_candidates']:.0%} of what its candidates "
                    f"allow (the oracle within them: {scores['oracle_within_candidates']['map@12']:.4f}, "
                    f"{shares['oracle_within_candidates_of_oracle']:.0%} of the oracle)")]
    elif shares.get("ranker_of_perfect_within_candidates") is not None:
        ceiling = [(f"the ranker takes {shares['ranker_of_perfect_within_candidates']:.0%} of the best ordering of "
                    f"its candidates ({scores['perfect_within_candidates']['map@12']:.4f})")]
    else:
        ceiling = []
    return ceiling + slice_lines(scores)


SLICE_WORDS = {"new": "new arrivals (not sold before the cut-off)", "rare": "rarely sold articles",
               "established": "established articles"}


def slice_lines(scores: dict) -> list[str]:
    """A line per article slice of the held-out week: its share of the purchases, how many of them the
    candidates hold and the ranker's lists find (and the oracle's, on a synthetic world)."""
    lines = []
    for name, s in scores.get("slices", {}).items():
        if not s.get("pairs"):
            continue
        oracle = f" (the oracle's: {s['oracle']['recall@12']:.1%})" if "oracle" in s else ""
        lines.append(f"{SLICE_WORDS.get(name, name)}: {s['share']:.1%} of the week's purchases; the candidates hold "
                     f"{s['candidate_recall'].get('union', 0.0):.1%} of them, the ranker's 12 find "
                     f"{s['ranker']['recall@12']:.1%}{oracle}")
    return lines


def baseline_predictions(ds: Dataset, name: str, cutoff: dt.date, customers: pl.DataFrame | None = None,
                         k: int = schema.K) -> pl.DataFrame:
    """A baseline's top `k` for `customers` (default: every customer) from the purchases before `cutoff`."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    train = ds.transactions.filter(pl.col("t_dat") < cutoff)
    return BASELINES[name](train, cutoff, ds.customers if customers is None else customers, k)


def validation_scores(cfg: Config, ds: Dataset, cutoff: dt.date) -> dict:
    """MAP@12 of both baselines (and of the oracle on synthetic data) on the week from `cutoff`."""
    rows = truth_for_week(cfg, ds, cutoff)
    buyers = week_customers(rows, cutoff, cfg.holdout_days)
    out = {"cutoff": str(cutoff), "days": cfg.holdout_days, "buyers": buyers.height}
    for name in BASELINES:
        out[f"baseline_{name}"] = score(baseline_predictions(ds, name, cutoff, buyers), rows, cutoff, cfg.holdout_days)
    if has_truth(cfg, ds):
        oracle = oracle_week(cfg, ds, cutoff, buyers[schema.CUSTOMER].to_numpy())
        out["oracle"] = score(oracle, rows, cutoff, cfg.holdout_days)
    return out


def baseline_run(cfg: Config, ds: Dataset, name: str, cutoff: dt.date, validate: bool) -> dict:
    """`hm baseline NAME`: score it on the held-out week, or write its submission file."""
    if validate:
        rows = truth_for_week(cfg, ds, cutoff)
        buyers = week_customers(rows, cutoff, cfg.holdout_days)
        return {"baseline": name, "cutoff": str(cutoff),
                **score(baseline_predictions(ds, name, cutoff, buyers), rows, cutoff, cfg.holdout_days)}
    path = cfg.output_dir / "baselines" / f"{name}_submission.csv"
    return {"baseline": name, **write_scored_submission(cfg, ds, baseline_predictions(ds, name, cutoff), cutoff, path)}


def oracle_run(cfg: Config, ds: Dataset, week_start: dt.date) -> dict:
    """`hm oracle`: the oracle's MAP@12 on a week (a data week, or the hidden target week)."""
    rows = truth_for_week(cfg, ds, week_start)
    buyers = week_customers(rows, week_start, 7)
    preds = oracle_week(cfg, ds, week_start, buyers[schema.CUSTOMER].to_numpy())
    path = write_parquet(preds, cfg.output_dir / f"oracle_{week_start}.parquet")
    return {"week_start": str(week_start), "predictions": str(path), **score(preds, rows, week_start, 7)}
