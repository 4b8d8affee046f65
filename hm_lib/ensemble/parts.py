"""Resampling the training pairs: the stacker's held-out slice and K disjoint parts of the negatives.

A pair's slice is decided by a hash of (customer, article, day, seed), so it does not depend on the
order of the rows or on which other pairs exist. The remaining negatives are dealt into ``members``
parts of (nearly) equal size by a seeded permutation; every positive outside the stacker's slice goes
to every member, so member i trains on all positives plus part i: about 1 positive to 1 negative when
there are ``members`` negatives per positive.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.negatives.sampling import DAY, LABEL
from hm_lib.negatives.split import splitmix64
from hm_lib.schema import ARTICLE, CUSTOMER

PART = "part"


def pair_hash(pairs: pl.DataFrame, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per pair, from (customer, article, day, seed)."""
    x = splitmix64(pairs[CUSTOMER].to_numpy().astype(np.uint64) ^ splitmix64(np.array([seed], np.uint64)))
    x = splitmix64(x ^ pairs[ARTICLE].to_numpy().astype(np.uint64))
    x = splitmix64(x ^ pairs[DAY].to_physical().to_numpy().astype(np.uint64))
    return (x >> np.uint64(11)) / float(1 << 53)


@dataclass(frozen=True)
class Resampled:
    """The members' training pairs (``part`` = -1 for positives, 0..K-1 for negatives) and the stacker's slice."""

    members: pl.DataFrame
    stack: pl.DataFrame
    parts: int

    def member(self, i: int) -> pl.DataFrame:
        """Member i's pairs: every positive and the negatives of part i."""
        if not 0 <= i < self.parts:
            raise IndexError(f"member {i} of {self.parts}")
        return self.members.filter((pl.col(PART) == -1) | (pl.col(PART) == i))

    def summary(self) -> dict[str, int]:
        positives = int(self.members[LABEL].sum())
        return {"members": self.parts, "positives": positives,
                "negatives_per_member": (self.members.height - positives) // max(self.parts, 1),
                "stack_pairs": self.stack.height, "stack_positives": int(self.stack[LABEL].sum())}


def resample(pairs: pl.DataFrame, parts: int, stack_share: float, seed: int) -> Resampled:
    """Split training pairs into the stacker's slice and the members' parts (rule in the module docstring)."""
    in_stack = pair_hash(pairs, seed) < stack_share
    stack, rest = pairs.filter(pl.Series(in_stack)), pairs.filter(pl.Series(~in_stack))
    negative = (rest[LABEL] == 0).to_numpy()
    part = np.full(rest.height, -1, dtype=np.int16)
    order = np.random.default_rng(seed).permutation(int(negative.sum()))
    part[np.flatnonzero(negative)[order]] = np.arange(order.size) % parts
    return Resampled(rest.with_columns(pl.Series(PART, part)), stack, parts)
