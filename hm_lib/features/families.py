"""The ranker's feature families, declared once: the ranking frames, the demo, the Feast store and
``feature_repo/`` all read :data:`FAMILIES`.

Every family is a function ``build(data, cutoff, keys=None)`` of the tables before a cut-off, giving one
row per key. An *entity* family (keyed by one column, the customer or the article) builds its whole table
once per cut-off; the feature store holds it, one Feast entity and feature view per family. A *pair*
family (keyed by customer and article) describes the candidate rows it is given: one row per key, in their
order (the ranking frames put its columns beside the candidates). A new family is its module and one line below.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from hm_lib.features.article import article_features
from hm_lib.features.common import Tables
from hm_lib.features.customer import customer_features
from hm_lib.features.pair import pair_features
from hm_lib.features.taste import taste_features
from hm_lib.schema import ARTICLE, CUSTOMER

Build = Callable[[Tables, dt.date, pl.DataFrame | None], pl.DataFrame]


@dataclass(frozen=True)
class FeatureFamily:
    """A family of ranker features: its name (the Feast entity of an entity family), keys and builder."""

    name: str
    keys: tuple[str, ...]
    build: Build
    description: str

    @property
    def entity(self) -> bool:
        """Keyed by one column: a table per cut-off, held by the feature store."""
        return len(self.keys) == 1

    @property
    def key(self) -> str:
        if not self.entity:
            raise ValueError(f"the {self.name} family is keyed by {self.keys}, not by one entity")
        return self.keys[0]


FAMILIES: dict[str, FeatureFamily] = {f.name: f for f in (
    FeatureFamily("article", (ARTICLE,), article_features,
                  "recent sales, trend, same weeks last year, prices, days on sale, categories"),
    FeatureFamily("customer", (CUSTOMER,), customer_features,
                  "age, activity, recency, prices, channels, category mix"),
    FeatureFamily("pair", (CUSTOMER, ARTICLE), pair_features,
                  "the customer's own history with the article, its product code and its type"),
    FeatureFamily("taste", (CUSTOMER, ARTICLE), taste_features,
                  "recency-weighted shares of the customer's buying with each of the article's attributes; "
                  "its sales among customers of the same age"),
)}


def entity_families() -> list[FeatureFamily]:
    return [f for f in FAMILIES.values() if f.entity]


def pair_families() -> list[FeatureFamily]:
    return [f for f in FAMILIES.values() if not f.entity]


def family(name: str) -> FeatureFamily:
    """The family called ``name`` (ValueError naming the known ones otherwise)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown feature family {name!r}; the families are {', '.join(FAMILIES)}")
    return FAMILIES[name]
