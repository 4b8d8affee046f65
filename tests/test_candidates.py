"""Candidate generation: source contract, no leak from the future, union, shards, cut-offs, recall report."""
from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from conftest import WorldDirs, make_world

from hm_lib import layout
from hm_lib.candidates import (
    SOURCE_SCHEMA, SOURCES, CandidateSettings, CutoffError, Past, fit_sources,
    generate_candidates, read_candidates, union, write_candidates,
)
from hm_lib.candidates.cooccurrence import cooccurrence
from hm_lib.candidates.last_year import NoLastYearWarning
from hm_lib.candidates.past import SparseWeekWarning
from hm_lib.candidates.popular import Popular
from hm_lib.candidates.sparse import top_k_dense, top_k_frame, top_k_per_row
from hm_lib.data import Dataset
from hm_lib.errors import SettingError
from hm_lib.evaluation import (
    candidate_figures, candidate_recall_curve, candidate_report, candidate_sources, recall_at_k, week_truth,
)
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE
from hm_lib.synthetic import load_truth

CUTOFF = dt.date(2020, 9, 16)
TINY = CandidateSettings.for_scale("tiny")


def day(n: int) -> dt.date:
    """``n`` days before the cut-off."""
    return CUTOFF - dt.timedelta(days=n)


def tx(rows: list[tuple[dt.date, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"t_dat": pl.Date, CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")


def catalogue(ids: list[int], types: dict[int, int] | None = None) -> pl.DataFrame:
    """Articles whose product code is id // 10 (so 11 and 12 are colours of one code)."""
    types = types or {}
    return pl.DataFrame({ARTICLE: ids, "product_code": [i // 10 for i in ids],
                         "product_type_no": [types.get(i, 1) for i in ids]})


def people(ages: list[float | None]) -> pl.DataFrame:
    schema = {CUSTOMER: pl.Int32, "age": pl.Float32}
    return pl.DataFrame({CUSTOMER: range(len(ages)), "age": ages}, schema=schema)


def past_of(sales: pl.DataFrame, articles: pl.DataFrame, ages: pl.DataFrame) -> Past:
    return Past.build(sales, CUTOFF, articles, ages)


def lists(frame: pl.DataFrame, rank: str = RANK) -> dict[int, list[int]]:
    """{customer: articles by rank}."""
    out: dict[int, list[int]] = {}
    for c, a in frame.sort(CUSTOMER, rank).select(CUSTOMER, ARTICLE).rows():
        out.setdefault(c, []).append(a)
    return out


def with_random_photos(past: Past, width: int = 8) -> Past:
    """``past`` with seeded random photo descriptors (every article has a photo), for the look-alike source."""
    photos = np.random.default_rng(5).normal(size=(past.n_articles, width)).astype(np.float16)
    return past.with_photos(photos)


@pytest.fixture(scope="module")
def tiny_past(tiny_data: Dataset) -> Past:
    return with_random_photos(Past.from_dataset(tiny_data, tiny_data.end_date - dt.timedelta(days=6)))


# --- settings -----------------------------------------------------------------------------------------------

def test_settings_per_scale_and_checks() -> None:
    assert CandidateSettings.for_scale("tiny").cap < CandidateSettings.for_scale("default").cap
    assert CandidateSettings.for_scale("small", cap=7).cap == 7
    with pytest.raises(ValueError, match="unknown scale"):
        CandidateSettings.for_scale("huge")
    with pytest.raises(ValueError, match="cap must be positive"):
        CandidateSettings(cap=0)
    with pytest.raises(ValueError, match="similar_on"):
        CandidateSettings(similar_on="colour")
    with pytest.raises(dataclasses.FrozenInstanceError):
        TINY.cap = 3  # type: ignore[misc]


# --- the contract every source keeps ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SOURCES))
def test_source_contract(name: str, tiny_past: Past, tiny_data: Dataset) -> None:
    customers = tiny_data.customers[CUSTOMER].sample(300, seed=1)
    rows = SOURCES[name](TINY).fit(tiny_past).recommend(customers)
    assert rows.schema == SOURCE_SCHEMA
    assert rows.height > 0
    assert rows[CUSTOMER].is_in(customers.implode()).all()
    assert rows.select(CUSTOMER, ARTICLE).is_unique().all()
    assert rows[ARTICLE].is_in(tiny_data.articles[ARTICLE].implode()).all()
    assert rows.equals(rows.sort(CUSTOMER, RANK))
    limit = getattr(TINY, f"{name}_n") + (TINY.popular_partners if name == "popular" else 0)
    per = rows.group_by(CUSTOMER).agg(pl.len(), pl.col(RANK).max().alias("top"),
                                      (pl.col(SCORE).diff() <= 0).all().alias("sorted"))
    assert (per["len"] <= limit).all() and (per["top"] == per["len"]).all()  # ranks 1..m
    assert per["sorted"].all()  # scores fall with the rank
    again = SOURCES[name](TINY).fit(tiny_past).recommend(customers)
    assert rows.equals(again)  # deterministic


@pytest.mark.parametrize("name", [*SOURCES, "union"])
def test_nothing_on_or_after_the_cutoff_is_read(name: str, tiny_data: Dataset) -> None:
    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    customers = tiny_data.customers[CUSTOMER]
    later = tiny_data.transactions.filter(pl.col("t_dat") >= cutoff)
    # A flood of sales on and after the cut-off, of one article, by everyone.
    flood = pl.concat([customers.to_frame().select(
        pl.lit(cutoff + dt.timedelta(days=d)).alias("t_dat"), pl.col(CUSTOMER),
        pl.lit(tiny_data.articles[ARTICLE][0]).alias(ARTICLE),
    ) for d in (0, 3, 10)])
    before = tiny_data.transactions.filter(pl.col("t_dat") < cutoff).select("t_dat", CUSTOMER, ARTICLE)
    busier = pl.concat([before, later.select("t_dat", CUSTOMER, ARTICLE), flood, flood])

    def run(sales: pl.DataFrame) -> pl.DataFrame:
        past = with_random_photos(Past.build(sales, cutoff, tiny_data.articles, tiny_data.customers))
        assert past.transactions["t_dat"].max() < cutoff
        if name == "union":
            return generate_candidates(past, customers, dataclasses.replace(TINY, sources=tuple(SOURCES)))
        return SOURCES[name](TINY).generate(past, customers)

    assert run(before).equals(run(busier))


# --- each source on a hand-made case ------------------------------------------------------------------------

def test_repurchase_weights_recent_purchases_and_units() -> None:
    sales = tx([(day(1), 0, 10), (day(15), 0, 20), (day(15), 0, 20), (day(15), 0, 20), (day(200), 0, 30),
                (day(3), 1, 10)])
    settings = CandidateSettings(repurchase_half_life_days=14, repurchase_days=182)
    past = past_of(sales, catalogue([10, 20, 30]), people([30, 40]))
    got = SOURCES["repurchase"](settings).generate(past, [0, 1, 2])
    assert lists(got) == {0: [20, 10], 1: [10]}  # 3 units at half weight beat 1; 30 is too old; 2 has none
    assert got.filter(pl.col(CUSTOMER) == 0)[SCORE].to_list() == pytest.approx([1.5, 1.0])


def test_cooccurrence_counts_shared_baskets() -> None:
    # Customer 0 buys 10+20 in one week, 10+30 two weeks later; customer 1 buys 10+20; 40 alone.
    sales = tx([(day(1), 0, 10), (day(2), 0, 20), (day(15), 0, 10), (day(16), 0, 30), (day(3), 1, 10),
                (day(3), 1, 20), (day(4), 2, 40)])
    past = past_of(sales, catalogue([10, 20, 30, 40]), people([30, 30, 30]))
    p = cooccurrence(past, CandidateSettings(cooccurrence_window_days=7)).toarray()
    # baskets holding 10: three; two also hold 20, one holds 30
    assert p[0].tolist() == pytest.approx([0, 2 / 3, 1 / 3, 0])
    assert p[1].tolist() == pytest.approx([1, 0, 0, 0]) and p[3].sum() == 0


def test_together_proposes_partners_of_recent_purchases() -> None:
    sales = tx([(day(20), c, 10) for c in range(1, 6)] + [(day(20), c, 20) for c in range(1, 6)]
               + [(day(20), 6, 10), (day(20), 6, 30), (day(2), 0, 10)])
    got = SOURCES["together"](CandidateSettings()).generate(
        past_of(sales, catalogue([10, 20, 30]), people([30] * 7)), [0])
    assert lists(got) == {0: [20, 30]}  # 20 is bought with 10 five times, 30 once


def test_similar_customers_vote_with_their_last_week() -> None:
    # 0 and 1 share a taste (codes 1, 2); 2 has another (code 5). Last week 1 bought 30, 2 bought 60.
    sales = tx([(day(60), 0, 10), (day(60), 0, 20), (day(50), 1, 11), (day(50), 1, 20), (day(3), 1, 30),
                (day(40), 2, 50), (day(3), 2, 60), (day(40), 3, 50), (day(40), 3, 51)])
    past = past_of(sales, catalogue([10, 11, 20, 30, 50, 51, 60]), people([30] * 4))
    got = SOURCES["similar"](CandidateSettings()).generate(past, [0, 3])
    assert lists(got)[0][0] == 30 and 60 not in lists(got)[0]
    assert lists(got)[3] == [60]


def test_popular_is_last_week_best_sellers_and_their_partners() -> None:
    sales = tx([(day(1), c, 10) for c in range(4)] + [(day(1), 0, 20), (day(2), 1, 20), (day(3), 2, 30)]
               + [(day(9), c, a) for c in (5, 6) for a in (10, 40)])
    settings = CandidateSettings(popular_n=2, popular_partners=1)
    past = past_of(sales, catalogue([10, 20, 30, 40]), people([30] * 7))
    got = SOURCES["popular"](settings).generate(past, [7])
    assert lists(got) == {7: [10, 20, 40]}  # 30 sold once last week; 40 is bought with 10 twice (30 once)


def test_last_year_maps_vanished_articles_to_their_code_or_type() -> None:
    year = dt.timedelta(days=364)
    sold = [(0, 10), (1, 10), (2, 10), (3, 30), (4, 30), (5, 50)]
    then = [(CUTOFF - year + dt.timedelta(days=1), c, a) for c, a in sold]
    now = [(day(2), 6, 11), (day(2), 7, 11), (day(3), 6, 12), (day(3), 6, 50), (day(4), 6, 70),
           (day(4), 7, 70)]
    types = {10: 1, 11: 1, 12: 1, 30: 2, 50: 3, 70: 2}
    past = past_of(tx(then + now), catalogue([10, 11, 12, 30, 50, 70], types), people([30] * 8))
    got = SOURCES["last_year"](CandidateSettings()).generate(past, [0])
    # 10 is gone: its 1/2 goes to 11 and 12 (code 1) by recent sales 2:1; 30 is gone and its code has no
    # article on sale: its 1/3 goes to the type's best-seller 70; 50 is on sale: kept with its 1/6.
    assert lists(got) == {0: [11, 70, 12, 50]}
    assert got[SCORE].to_list() == pytest.approx([1 / 3, 1 / 3, 1 / 6, 1 / 6])


def test_cold_start_serves_only_customers_without_history_by_age_band() -> None:
    young = [(day(2), 0, 10)] * 300 + [(day(2), 1, 10)] * 300
    old = [(day(2), 2, 20)] * 300 + [(day(2), 3, 30)] * 200
    ages = people([21, 22, 61, 62, 23, 64, None])
    past = past_of(tx(young + old), catalogue([10, 20, 30]), ages)
    got = lists(SOURCES["cold_start"](CandidateSettings(age_band_years=10)).generate(past, range(8)))
    assert set(got) == {4, 5, 6, 7}  # 0..3 have history; 7 is unknown to the customers table
    assert got[4][0] == 10 and got[5][0] == 20  # their band's best-seller first
    assert got[6] == got[7] == [10, 20, 30]  # unknown age: overall best-sellers


def test_new_arrivals_match_unsold_and_just_launched_articles_to_the_customers_attributes() -> None:
    # product code = id // 10; types: 11, 12, 13 and 30 are type 1, 20 and 40 type 2
    articles = catalogue([11, 12, 13, 20, 30, 40, 50], {20: 2, 40: 2})
    sales = [(day(30), 0, 11), (day(3), 1, 20), (day(100), 2, 50),
             (day(300), 3, 11)]  # customer 3 bought long ago (before the history window)
    past = past_of(tx(sales), articles, people([30.0] * 5))
    got = SOURCES["new_arrivals"](CandidateSettings(new_arrivals_n=3)).generate(past, range(5))
    assert set(lists(got)) == {0, 1, 2}  # 3: no purchase in the window, 4: none at all
    # the pool: never sold (12, 13, 30, 40) and first sold in the last 7 days (20); 11 and 50 sold earlier
    assert set(got[ARTICLE].to_list()) <= {12, 13, 20, 30, 40}
    # customer 0 bought 11: new colours of its code (12, 13: code and type match) before 30 (type only)
    assert lists(got)[0] == [12, 13, 30]
    assert got.filter(pl.col(CUSTOMER) == 0)[SCORE].to_list() == pytest.approx([2.0, 2.0, 1.0])
    assert lists(got)[1] == [20, 40]  # type 2: 20 (its own code too), then 40; no other match
    assert lists(got)[2] == [12, 13, 30]  # bought 50 (type 1, no new colour): type 1 only, ties by article id


def test_look_alikes_are_new_arrivals_nearest_to_the_photos_of_recent_purchases(caplog) -> None:
    articles = catalogue([11, 12, 13, 20, 30, 40, 50])
    photos = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [0, 0, 0], [0, 1, 0.1]],
                      dtype=np.float16)  # 40 has no photo (a row of zeros)
    sales = [(day(30), 0, 11), (day(2), 1, 40), (day(20), 2, 50), (day(300), 3, 11)]
    past = past_of(tx(sales), articles, people([30.0] * 5))
    settings = CandidateSettings(look_alike_n=3)
    got = SOURCES["look_alike"](settings).generate(past.with_photos(photos), range(5))
    # 1 bought only 40 (no photo), 3 long ago (before the history window), 4 nothing
    assert set(lists(got)) == {0, 2}
    assert set(got[ARTICLE].to_list()) <= {12, 13, 20, 30}  # the launch pool with photos; 40 (just launched) has none
    assert lists(got)[0][0] == 12 and 30 not in lists(got)[0]  # 11's look-alike first, its opposite last
    assert lists(got)[2][0] == 13  # 50 looks like 13
    assert got[SCORE].is_between(0.0, 1.0).all()
    with caplog.at_level("WARNING"):
        assert SOURCES["look_alike"](settings).generate(past, range(5)).is_empty()  # no descriptors
    assert "no photo descriptors" in caplog.text


def test_photo_descriptors_must_have_a_row_per_article(tiny_past: Past) -> None:
    with pytest.raises(ValueError, match="one row per article"):
        tiny_past.with_photos(np.zeros((3, 8), dtype=np.float16))


# --- union --------------------------------------------------------------------------------------------------

def proposal(rows: list[tuple[int, int, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(SOURCE_SCHEMA), orient="row")


def test_union_deduplicates_keeps_every_score_and_caps_round_robin() -> None:
    a = proposal([(0, 1, 0.9, 1), (0, 2, 0.5, 2), (0, 3, 0.1, 3), (1, 4, 1.0, 1)])
    b = proposal([(0, 2, 7.0, 1), (0, 5, 6.0, 2), (0, 6, 5.0, 3)])
    got = union({"a": a, "b": b}, cap=4)
    assert got.columns == [CUSTOMER, ARTICLE, "a_score", "a_rank", "b_score", "b_rank"]
    assert got.schema["a_rank"] == pl.Int16 and got.schema["b_score"] == pl.Float32
    # customer 0: rank 1 of a (1), rank 1 of b (2), rank 2 of a (already in), rank 2 of b (5), then 3 of a
    assert lists(got.with_row_index(RANK)) == {0: [1, 2, 5, 3], 1: [4]}
    pair = got.filter(pl.col(ARTICLE) == 2).row(0, named=True)
    assert (pair["a_rank"], pair["b_rank"], pair["b_score"]) == (2, 1, 7.0)
    assert got.filter(pl.col(ARTICLE) == 5)["a_rank"].is_null().all()
    assert union({"a": a, "b": b}, cap=100).height == 6


def test_every_served_customer_gets_candidates(tiny_past: Past, tiny_data: Dataset) -> None:
    strangers = [10_000, 10_001]  # unknown to the transactions and to the customers table
    never = tiny_data.customers.join(tiny_past.transactions, on=CUSTOMER, how="anti")[CUSTOMER].to_list()
    served = [*tiny_data.customers[CUSTOMER].to_list(), *strangers]
    got = generate_candidates(tiny_past, served, TINY)
    per = got.group_by(CUSTOMER).len()
    assert per.height == len(served) and (per["len"] <= TINY.cap).all()
    assert got.select(CUSTOMER, ARTICLE).is_unique().all()
    cold = got.filter(pl.col(CUSTOMER).is_in([*never, *strangers]))
    assert cold["cold_start_rank"].is_not_null().any() and cold["repurchase_rank"].is_null().all()
    assert set(cold[CUSTOMER]) == {*never, *strangers}


def test_union_recall_is_at_least_each_sources(tiny_data: Dataset) -> None:
    for weeks_back in (0, 1, 2):
        cutoff = tiny_data.end_date - dt.timedelta(days=6 + 7 * weeks_back)
        truth = week_truth(tiny_data.transactions, cutoff)
        uncapped = TINY.replace(cap=1000)
        report = candidate_report(generate_candidates(Past.from_dataset(tiny_data, cutoff),
                                                      truth[CUSTOMER].unique(), uncapped), truth)
        recall = dict(report.select("source", "recall").rows())
        assert recall["union"] >= max(v for k, v in recall.items() if k != "union") > 0


# --- cut-offs -----------------------------------------------------------------------------------------------

def test_bad_cutoffs_are_clear_errors(tiny_data: Dataset) -> None:
    with pytest.raises(CutoffError, match="on or before the first day"):
        Past.from_dataset(tiny_data, tiny_data.start_date)
    late = tiny_data.end_date + dt.timedelta(days=9)
    with pytest.raises(CutoffError, match=f"more than a week after the data ends \\({tiny_data.end_date}\\)"):
        Past.from_dataset(tiny_data, late)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Past.from_dataset(tiny_data, tiny_data.end_date + dt.timedelta(days=1))  # the submission cut-off


def test_a_week_without_sales_falls_back_to_the_last_week_with_some(tiny_data: Dataset) -> None:
    late = tiny_data.end_date + dt.timedelta(days=8)  # the latest usable cut-off: nothing sold in its week
    with pytest.warns(SparseWeekWarning, match="no sales in the 7 days before"):
        past = Past.from_dataset(tiny_data, late)
    assert past.week_end == tiny_data.end_date + dt.timedelta(days=1)
    # the sales of the last week with some, as at the cut-off right after it, serve the best-sellers
    usual = Past.from_dataset(tiny_data, tiny_data.end_date + dt.timedelta(days=1))
    assert past.last_week().height > 0 and past.last_week().equals(usual.last_week())
    got = generate_candidates(past, [0, 1], TINY)
    per_customer = got.group_by(CUSTOMER).agg(pl.col("popular_rank").is_not_null().sum())["popular_rank"]
    assert per_customer.len() == 2 and (per_customer > 0).all()
    served = Popular(TINY).fit(past).recommend(pl.Series(CUSTOMER, [0]))
    assert TINY.popular_n < served.height <= TINY.popular_n + TINY.popular_partners


def test_without_a_year_of_history_last_year_is_empty_but_everyone_is_served(tiny_data: Dataset) -> None:
    early = tiny_data.start_date + dt.timedelta(days=30)
    with pytest.warns(NoLastYearWarning):
        got = generate_candidates(Past.from_dataset(tiny_data, early), range(50), TINY)
    assert got["last_year_rank"].is_null().all()
    assert got[CUSTOMER].n_unique() == 50


def test_unknown_articles_in_the_sales_are_an_error() -> None:
    with pytest.raises(ValueError, match="article 99 of the transactions is not in the articles table"):
        past_of(tx([(day(1), 0, 99)]), catalogue([10]), people([30]))


# --- shards on disk -----------------------------------------------------------------------------------------

def test_write_candidates_layout_and_resume(tiny_past: Past, tiny_data: Dataset, tmp_path: Path) -> None:
    customers = tiny_data.customers
    first = write_candidates(tiny_past, customers, TINY, tmp_path, shard_customers=200, progress=False)
    folder = layout.candidates_dir(tmp_path, tiny_past.cutoff)
    assert folder == tmp_path / "candidates" / f"cutoff={tiny_past.cutoff}" == first.path
    assert sorted(p.name for p in folder.glob("part-*")) == ["part-0000.parquet", "part-0001.parquet",
                                                              "part-0002.parquet"]
    assert (first.shards, first.written, first.reused, first.customers) == (3, 3, 0, customers.height)
    written = read_candidates(tmp_path, tiny_past.cutoff).collect()
    assert written.height == first.rows
    assert written.schema[CUSTOMER] == pl.Int32 and written.schema[ARTICLE] == pl.Int32
    assert candidate_sources(written) == list(TINY.sources)
    assert written.equals(generate_candidates(tiny_past, customers, TINY))
    part = pl.read_parquet(folder / "part-0001.parquet")
    assert part[CUSTOMER].min() >= 200 and part[CUSTOMER].max() < 400

    (folder / "part-0001.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="incomplete"):
        read_candidates(tmp_path, tiny_past.cutoff)
    stamp = (folder / "part-0000.parquet").stat().st_mtime_ns
    again = write_candidates(tiny_past, customers, TINY, tmp_path, shard_customers=200, progress=False)
    assert (again.written, again.reused) == (1, 2)
    assert (folder / "part-0000.parquet").stat().st_mtime_ns == stamp  # a finished shard is not recomputed
    assert read_candidates(tmp_path, tiny_past.cutoff).collect().equals(written)

    changed = write_candidates(tiny_past, customers, TINY.replace(cap=5), tmp_path, 200, progress=False)
    assert changed.written == 3  # other settings: everything again
    assert read_candidates(tmp_path, tiny_past.cutoff).collect().group_by(CUSTOMER).len()["len"].max() <= 5
    with pytest.raises(FileNotFoundError, match="no candidates for the cut-off"):
        read_candidates(tmp_path, dt.date(2000, 1, 1))


# --- the recall report --------------------------------------------------------------------------------------

def test_candidate_report_hand_case() -> None:
    # Customers 0..2 are served; 0 and 1 bought (0: 1, 2, 3; 1: 7). Rows are in union order.
    cands = pl.DataFrame({
        CUSTOMER: [0, 0, 0, 1, 1, 2],
        ARTICLE: [1, 9, 2, 8, 7, 1],
        "a_score": [1.0, 0.5, None, None, None, 1.0], "a_rank": [1, 2, None, None, None, 1],
        "b_score": [None, 2.0, 1.0, 3.0, 1.0, None], "b_rank": [None, 1, 2, 1, 2, None],
    }, schema_overrides={"a_rank": pl.Int16, "b_rank": pl.Int16})
    truth = pl.DataFrame({CUSTOMER: [0, 0, 0, 1], ARTICLE: [1, 2, 3, 7]})
    report = candidate_report(cands, truth)
    rows = {r["source"]: r for r in report.to_dicts()}
    assert list(rows) == ["a", "b", "union"]
    assert rows["a"]["customers"] == 2 and rows["a"]["candidates_per_customer"] == pytest.approx(3 / 3)
    assert rows["b"]["candidates_per_customer"] == pytest.approx(4 / 3)
    assert rows["union"]["candidates_per_customer"] == pytest.approx(6 / 3)
    assert (rows["a"]["hits"], rows["b"]["hits"], rows["union"]["hits"]) == (1, 2, 3)
    assert rows["a"]["recall"] == pytest.approx(1 / 4) and rows["union"]["recall"] == pytest.approx(3 / 4)
    # a alone: customer 0 gets [1, 9] -> AP 1/3; customer 1 nothing.
    # b alone: 0 gets [9, 2] -> (1/2)/3; 1 gets [8, 7] -> 1/2
    assert rows["a"]["map@12"] == pytest.approx((1 / 3 + 0) / 2)
    assert rows["b"]["map@12"] == pytest.approx((1 / 6 + 1 / 2) / 2)
    # union order: 0 gets [1, 9, 2] -> (1 + 2/3)/3; 1 gets [8, 7] -> 1/2
    assert rows["union"]["map@12"] == pytest.approx(((1 + 2 / 3) / 3 + 1 / 2) / 2)
    curve = candidate_recall_curve(cands, truth)
    assert curve["n"].to_list() == [1, 2, 3]
    assert curve["candidates_per_customer"].to_list() == pytest.approx([1.0, 5 / 3, 2.0])
    assert curve["recall"].to_list() == pytest.approx([1 / 4, 2 / 4, 3 / 4])
    assert candidate_figures(report)["b"]["hits"] == 2


def test_top_k_per_row_keeps_the_largest_ties_to_the_smaller_column() -> None:
    m = sp.csr_matrix(np.array([[0, 3, 1, 3], [0, 0, 0, 0], [5, 0, 0, 1]], dtype=np.float32))
    assert top_k_per_row(m, 2).toarray().tolist() == [[0, 3, 0, 3], [0, 0, 0, 0], [5, 0, 0, 1]]
    assert top_k_per_row(m, 1).toarray().tolist() == [[0, 3, 0, 0], [0, 0, 0, 0], [5, 0, 0, 0]]


def test_the_dense_top_k_gives_the_rows_of_the_sparse_one() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        m = rng.integers(0, 4, (30, 17)).astype(np.float32)  # many ties, zeros
        customers, article_ids = np.arange(30) * 3, np.arange(17) + 100
        for k in (1, 3, 17, 20):
            assert top_k_dense(m, customers, article_ids, k).equals(
                top_k_frame(sp.csr_matrix(m), customers, article_ids, k)), k


def test_fit_sources_rejects_unknown_names(tiny_past: Past) -> None:
    with pytest.raises(SettingError, match="unknown candidate source.*astrology.*choose from repurchase"):
        fit_sources(tiny_past, TINY, ["repurchase", "astrology"])
    with pytest.raises(SettingError, match="candidates__sources is empty"):
        fit_sources(tiny_past, dataclasses.replace(TINY, sources=()))


def test_the_sources_setting_chooses_what_runs(tiny_past: Past, tiny_data: Dataset) -> None:
    assert "look_alike" not in TINY.sources  # not a default source until it pays (docs/benchmarks.md)
    customers = tiny_data.customers[CUSTOMER]
    two = generate_candidates(tiny_past, customers, dataclasses.replace(TINY, sources=("look_alike", "popular")))
    assert candidate_sources(two) == ["look_alike", "popular"]


# --- planted structure: found when it is there, not when its knob is off (more in bench_candidates.py knobs) 

@pytest.fixture(scope="module")
def knob_worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WorldDirs]:
    knobs = {"repurchase": {"repurchase": 0.15}, "no repurchase": {"repurchase": 0.0},
             "no basket partners": {"basket_partner": 0.0}}
    return {name: make_world(tmp_path_factory.mktemp("knobs"), scale="small", images=False, **off)
            for name, off in knobs.items()}


def test_repurchase_finds_planted_repurchases(knob_worlds: dict[str, WorldDirs]) -> None:
    settings = CandidateSettings.for_scale("small")

    def mean_recall(world: WorldDirs) -> float:
        ds, found = world.dataset(), []
        for weeks_back in range(4):
            cutoff = ds.end_date - dt.timedelta(days=6 + 7 * weeks_back)
            truth = week_truth(ds.transactions, cutoff)
            past = Past.from_dataset(ds, cutoff)
            rows = SOURCES["repurchase"](settings).generate(past, truth[CUSTOMER].unique())
            found.append(recall_at_k(rows, truth))
        return float(np.mean(found))

    assert mean_recall(knob_worlds["repurchase"]) > 1.3 * mean_recall(knob_worlds["no repurchase"])


def planted_partner_share(world: WorldDirs) -> float:
    """Share of the articles whose most co-bought article is a partner the generator planted."""
    ds, truth = world.dataset(), load_truth(world.truth)
    past = Past.from_dataset(ds, ds.end_date - dt.timedelta(days=6))
    learned = cooccurrence(past, CandidateSettings.for_scale("small"))
    to_past = past.articles[ARTICLE].search_sorted(pl.Series(truth.article_ids)).to_numpy()
    coo = truth.partners.tocoo()
    planted = sp.csr_matrix((np.ones(coo.nnz), (to_past[coo.row], to_past[coo.col])), shape=learned.shape)
    rows = np.flatnonzero(np.diff(learned.indptr) > 0)
    top = np.asarray(learned[rows].argmax(axis=1)).ravel()
    return float((np.asarray(planted[rows, top]).ravel() > 0).mean())


def test_cooccurrence_finds_planted_basket_partners(knob_worlds: dict[str, WorldDirs]) -> None:
    assert planted_partner_share(knob_worlds["repurchase"]) > 0.2  # basket partners at their default
    assert planted_partner_share(knob_worlds["no basket partners"]) < 0.05
