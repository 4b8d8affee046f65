"""Reasons in words: the phrase of each feature, filled with its value; only what pushed an article up."""
from __future__ import annotations

import pytest

from hm_lib.reasons import PHRASES, missing_phrases, phrase, sentences


def why(*rows: tuple[str, float, float | None]) -> list[dict]:
    return [{"feature": f, "contribution": c, "value": v} for f, c, v in rows]


def test_a_phrase_quotes_the_value_in_its_unit() -> None:
    assert phrase("x_type_share", 0.4) == "you often buy this type of article (40% of your purchases)"
    assert phrase("x_article_days", 12.0) == "you bought it 12 days ago"
    assert phrase("popular_rank", 3.0) == "a best-seller last week (#3 of them)"
    assert phrase("a_sales_7d", 1234.0) == "1,234 sold last week"
    assert phrase("c_share_ladies", 0.25) == "25% of your purchases are Ladieswear"
    assert phrase("x_article_days", None) == phrase("x_article_days", float("nan")) == "you have not bought it yet"
    with pytest.raises(KeyError):
        phrase("no_such_feature", 1.0)


def test_sentences_keep_the_strongest_pushes_up_and_nothing_negligible() -> None:
    reasons = why(("x_type_share", 0.30, 0.4), ("a_sales_7d", -0.20, 10.0), ("popular_rank", 0.10, 3.0),
                  ("x_price_ratio", 0.02, 1.1), ("x_article_days", 0.01, 5.0))
    assert sentences(reasons) == ["you often buy this type of article (40% of your purchases)",
                                  "a best-seller last week (#3 of them)"]  # 0.02 < 10% of 0.30; -0.20 pulls down
    assert sentences(reasons, top=1) == ["you often buy this type of article (40% of your purchases)"]
    assert sentences(why(("a_sales_7d", -0.2, 1.0))) == [] and sentences(None) == []
    assert sentences(why(("c_fn", 0.2, 1.0), ("c_fn", 0.1, 1.0))) == ["you read the fashion news"]  # no repeats


def test_every_phrase_has_a_known_unit_and_missing_phrases_are_named() -> None:
    for feature, (text, kind, without) in PHRASES.items():
        assert ("{}" in text) == (kind is not None), feature
        assert without and "{" not in without, feature
        assert phrase(feature, 1.0) and phrase(feature, None) == without
    assert missing_phrases(["x_type_share", "brand_new_feature"]) == ["brand_new_feature"]
