"""Scales and knobs of the synthetic H&M world.

Every planted structure has a knob; setting it to zero removes that structure, so each
stage of the recommender can be shown to find it (and to find little when it is off).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Size of a world. `rows` is the expected number of transaction rows (before quantity copies)."""

    customers: int
    articles: int
    rows: int
    images: bool = True


SCALES: dict[str, Scale] = {
    "tiny": Scale(customers=500, articles=300, rows=11_000),
    "small": Scale(customers=6_000, articles=1_500, rows=140_000),
    "default": Scale(customers=60_000, articles=8_000, rows=1_400_000),
    "full": Scale(customers=1_371_980, articles=105_542, rows=31_788_324),
}


@dataclass(frozen=True)
class Knobs:
    """Strength of each planted structure (0 switches it off) and the amount of mess."""

    # Popularity: spread (log-normal sigma) of product-code popularity; article life cycles.
    popularity_tail: float = 0.7
    life_weeks_median: float = 14.0
    clearance: float = 0.03               # after its main life an article sells on at this share of the
                                          # catalogue's median popularity (the sporadic tail; 0: none)
    basics_share: float = 0.08            # product codes that sell for years
    # Seasonality: yearly swing of seasonal product types and of overall activity.
    seasonality: float = 1.0
    activity_seasonality: float = 0.35
    perennial_share: float = 0.5          # seasonal codes relaunched in new colours a year later
    # Tastes: customers mix a few of `topics` taste groups, chosen by age.
    taste_strength: float = 1.0
    topics: int = 32
    topics_per_customer: int = 3
    age_taste: float = 1.0
    # Stock: the most of a week's purchases one article can take (1 = no limit). It bounds the few
    # best-sellers on which a world's difficulty would otherwise swing from seed to seed.
    stock_cap: float = 0.006
    # The hidden visual style (only visible in the images): strength of its effect on taste.
    style_strength: float = 1.5
    # Baskets: chance that the next item of a basket is a partner of the previous one.
    basket_partner: float = 0.35
    # Repurchase: mean chance that an item is drawn from the customer's own recent purchases.
    repurchase: float = 0.10
    repurchase_sibling: float = 0.35      # ... in another colour of the same product code
    repurchase_half_life_weeks: float = 3.0
    # Quantities: chance that an item is bought in more than one unit (repeated rows).
    quantity: float = 0.08
    # Mess.
    missing_image_share: float = 0.0042
    missing_desc_share: float = 0.0040
    inactive_customer_share: float = 0.007

    @classmethod
    def for_scale(cls, scale: str) -> Knobs:
        """Defaults calibrated for a scale (docs/data.md): a smaller catalogue needs a flatter popularity."""
        return dataclasses.replace(cls(), **SCALE_KNOBS.get(scale, {}))

    @classmethod
    def from_dict(cls, values: dict) -> Knobs:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown knob(s) {sorted(unknown)}; known: {sorted(names)}")
        return cls(**values)


# Per-scale corrections of the defaults, found by calibrating against the real figures.
SCALE_KNOBS: dict[str, dict[str, float]] = {
    "tiny": {"stock_cap": 1.0},
    "small": {"repurchase": 0.03, "stock_cap": 1.0},
    "full": {"popularity_tail": 1.4, "repurchase": 0.13, "stock_cap": 0.003},
}
