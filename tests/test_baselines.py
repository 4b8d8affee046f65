"""Popularity and repurchase baselines: content, shape, and no use of rows on or after the cut-off."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from hm_lib.baselines import BASELINES, decayed_popularity_with_repurchase, fill_up, popular_last_week, ranked_lists
from hm_lib.sales import decay_weight
from hm_lib.schema import ARTICLE, CUSTOMER, RANK

CUTOFF = dt.date(2020, 9, 23)


def day(n: int) -> dt.date:
    """``n`` days before the cut-off."""
    return CUTOFF - dt.timedelta(days=n)


def tx(rows: list[tuple[dt.date, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"t_dat": pl.Date, CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")


def lists(pred: pl.DataFrame) -> dict[int, list[int]]:
    """{customer: articles by rank}, checking ranks are 1..n."""
    out: dict[int, list[int]] = {}
    for c, a, r in pred.select(CUSTOMER, ARTICLE, RANK).rows():
        out.setdefault(c, []).append(a)
        assert r == len(out[c])
    return out


@pytest.fixture
def sales() -> pl.DataFrame:
    rows = [(day(1), 0, 10), (day(1), 1, 10), (day(2), 2, 10),  # 10: 3 sales last week
            (day(3), 0, 11), (day(7), 1, 11),  # 11: 2 (day 7 is the first day of the week)
            (day(2), 3, 13), (day(4), 3, 12),  # 12, 13: 1 each, tie broken by id
            (day(8), 0, 14), (day(8), 1, 14), (day(8), 2, 14), (day(8), 3, 14),  # 14: before the week
            (day(20), 4, 15)]
    return tx(rows)


def test_popular_last_week(sales: pl.DataFrame) -> None:
    got = popular_last_week(sales, CUTOFF, [7, 2], k=3)
    assert lists(got) == {7: [10, 11, 12], 2: [10, 11, 12]}
    assert got[CUSTOMER].to_list() == [7] * 3 + [2] * 3  # customers order
    assert got.schema == pl.Schema({CUSTOMER: pl.Int32, ARTICLE: pl.Int32, RANK: pl.Int32})


def test_popular_short_when_few_articles(sales: pl.DataFrame) -> None:
    assert lists(popular_last_week(sales, CUTOFF, [0])) == {0: [10, 11, 12, 13]}


def test_customers_forms(sales: pl.DataFrame) -> None:
    frame = pl.DataFrame({CUSTOMER: [1, 0], "customer_id": ["b", "a"]})
    expected = popular_last_week(sales, CUTOFF, [1, 0])
    for customers in (frame, pl.Series([1, 0]), (1, 0), [1, 0, 1]):
        assert popular_last_week(sales, CUTOFF, customers).equals(expected)


def test_decay_weight() -> None:
    frame = pl.DataFrame({"t_dat": [day(1), day(8), day(15)]})
    weights = frame.select(decay_weight(CUTOFF, 7.0))[:, 0].to_list()
    assert weights == pytest.approx([1.0, 0.5, 0.25])


def test_decayed_repurchase_then_popular(sales: pl.DataFrame) -> None:
    got = lists(decayed_popularity_with_repurchase(sales, CUTOFF, [0, 3, 4, 9], k=4, history_days=14))
    # decayed popularity: 10 (3 recent) > 14 (4 sales at day 8 = 4 * 0.5) > 11 > 13 > 12
    assert got[9] == [10, 14, 11, 13]
    assert got[0] == [10, 11, 14, 13]  # own purchases by weight: 10 (day 1), 11 (day 3), 14 (day 8)
    assert got[3] == [13, 12, 14, 10]  # own 13 (day 2), 12 (day 4), 14; then the best-seller
    assert got[4] == [10, 14, 11, 13]  # its purchase is older than history_days


def test_decayed_repeat_purchases_add_up() -> None:
    t = tx([(day(1), 0, 1), (day(8), 0, 2), (day(8), 0, 2), (day(8), 0, 2), (day(1), 1, 3)])
    assert lists(decayed_popularity_with_repurchase(t, CUTOFF, [0], k=3))[0] == [2, 1, 3]


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_nothing_from_the_future(name: str, sales: pl.DataFrame) -> None:
    baseline = BASELINES[name]
    customers = pl.Series([0, 1, 2, 3, 4, 5], dtype=pl.Int32)
    before = baseline(sales, CUTOFF, customers, 12)
    future = tx([(CUTOFF, c, 99) for c in range(6)] * 5 + [(day(-3), 0, 98)] * 9)
    after = baseline(pl.concat([sales, future]), CUTOFF, customers, 12)
    assert before.equals(after)
    assert before.schema == pl.Schema({CUSTOMER: pl.Int32, ARTICLE: pl.Int32, RANK: pl.Int32})
    counts = before.group_by(CUSTOMER).agg(pl.len(), pl.col(ARTICLE).n_unique().alias("distinct"))
    assert counts.height == 6 and (counts["len"] == counts["distinct"]).all()


def test_ranked_lists_and_fill_up() -> None:
    pred = pl.DataFrame({CUSTOMER: [1, 1, 1, 1, 8], ARTICLE: [3, 4, 3, 5, 6], RANK: [3, 2, 1, 4, 1]})
    got = ranked_lists(pred, [5, 7, 8, 9], [2, 1], k=4)  # customer 8 is not asked for
    assert got.rows() == [(2, [5, 7, 8, 9]), (1, [3, 4, 5, 7])]
    long = fill_up(pred, [9], [1, 2], k=5)
    assert lists(long) == {1: [3, 4, 5, 9], 2: [9]}
    ranked_fill = pl.DataFrame({ARTICLE: [7, 5], RANK: [2, 1]})
    assert lists(fill_up(pred.clear(), ranked_fill, [0])) == {0: [5, 7]}
