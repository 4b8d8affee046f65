"""The cut-off date every stage is a function of.

Validation cuts off `holdout_days` before the data ends and scores those days; the submission
trains through the last day and predicts the week after. Both go through :func:`cutoff_for`, so
they share one code path.
"""
from __future__ import annotations

import datetime as dt

from hm_lib.config import Config
from hm_lib.data import Dataset


def cutoff_for(cfg: Config, ds: Dataset) -> dt.date:
    """First day not used for training: the held-out week's first day, or the day after the data."""
    if cfg.cutoff is not None:
        return cfg.cutoff
    if cfg.validate:
        return ds.end_date - dt.timedelta(days=cfg.holdout_days - 1)
    return _day_after(ds)


def is_after_data(ds: Dataset, cutoff: dt.date) -> bool:
    """Whether `cutoff` is the day after the data: the week predicted is the submission's."""
    return cutoff == _day_after(ds)


def _day_after(ds: Dataset) -> dt.date:
    return ds.end_date + dt.timedelta(days=1)
