"""MAP@12, recall, the target week and the time split, against hand-computed cases and apk."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hm_lib.evaluation import (
    ap_per_customer, apk, hits_first, map_at_k, recall_at_k, score, time_split, week_truth,
)
from hm_lib.schema import ARTICLE, CUSTOMER, RANK

D = dt.date


def preds(lists: dict[int, list[int]]) -> pl.DataFrame:
    """Long prediction frame from {customer: [articles, best first]}."""
    rows = [(c, a, r) for c, arts in lists.items() for r, a in enumerate(arts, start=1)]
    return pl.DataFrame(rows, schema={CUSTOMER: pl.Int32, ARTICLE: pl.Int32, RANK: pl.Int32}, orient="row")


def truth(bought: dict[int, list[int]]) -> pl.DataFrame:
    rows = [(c, a) for c, arts in bought.items() for a in arts]
    return pl.DataFrame(rows, schema={CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")


def tx(rows: list[tuple[dt.date, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"t_dat": pl.Date, CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")


@pytest.mark.parametrize(("actual", "predicted", "expected"), [
    ([1, 2, 3], [1, 4, 2], (1 + 2 / 3) / 3),
    ([1, 2], [1, 1, 2], (1 + 2 / 3) / 2),  # the repeat is no hit but takes position 2
    ([5, 6], [5], 1 / 2),  # fewer than 12 predictions
    (list(range(20)), list(range(13)), 1.0),  # more than 12 purchases: divide by 12
    (list(range(20)), [99] * 11 + [0, 1], 1 / 12 / 12),  # hit at 12 counts, at 13 does not
    ([7, 7, 8], [8], 1 / 2),  # repeated purchases count once
    ([], [1, 2], 0.0),
    ([1], [], 0.0),
])
def test_apk_hand_cases(actual: list[int], predicted: list[int], expected: float) -> None:
    assert apk(actual, predicted) == pytest.approx(expected)


def test_map_hand_case() -> None:
    p = preds({0: [1, 1, 2], 2: [9], 3: [5, 6]})
    t = truth({0: [1, 2, 2], 1: [3], 3: [6]})  # 1 never predicted, 2 bought nothing
    ap = ap_per_customer(p, t)
    assert ap[CUSTOMER].to_list() == [0, 1, 3]
    assert ap["ap"].to_list() == pytest.approx([(1 + 2 / 3) / 2, 0.0, 1 / 2])
    assert map_at_k(p, t) == pytest.approx(((1 + 2 / 3) / 2 + 0 + 1 / 2) / 3)


def test_map_uses_rank_not_row_order() -> None:
    p = pl.DataFrame({CUSTOMER: [0, 0], ARTICLE: [2, 1], RANK: [2, 1]})
    assert map_at_k(p, truth({0: [1]})) == 1.0
    assert map_at_k(p, truth({0: [2]})) == 0.5


def test_map_empty_truth() -> None:
    assert map_at_k(preds({0: [1]}), truth({})) == 0.0


lists = st.lists(st.integers(0, 15), max_size=20)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 6), st.tuples(lists, lists), max_size=6), st.integers(1, 12))
def test_map_matches_apk(cases: dict[int, tuple[list[int], list[int]]], k: int) -> None:
    p = preds({c: pr for c, (_, pr) in cases.items()})
    t = truth({c: act for c, (act, _) in cases.items()})
    scored = [apk(act, pr, k) for act, pr in cases.values() if act]
    expected = sum(scored) / len(scored) if scored else 0.0
    assert map_at_k(p, t, k) == pytest.approx(expected)


def test_recall() -> None:
    p = preds({0: [1, 2, 3], 1: [4]})
    t = truth({0: [3, 5], 1: [4], 2: [6]})
    assert recall_at_k(p, t) == pytest.approx(2 / 4)
    assert recall_at_k(p, t, k=2) == pytest.approx(1 / 4)
    assert recall_at_k(p, t, per_customer=True) == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert recall_at_k(p, truth({})) == 0.0


def test_week_truth_window_and_distinct() -> None:
    t = tx([(D(2020, 9, 15), 0, 1), (D(2020, 9, 16), 0, 2), (D(2020, 9, 16), 0, 2),
            (D(2020, 9, 22), 1, 3), (D(2020, 9, 23), 1, 4)])
    got = week_truth(t, D(2020, 9, 16))
    assert got.rows() == [(0, 2), (1, 3)]
    assert got.schema == pl.Schema({CUSTOMER: pl.Int32, ARTICLE: pl.Int32})


def test_time_split_default_and_explicit_end() -> None:
    days = [D(2020, 9, 1) + dt.timedelta(days=i) for i in range(20)]
    t = tx([(d, i % 3, i) for i, d in enumerate(days)])
    split = time_split(t)
    assert (split.cutoff, split.test_end, split.days) == (D(2020, 9, 14), D(2020, 9, 20), 7)
    assert split.train["t_dat"].max() == D(2020, 9, 13)
    assert split.test["t_dat"].min() == D(2020, 9, 14) and split.test.height == 7
    assert split.truth.height == 7
    explicit = time_split(t, end_date=D(2020, 9, 10), days=3)
    assert explicit.cutoff == D(2020, 9, 8)
    assert explicit.test["t_dat"].to_list() == [D(2020, 9, 8), D(2020, 9, 9), D(2020, 9, 10)]
    assert explicit.train.height == 7


def test_score() -> None:
    t = tx([(D(2020, 9, 1), 0, 1), (D(2020, 9, 23), 0, 1), (D(2020, 9, 24), 0, 2), (D(2020, 9, 25), 1, 3)])
    got = score(preds({0: [2, 1], 5: [1]}), t, D(2020, 9, 23))
    assert got == {
        "map@12": pytest.approx((1 / 1 + 2 / 2) / 2 / 2),
        "recall@12": pytest.approx(2 / 3),
        "customers_scored": 2,
        "customers_predicted": 2,
        "coverage": 0.5,
    }


def test_hits_first_is_the_best_ordering_of_the_candidates() -> None:
    candidates = pl.DataFrame({CUSTOMER: [1, 1, 1, 2, 2, 3], ARTICLE: [10, 11, 12, 20, 21, 30]})
    truth = pl.DataFrame({CUSTOMER: [1, 1, 2, 4], ARTICLE: [12, 99, 20, 40]})
    best = hits_first(candidates, truth)
    assert best.rows() == [(1, 12, 1), (2, 20, 1)]
    assert map_at_k(best, truth) == pytest.approx((1 / 2 + 1 + 0) / 3)  # customer 1 bought 2, one of them proposed
    # no ordering of the candidates scores higher
    assert map_at_k(candidates.with_columns(pl.int_range(1, pl.len() + 1).over(CUSTOMER).alias(RANK)), truth) <= \
        map_at_k(best, truth)


def test_article_slices_tell_new_arrivals_rare_and_established_articles_apart_at_the_cutoff() -> None:
    from hm_lib.slices import RARE_DAYS, RARE_SALES, article_slices, slice_scores, slice_sizes, slice_truth

    cutoff = dt.date(2020, 9, 16)
    old = cutoff - dt.timedelta(days=RARE_DAYS + 1)  # outside the rare window
    recent = cutoff - dt.timedelta(days=1)
    sales = ([(old, 1, 10)] + [(recent, c, 11) for c in range(RARE_SALES)]  # 10: sold, not lately; 11: often
             + [(recent, 1, 12)] * (RARE_SALES - 1) + [(cutoff, 2, 13)])      # 12: a few times; 13: after the cut-off
    tx = pl.DataFrame(sales, schema={"t_dat": pl.Date, CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")
    slices = article_slices(tx, pl.Series([10, 11, 12, 13, 14]), cutoff)
    assert dict(slices.iter_rows()) == {10: "rare", 11: "established", 12: "rare", 13: "new", 14: "new"}
    truth = pl.DataFrame({CUSTOMER: [1, 1, 2, 3], ARTICLE: [11, 13, 13, 99]}, schema={CUSTOMER: pl.Int32,
                                                                                         ARTICLE: pl.Int32})
    parts = slice_truth(truth, slices)  # 99, unknown to the catalogue slice, counts as new
    assert {k: v.height for k, v in parts.items()} == {"new": 3, "rare": 0, "established": 1}
    assert slice_sizes(parts)["new"] == {"pairs": 3, "buyers": 3, "share": 0.75}
    preds = pl.DataFrame({CUSTOMER: [1, 1, 2], ARTICLE: [11, 13, 5], RANK: [1, 2, 1]})
    scores = slice_scores(preds, parts)
    assert scores["new"]["recall@12"] == pytest.approx(1 / 3)   # customer 1's 13, at position 2
    assert scores["new"]["map@12"] == pytest.approx((1 / 2) / 3)  # AP 1/2 for customer 1, 0 for 2 and 3
    assert scores["established"] == {"map@12": 1.0, "recall@12": 1.0}
