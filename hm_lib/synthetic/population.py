"""The synthetic customers: visible attributes (customers.csv) and latent behaviour."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.synthetic.knobs import Knobs


@dataclass
class Population:
    table: pl.DataFrame        # customers.csv columns, typed
    age: np.ndarray            # float, NaN where missing in the file (latent age is still used)
    latent_age: np.ndarray     # float, always set
    activity: np.ndarray       # float, relative weekly purchase intensity (0 = never buys)
    join_week: np.ndarray      # int, first week the customer can buy
    leave_week: np.ndarray     # int, first week the customer no longer buys
    first_week: np.ndarray     # int, a week in which the customer surely buys (-1: never buys)
    online: np.ndarray         # float, probability that a basket is bought online (channel 2)
    basket_scale: np.ndarray   # float, multiplies the customer's basket sizes
    repurchase: np.ndarray     # float, chance an item comes from the customer's own history

    @property
    def size(self) -> int:
        return len(self.activity)


def hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 64-character lowercase hex strings (like the real hashed ids)."""
    raw = np.frombuffer(rng.bytes(32 * n), dtype=np.uint8).reshape(n, 32)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars = np.empty((n, 64), dtype=np.uint8)
    chars[:, 0::2] = digits[raw >> 4]
    chars[:, 1::2] = digits[raw & 15]
    return chars.view("S64").ravel().astype(str)


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Two modes as in the real data: 21-25 and around 50; 16..99."""
    young = rng.random(n) < 0.47
    age = np.where(young, rng.normal(24, 3.5, n), rng.normal(48, 11, n))
    return np.clip(np.round(age), 16, 99)


def _postal_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Heavy-tailed postal codes; one code holds ~9% of customers, as in the real file."""
    n_codes = max(2, n // 4)
    codes = hex_ids(rng, n_codes)
    weights = 1.0 / np.arange(1, n_codes + 1) ** 0.8
    weights[0] = weights[1:].sum() * 0.1
    return codes[rng.choice(n_codes, size=n, p=weights / weights.sum())]


def build_population(rng: np.random.Generator, n: int, weeks: int, knobs: Knobs) -> Population:
    latent_age = _ages(rng, n)
    age = latent_age.copy()
    age[rng.random(n) < 0.0116] = np.nan
    fn = rng.random(n) < 0.35
    active = fn & (rng.random(n) < 0.97)
    news = np.where(fn, np.where(rng.random(n) < 0.998, "Regularly", "Monthly"), "NONE").astype(object)
    news[rng.random(n) < 0.012] = None
    news[(news == "NONE") & (rng.random(n) < 0.0003)] = "None"
    u = rng.random(n)
    club = np.select([u < 0.928, u < 0.996, u < 0.9963], ["ACTIVE", "PRE-CREATE", "LEFT CLUB"], None).astype(object)
    table = pl.DataFrame({
        "customer_id": hex_ids(rng, n),
        "FN": pl.Series(np.where(fn, 1.0, np.nan)).fill_nan(None),
        "Active": pl.Series(np.where(active, 1.0, np.nan)).fill_nan(None),
        "club_member_status": pl.Series(club.tolist(), dtype=pl.Utf8),
        "fashion_news_frequency": pl.Series(news.tolist(), dtype=pl.Utf8),
        "age": pl.Series(age).fill_nan(None),
        "postal_code": _postal_codes(rng, n),
    })
    # Behaviour: heavy-tailed intensity; fan-club members buy more; some never buy.
    activity = rng.lognormal(0, 1.25, n) * np.where(fn, 1.4, 1.0)
    activity[rng.random(n) < knobs.inactive_customer_share] = 0.0
    # Customers join over the two years (about half before the data starts) and many leave.
    # Every customer of customers.csv buys at least once (in `first_week`), except the inactive:
    # the week they join, or for earlier members a week while they are still a customer.
    join = np.where(rng.random(n) < 0.55, rng.integers(-52, 0, n), rng.integers(0, weeks, n))
    stay = rng.exponential(70, n).astype(np.int64) + 4
    leave = np.where(rng.random(n) < 0.45, np.maximum(join + stay, 1), weeks + 10)
    last = np.minimum(leave, weeks)
    lo = np.maximum(join, 0)
    first = np.where(join >= 0, join, lo + np.floor(rng.random(n) * (last - lo)).astype(np.int64))
    first[activity == 0] = -1
    online = rng.beta(0.9, 0.38, n)
    basket_scale = rng.lognormal(0, 0.35, n)
    rep = rng.beta(1.0, 1.0 / max(knobs.repurchase, 1e-9) - 1.0, n) if knobs.repurchase > 0 else np.zeros(n)
    return Population(table=table, age=age, latent_age=latent_age, activity=activity, join_week=join,
                      leave_week=leave, first_week=first, online=online, basket_scale=basket_scale, repurchase=rep)
