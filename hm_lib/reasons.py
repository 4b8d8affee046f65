"""Why a recommendation was made, in words: one phrase per ranker feature, filled with the row's value.

:func:`hm_lib.feature_store.explain` gives each recommendation its strongest features with their
contribution to the ranker's score and their value. :func:`sentences` keeps the ones that pushed
the article up (by at least ``MIN_SHARE`` of the strongest push) and writes each as a short phrase from
``PHRASES``, e.g. ``x_type_share`` = 0.4 -> "you often buy this type of article (40% of your
purchases)". Every feature the ranker uses must have a phrase (:func:`missing_phrases`; a test
fails otherwise), so a new feature comes with its words.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hm_lib.features.taste import TASTE_COLUMNS

MIN_SHARE = 0.1  # a reason adds at least this share of what the strongest one adds (no "+0.00" reasons)
NO_REASON = "no single feature stands out: many small ones together"
TOP = 3

# How a value reads: a count, a share, days, a rank, a ratio, a price (the data's own units), a flag.
_FORMATS = {
    "n": lambda v: f"{v:,.0f}", "pct": lambda v: f"{v:.0%}", "days": lambda v: f"{v:,.0f}",
    "rank": lambda v: f"#{v:.0f}", "x": lambda v: f"{v:.1f}x", "price": lambda v: f"{v:.4f}",
    "age": lambda v: f"{v:.0f}",
}

_SOURCES = {
    "repurchase": "you may buy it again",
    "together": "bought together with what you bought",
    "similar": "customers like you bought it last week",
    "popular": "a best-seller last week",
    "last_year": "popular in these weeks last year",
    "cold_start": "a best-seller in your age group",
    "new_arrivals": "new in, in the styles you buy",
    "look_alike": "new in, looks like what you buy",
}

_CATEGORIES = {
    "product_type_no": "product type", "graphical_appearance_no": "pattern", "colour_group_code": "colour",
    "perceived_colour_master_id": "colour family", "department_no": "department", "index_group_no": "index group",
    "section_no": "section", "garment_group_no": "garment group",
}

_GROUPS = {"ladies": "Ladieswear", "divided": "Divided", "men": "Menswear", "kids": "Baby/Children", "sport": "Sport"}

# feature -> (phrase with {} for the value, how the value reads, phrase when the value is missing)
PHRASES: dict[str, tuple[str, str | None, str]] = {
    **{f"{s}_score": (text, None, text) for s, text in _SOURCES.items()},
    **{f"{s}_rank": (f"{text} ({{}} of them)", "rank", text) for s, text in _SOURCES.items()},
    **{c: (f"its {name} is one you are likely to buy", None, f"its {name}") for c, name in _CATEGORIES.items()},
    "relevance": ("the image model gives it {} for you", "pct", "the image model rates it for you"),
    "relevance_rank": ("the image model's {} pick for you", "rank", "the image model rates it for you"),
    "relevance_share": ("the image model rates it {} of your top pick", "pct", "the image model rates it for you"),
    "x_article_count": ("you bought it {} times", "n", "you have not bought it yet"),
    "x_code_count": ("you bought this product {} times (any colour)", "n", "you have not bought this product yet"),
    "x_article_days": ("you bought it {} days ago", "days", "you have not bought it yet"),
    "x_code_days": ("you bought this product {} days ago", "days", "you have not bought this product yet"),
    "x_type_days": ("you bought this type of article {} days ago", "days", "new to you: a type you never bought"),
    "x_type_share": ("you often buy this type of article ({} of your purchases)", "pct",
                     "a type of article you never bought"),
    "x_price_ratio": ("priced at {} what you usually pay", "x", "its price"),
    **{TASTE_COLUMNS[c]: (f"its {name} is that of {{}} of your recent purchases", "pct", "you have no purchases yet")
       for c, name in _CATEGORIES.items()},
    "t_band_sales": ("{} sold to customers of your age in the last 4 weeks", "n", "your age is not known"),
    "t_band_lift": ("{} as popular with customers of your age as with everyone", "x", "your age is not known"),
    "a_sales_1d": ("{} sold on the last day", "n", "sales on the last day"),
    "a_sales_7d": ("{} sold last week", "n", "no sales last week"),
    "a_sales_prev_7d": ("{} sold the week before last", "n", "no sales the week before last"),
    "a_sales_28d": ("{} sold in the last 4 weeks", "n", "no sales in the last 4 weeks"),
    "a_sales_all": ("{} sold so far", "n", "not sold yet"),
    "a_buyers_28d": ("{} buyers in the last 4 weeks", "n", "no buyers in the last 4 weeks"),
    "a_price_28d": ("its recent price ({})", "price", "its recent price"),
    "a_price_mean": ("its price ({})", "price", "its price"),
    "a_price_range": ("its price has moved (by {})", "price", "its price has not moved"),
    "a_online_share": ("{} of its sales are online", "pct", "its sales channel"),
    "a_days_since_last_sale": ("last sold {} days ago", "days", "not sold yet"),
    "a_days_since_first_sale": ("on sale for {} days", "days", "new: not sold yet"),
    "a_sales_last_year": ("{} sold in these weeks last year", "n", "not sold in these weeks last year"),
    "a_trend": ("sales moving {} week on week", "x", "its sales trend"),
    "c_age": ("your age ({})", "age", "your age"),
    "c_fn": ("you read the fashion news", None, "you read the fashion news"),
    "c_club_active": ("you are an active club member", None, "your club membership"),
    "c_rows_all": ("you have bought {} articles", "n", "your purchases"),
    "c_rows_7d": ("you bought {} articles last week", "n", "you bought nothing last week"),
    "c_rows_28d": ("you bought {} articles in the last 4 weeks", "n", "you bought nothing in the last 4 weeks"),
    "c_active_days": ("you shopped on {} days", "n", "how often you shop"),
    "c_days_since_last": ("you last shopped {} days ago", "days", "you have not shopped yet"),
    "c_days_since_first": ("a customer for {} days", "days", "a new customer"),
    "c_price_mean": ("what you usually pay ({})", "price", "what you usually pay"),
    "c_price_std": ("how much your prices vary ({})", "price", "how much your prices vary"),
    "c_online_share": ("{} of your purchases are online", "pct", "where you shop"),
    **{f"c_share_{g}": (f"{{}} of your purchases are {name}", "pct", f"your share of {name}")
       for g, name in _GROUPS.items()},
}


def phrase(feature: str, value: float | None) -> str:
    """The feature's phrase with its value (KeyError for a feature without one)."""
    text, kind, without = PHRASES[feature]
    if value is None or value != value:  # missing or NaN
        return without
    return text.format(_FORMATS[kind](value)) if kind else text


def sentences(why: Iterable[Mapping[str, Any]] | None, top: int = TOP, min_share: float = MIN_SHARE) -> list[str]:
    """The ``top`` strongest reasons that pushed a recommendation up, in words.

    ``why``: the explanation of one recommendation, {feature, contribution, value} largest first.
    A reason must add to the score, and at least ``min_share`` of what the strongest one adds.
    """
    reasons = [] if why is None else list(why)
    strongest = max((r["contribution"] for r in reasons), default=0.0)
    out: list[str] = []
    for reason in reasons:
        if reason["contribution"] > 0 and reason["contribution"] >= min_share * strongest:
            text = phrase(reason["feature"], reason.get("value"))
            if text not in out:
                out.append(text)
        if len(out) == top:
            break
    return out


def missing_phrases(features: Iterable[str]) -> list[str]:
    """The features among ``features`` that have no phrase."""
    return [f for f in features if f not in PHRASES]
