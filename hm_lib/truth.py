"""What was bought: a week of the data, or the hidden target week and oracle of a synthetic world."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.errors import MissingOutputError


def has_truth(cfg: Config, ds: Dataset) -> bool:
    """Whether a synthetic ground truth exists and belongs to these very customers."""
    meta = cfg.truth_dir / "meta.json"
    if not meta.exists():
        return False
    ids = pl.read_parquet(cfg.truth_dir / "customers_latent.parquet", columns=["customer_id"])["customer_id"]
    return ids.len() == ds.customers.height and bool((ids == ds.customers["customer_id"]).all())


def truth_for_week(cfg: Config, ds: Dataset, week_start: dt.date) -> pl.DataFrame:
    """Purchases of a week: from the data, or the hidden target week of a synthetic world."""
    if week_start <= ds.end_date:
        return ds.transactions
    from hm_lib.synthetic import target_week

    return target_week(cfg.truth_dir).select("t_dat", "customer", "article_id")


def oracle_week(cfg: Config, ds: Dataset, week_start: dt.date, customers: np.ndarray | None = None,
                allowed: pl.DataFrame | None = None) -> pl.DataFrame:
    """The oracle's predictions for a week (synthetic data only); ``allowed`` (customer, article_id pairs)
    restricts each customer's list to those articles."""
    from hm_lib.synthetic import oracle_predictions

    if not has_truth(cfg, ds):
        raise MissingOutputError(f"no synthetic ground truth for this data in {cfg.truth_dir}: the oracle exists "
                                 "only for worlds written by `hm generate`")
    return oracle_predictions(cfg.truth_dir, ds.transactions, week_start, customers=customers, allowed=allowed)
