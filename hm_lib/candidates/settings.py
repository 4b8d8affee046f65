"""The knobs of candidate generation, with defaults per data scale."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hm_lib.settings_base import StageSettings


@dataclass(frozen=True)
class CandidateSettings(StageSettings):
    """Windows (days before the cut-off), list lengths and the cap of every candidate source.

    ``*_n`` is the most candidates a source proposes per customer; ``cap`` bounds their union.
    """

    SECTION = "candidates"
    # A smaller catalogue needs shorter lists: tiny has 300 articles, small 1,500.
    SCALE_DEFAULTS = {
        "tiny": {"cap": 30, "similar_n": 12, "popular_n": 12, "popular_partners": 4, "together_n": 8,
                 "last_year_n": 8, "repurchase_n": 8, "cold_start_n": 12, "age_band_years": 10,
                 "new_arrivals_n": 6, "look_alike_n": 6},
        "small": {"cap": 60, "similar_n": 24, "popular_n": 16, "popular_partners": 8, "together_n": 16,
                  "last_year_n": 16, "repurchase_n": 16, "cold_start_n": 16},
        "default": {},
        "full": {},
    }

    # The sources that run, in the union's order of precedence (names of hm_lib.candidates.SOURCES).
    sources: tuple[str, ...] = ("repurchase", "together", "similar", "popular", "last_year", "cold_start",
                                "new_arrivals")
    cap: int = 100
    # Bought last week by similar customers (hm_lib.candidates.similar).
    similar_n: int = 40
    similar_history_days: int = 365
    similar_on: str = "product_code"      # or "article_id": the columns of the history vectors
    similar_row_top: int = 50             # kept entries per history column of the vote matrix
    # Last week's best-sellers and what is bought with them (hm_lib.candidates.popular).
    popular_n: int = 24
    popular_partners: int = 12
    # Bought together with the customer's own recent purchases (hm_lib.candidates.together).
    together_n: int = 24
    together_seed_days: int = 91
    together_half_life_days: float = 30.0
    cooccurrence_days: int = 91           # sales counted for the bought-together statistics
    cooccurrence_window_days: int = 7     # two purchases of one customer this close are "together"
    cooccurrence_top: int = 20            # partners kept per article
    # Popular at the same time last year, mapped to what is on sale now (hm_lib.candidates.last_year).
    last_year_n: int = 24
    last_year_weeks: int = 1
    last_year_weeks_back: int = 52        # 52: the same weekdays a year before the cut-off
    on_sale_days: int = 14
    # The customer's own recent purchases (hm_lib.candidates.repurchase).
    repurchase_n: int = 24
    repurchase_days: int = 182
    repurchase_half_life_days: float = 14.0
    # Cold start: best-sellers of the customer's age band (hm_lib.candidates.cold_start).
    cold_start_n: int = 24
    cold_start_days: int = 14
    age_band_years: int = 5
    # New arrivals matched to the customer's attributes (hm_lib.candidates.new_arrivals).
    new_arrivals_n: int = 12
    new_arrivals_days: int = 7             # first sold this recently (or not yet): in the launch pool
    new_arrivals_history_days: int = 182
    new_arrivals_half_life_days: float = 30.0
    # New arrivals that look like the customer's purchases (hm_lib.candidates.look_alike; the launch pool, history
    # and half-life of new_arrivals).
    look_alike_n: int = 12

    def __post_init__(self) -> None:
        if self.similar_on not in ("product_code", "article_id"):
            raise ValueError(f"similar_on must be 'product_code' or 'article_id', not {self.similar_on!r}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"CandidateSettings.{f.name} must be positive, got {value}")
