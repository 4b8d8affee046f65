"""Stage functions shared by the notebooks and the `hm` command.

Each takes the configuration and the loaded data set and decides the cut-off the same way,
so validation (cut off 7 days before the data ends, score those days) and the submission
(train through the last day, predict the week after) share one code path.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.baselines import BASELINES, popular_last_week
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.errors import MissingOutputError
from hm_lib.evaluation import score, week_truth
from hm_lib.io import read_json, write_json, write_parquet
from hm_lib.submission import validate_submission, write_submission

log = logging.getLogger(__name__)
VALIDATION_FILE = "validation.json"


def cutoff_for(cfg: Config, ds: Dataset) -> dt.date:
    """First day not used for training: the held-out week's first day, or the day after the data."""
    if cfg.cutoff is not None:
        return cfg.cutoff
    if cfg.validate:
        return ds.end_date - dt.timedelta(days=cfg.holdout_days - 1)
    return ds.end_date + dt.timedelta(days=1)


def record_validation(cfg: Config, figures: dict) -> Path:
    """Merge figures into outputs/validation.json (atomically); later stages add theirs."""
    path = cfg.output_dir / VALIDATION_FILE
    current = read_json(path) if path.exists() else {}
    current.update(figures)
    return write_json(current, path)


def has_truth(cfg: Config, ds: Dataset) -> bool:
    """Whether a synthetic ground truth exists and belongs to these very customers."""
    meta = cfg.truth_dir / "meta.json"
    if not meta.exists():
        return False
    ids = pl.read_parquet(cfg.truth_dir / "customers_latent.parquet", columns=["customer_id"])["customer_id"]
    return ids.len() == ds.customers.height and bool((ids == ds.customers["customer_id"]).all())


def baseline_predictions(ds: Dataset, name: str, cutoff: dt.date, customers: pl.DataFrame | None = None,
                         k: int = schema.K) -> pl.DataFrame:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    train = ds.transactions.filter(pl.col("t_dat") < cutoff)
    return BASELINES[name](train, cutoff, ds.customers if customers is None else customers, k)


def oracle_week(cfg: Config, ds: Dataset, week_start: dt.date, customers: np.ndarray | None = None) -> pl.DataFrame:
    """The oracle's predictions for a week (synthetic data only)."""
    from hm_lib.synthetic import oracle_predictions

    if not has_truth(cfg, ds):
        raise MissingOutputError(f"no synthetic ground truth for this data in {cfg.truth_dir}: the oracle exists "
                                 "only for worlds written by `hm generate`")
    return oracle_predictions(cfg.truth_dir, ds.transactions, week_start, customers=customers)


def truth_for_week(cfg: Config, ds: Dataset, week_start: dt.date) -> pl.DataFrame:
    """Purchases of a week: from the data, or the hidden target week of a synthetic world."""
    if week_start <= ds.end_date:
        return ds.transactions
    from hm_lib.synthetic import target_week

    return target_week(cfg.truth_dir).select("t_dat", "customer", "article_id")


def validation_scores(cfg: Config, ds: Dataset, cutoff: dt.date) -> dict:
    """MAP@12 of both baselines (and of the oracle on synthetic data) on the week from `cutoff`."""
    rows = truth_for_week(cfg, ds, cutoff)
    buyers = week_truth(rows, cutoff, cfg.holdout_days).select(schema.CUSTOMER).unique()
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
        buyers = week_truth(rows, cutoff, cfg.holdout_days).select(schema.CUSTOMER).unique()
        return {"baseline": name, "cutoff": str(cutoff),
                **score(baseline_predictions(ds, name, cutoff, buyers), rows, cutoff, cfg.holdout_days)}
    path = cfg.output_dir / "baselines" / f"{name}_submission.csv"
    return {"baseline": name, **write_scored_submission(cfg, ds, baseline_predictions(ds, name, cutoff), cutoff, path)}


def oracle_run(cfg: Config, ds: Dataset, week_start: dt.date) -> dict:
    """`hm oracle`: the oracle's MAP@12 on a week (a data week, or the hidden target week)."""
    rows = truth_for_week(cfg, ds, week_start)
    buyers = week_truth(rows, week_start, 7).select(schema.CUSTOMER).unique()
    preds = oracle_week(cfg, ds, week_start, buyers[schema.CUSTOMER].to_numpy())
    path = write_parquet(preds, cfg.output_dir / f"oracle_{week_start}.parquet")
    return {"week_start": str(week_start), "predictions": str(path), **score(preds, rows, week_start, 7)}


def write_scored_submission(cfg: Config, ds: Dataset, predictions: pl.DataFrame, cutoff: dt.date,
                            path: Path | None = None) -> dict:
    """Write and validate a submission; on a synthetic world, also score it on the hidden target week."""
    path = path or cfg.output_dir / schema.SUBMISSION_FILE
    fill = popular_last_week(ds.transactions.filter(pl.col("t_dat") < cutoff), cutoff, [0], cfg.k)
    write_submission(predictions, ds.customers, ds.articles, path, fill=fill[schema.ARTICLE].to_list(), k=cfg.k)
    report = validate_submission(path, ds.customers, ds.articles, k=cfg.k)
    out = {"submission": str(path), "rows": report.rows}
    if has_truth(cfg, ds) and cutoff == ds.end_date + dt.timedelta(days=1):
        out["target_week"] = score(predictions, truth_for_week(cfg, ds, cutoff), cutoff, 7)
    return out


def kaggle_command(path: Path, message: str) -> str:
    """The line that uploads a submission to the competition."""
    return (f'kaggle competitions submit -c h-and-m-personalized-fashion-recommendations -f {path} -m "{message}"')
