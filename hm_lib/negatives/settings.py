"""The knobs of negative sampling and of the validation split, with defaults per data scale."""
from __future__ import annotations

from dataclasses import dataclass

from hm_lib.config import check_settings
from hm_lib.settings_base import StageSettings


@dataclass(frozen=True)
class NegativeSettings(StageSettings):
    """How the training pairs of the relevance model are drawn.

    ``ratio`` negatives are requested per positive; ``same_day_share`` of them come from the
    same-day strategy and the rest from the same-category strategy (per positive: the floor of
    ``ratio * same_day_share``, plus one with probability equal to its fractional part).
    An article's category is its ``category`` value, or its ``fallback_category`` value when fewer
    than ``min_category_articles`` articles of that category sell in the window.
    """

    SECTION = "negatives"
    # Per-scale changes of the defaults. None so far: lowering min_category_articles for the small worlds
    # (few articles per product type sell in four weeks) was tried and gave fewer negatives, not more.
    SCALE_DEFAULTS = {}

    window_days: int = 28
    ratio: int = 10
    same_day_share: float = 0.5
    category: str = "product_type_no"
    fallback_category: str = "product_group_name"
    min_category_articles: int = 20
    top_up_rounds: int = 3  # redraws of the negatives lost to collisions, after the first draw
    validation_share: float = 0.2  # share of customers whose last days are held out
    validation_days: int = 7

    def __post_init__(self) -> None:
        checks = {
            "window_days must be at least 1": self.window_days >= 1,
            "ratio must be at least 0": self.ratio >= 0,
            "same_day_share must lie in [0, 1]": 0.0 <= self.same_day_share <= 1.0,
            "min_category_articles must be at least 1": self.min_category_articles >= 1,
            "top_up_rounds must be at least 0": self.top_up_rounds >= 0,
            "validation_share must lie in [0, 1]": 0.0 <= self.validation_share <= 1.0,
            "validation_days must lie in [1, window_days)": 1 <= self.validation_days < self.window_days,
        }
        check_settings("NegativeSettings", checks, f" ({self})")
