"""A split of the pairs for validating relevance models, by customer and by time.

Rule: a customer is *held out* when a hash of (customer, seed) falls below ``validation_share``
(the same customers at every cut-off, whatever the data). The validation set is the held-out
customers' pairs dated in the last ``validation_days`` days before the cut-off; every other pair is
training. So a held-out customer's training pairs all lie before their validation pairs, and no
(customer, day) is in both. Other customers' pairs of those last days stay in training: the model sees
what sold then, but not what a held-out customer bought then. Negatives were drawn knowing the whole
window, so a held-out customer's training negatives never include what they bought in the
validation days.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.negatives.sampling import DAY, LABEL
from hm_lib.negatives.settings import NegativeSettings
from hm_lib.schema import CUSTOMER

@dataclass(frozen=True)
class PairSplit:
    train: pl.DataFrame
    valid: pl.DataFrame
    valid_start: dt.date  # first validation day

    def summary(self) -> dict[str, int | str]:
        """Rows and customers of each part; held-out customers with no training pair (cold for the model)."""
        valid_customers = self.valid[CUSTOMER].unique()
        cold = valid_customers.filter(~valid_customers.is_in(self.train[CUSTOMER].unique().implode()))
        return {"valid_start": self.valid_start.isoformat(),
                "train_pairs": self.train.height, "train_positives": int(self.train[LABEL].sum()),
                "valid_pairs": self.valid.height, "valid_positives": int(self.valid[LABEL].sum()),
                "valid_customers": valid_customers.len(), "valid_customers_without_train_pairs": cold.len()}


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of each value (the SplitMix64 finaliser; uint64 arrays wrap around)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def held_out(customers: pl.Series, share: float, seed: int) -> pl.Series:
    """Whether each customer is held out for validation: uniform hash of (customer, seed) below ``share``."""
    salt = splitmix64(np.array([seed], dtype=np.uint64))
    u = (splitmix64(customers.to_numpy().astype(np.uint64) ^ salt) >> np.uint64(11)) / float(1 << 53)
    return pl.Series("held_out", u < share)


def split_pairs(pairs: pl.DataFrame, cutoff: dt.date, settings: NegativeSettings, seed: int) -> PairSplit:
    """Training and validation pairs (rule in the module docstring)."""
    valid_start = cutoff - dt.timedelta(days=settings.validation_days)
    customers = pairs[CUSTOMER].unique()
    held = customers.filter(held_out(customers, settings.validation_share, seed))
    is_valid = pl.col(CUSTOMER).is_in(held.implode()) & (pl.col(DAY) >= valid_start)
    return PairSplit(train=pairs.filter(~is_valid), valid=pairs.filter(is_valid), valid_start=valid_start)
