"""Negative sampling: positives, the two strategies, never a positive, no repeated pair, seeding,
storage per cut-off, and the validation split."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from conftest import WorldDirs
from hm_lib import layout
from hm_lib.data import Dataset
from hm_lib.negatives import (
    PAIR_SCHEMA, NegativeSettings, PairSplit, article_categories, build_pairs, held_out,
    sample_pairs, split_pairs, window_positives,
)
from hm_lib.negatives import plots
from hm_lib.negatives.sampling import build_pools, draw, quotas, window_inputs
from hm_lib.schema import ARTICLE, CUSTOMER, image_relpath

matplotlib.use("Agg")

CUTOFF = dt.date(2020, 9, 23)
PAIR = [CUSTOMER, ARTICLE]


def day(n: int) -> dt.date:
    """``n`` days before the cut-off."""
    return CUTOFF - dt.timedelta(days=n)


def tx(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    """Transactions from (customer, article, days before the cut-off)."""
    return pl.DataFrame([(day(d), c, a) for c, a, d in rows],
                        schema={"t_dat": pl.Date, CUSTOMER: pl.Int32, ARTICLE: pl.Int32}, orient="row")


def catalogue(types: dict[int, int], groups: dict[int, str] | None = None) -> pl.DataFrame:
    """Articles with a product type (and a group: the type's, or "G" + type)."""
    groups = groups or {}
    ids = sorted(types)
    return pl.DataFrame({
        ARTICLE: pl.Series(ids, dtype=pl.Int32),
        "product_type_no": pl.Series([types[a] for a in ids], dtype=pl.Int32),
        "product_type_name": [f"type {types[a]}" for a in ids],
        "product_group_name": [groups.get(types[a], f"G{types[a]}") for a in ids],
    })


def negatives(pairs: pl.DataFrame) -> pl.DataFrame:
    return pairs.filter(pl.col("label") == 0)


def check_pairs(pairs: pl.DataFrame, transactions: pl.DataFrame, articles: pl.DataFrame,
                cfg: NegativeSettings) -> None:
    """The invariants every draw must keep."""
    assert pairs.schema == PAIR_SCHEMA
    positives = window_positives(transactions, CUTOFF, cfg.window_days)
    got_positives = pairs.filter(pl.col("label") == 1)
    assert got_positives.select(CUSTOMER, ARTICLE, "day").sort(CUSTOMER, "day", ARTICLE).equals(positives)
    assert (got_positives["strategy"] == "positive").all()
    neg = negatives(pairs)
    assert neg.join(positives, on=PAIR, how="semi").is_empty(), "a negative is a purchase of the window"
    assert not neg.select(PAIR).is_duplicated().any(), "a (customer, article) negative appears twice"
    assert not pairs.select(CUSTOMER, ARTICLE, "day").is_duplicated().any()
    per_day = pairs.group_by(CUSTOMER, "day").agg(pos=pl.col("label").sum(), neg=(pl.col("label") == 0).sum())
    assert (per_day["neg"] <= cfg.ratio * per_day["pos"]).all()
    # Every negative shares its category with a positive of the same customer and day.
    cats = article_categories(articles, positives[ARTICLE].unique(), cfg).select(ARTICLE, "cat")
    own = positives.join(cats, on=ARTICLE).select(CUSTOMER, "day", "cat").unique()
    assert neg.join(cats, on=ARTICLE, how="left")["cat"].null_count() == 0, "a negative that did not sell"
    assert neg.join(cats, on=ARTICLE).join(own, on=[CUSTOMER, "day", "cat"], how="anti").is_empty()
    # A same-day negative was bought that day by another customer.
    same_day = neg.filter(pl.col("strategy") == "same_day")
    sellers = positives.rename({CUSTOMER: "seller"})
    found = same_day.join(sellers, on=[ARTICLE, "day"]).filter(pl.col("seller") != pl.col(CUSTOMER))
    assert found.select(CUSTOMER, ARTICLE, "day").unique().height == same_day.height


def check_split(pairs: pl.DataFrame, cfg: NegativeSettings, seed: int) -> PairSplit:
    """The split's rule: nothing lost, no (customer, day) on both sides, held-out training days come first."""
    split = split_pairs(pairs, CUTOFF, cfg, seed)
    assert split.train.height + split.valid.height == pairs.height
    assert split.train.join(split.valid, on=[CUSTOMER, "day"], how="semi").is_empty()
    assert split.valid.filter(pl.col("day") < split.valid_start).is_empty()
    held_train = split.train.join(split.valid.select(CUSTOMER).unique(), on=CUSTOMER)
    assert held_train.filter(pl.col("day") >= split.valid_start).is_empty()
    return split


@st.composite
def worlds(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, NegativeSettings, int]:
    """Small random transactions (some outside the window, some repeated), articles and settings."""
    n_articles = draw(st.integers(1, 12))
    types = {100 + a: draw(st.integers(0, 3)) for a in range(n_articles)}
    groups = {t: draw(st.sampled_from(["A", "B"])) for t in set(types.values())}
    rows = draw(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(sorted(types)), st.integers(0, 12)),
                         max_size=40))
    cfg = NegativeSettings(window_days=10, validation_days=3, ratio=draw(st.integers(0, 6)),
                           same_day_share=draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                           min_category_articles=draw(st.integers(1, 4)),
                           top_up_rounds=draw(st.integers(0, 2)))
    return tx(rows), catalogue(types, groups), cfg, draw(st.integers(0, 2**32 - 1))


@given(worlds())
@hyp_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_negatives_are_never_positives_nor_repeated_and_the_draw_is_seeded(world) -> None:
    transactions, articles, cfg, seed = world
    pairs, report = sample_pairs(transactions, articles, CUTOFF, cfg, seed)
    check_pairs(pairs, transactions, articles, cfg)
    assert pairs.equals(sample_pairs(transactions.reverse(), articles, CUTOFF, cfg, seed)[0])
    counts = negatives(pairs)["strategy"].value_counts()
    assert report.negatives == {s: int(counts.filter(pl.col("strategy") == s)["count"].sum())
                                for s in ("same_category", "same_day")}
    assert sum(report.requested.values()) == cfg.ratio * report.positives
    for s in report.requested:
        assert report.shortfall[s] == report.requested[s] - report.negatives[s] >= 0
    check_split(pairs, dataclasses.replace(cfg, validation_share=0.5), seed)


def test_positives_are_the_distinct_purchases_of_the_window() -> None:
    rows = [(1, 10, 1), (1, 10, 1), (1, 10, 3), (2, 11, 28), (2, 12, 29), (3, 13, 0)]  # day 0: the cut-off
    got = window_positives(tx(rows), CUTOFF, 28)
    assert got.rows() == [(1, 10, day(3)), (1, 10, day(1)), (2, 11, day(28))]


def test_empty_window_gives_empty_pairs() -> None:
    pairs, report = sample_pairs(tx([(1, 10, 40)]), catalogue({10: 1}), CUTOFF, NegativeSettings(), 0)
    assert pairs.is_empty() and pairs.schema == PAIR_SCHEMA
    assert report.positives == 0 and report.negatives == {"same_category": 0, "same_day": 0}


def test_same_day_negatives_follow_the_customers_category_mix() -> None:
    # 40 other customers each buy one trouser (type 1) and one top (type 2) that day: a deep pool.
    others = [(c, 100 + c, 1) for c in range(1, 41)] + [(c, 200 + c, 1) for c in range(1, 41)]
    mine = [(0, 101, 1), (0, 102, 1), (0, 103, 1), (0, 201, 1)]  # 3 trousers, 1 top
    articles = catalogue({**{100 + c: 1 for c in range(1, 41)}, **{200 + c: 2 for c in range(1, 41)}})
    cfg = NegativeSettings(ratio=4, same_day_share=1.0, min_category_articles=1, top_up_rounds=10)
    pairs, report = sample_pairs(tx(others + mine), articles, CUTOFF, cfg, seed=7)
    got = negatives(pairs).filter(pl.col(CUSTOMER) == 0).join(articles, on=ARTICLE)["product_type_no"]
    assert sorted(got.to_list()) == [1] * 12 + [2] * 4  # 75% trousers, 25% tops, as bought
    assert report.shortfall == {"same_category": 0, "same_day": 0}


def test_same_day_draws_skip_the_customers_own_rows() -> None:
    cfg = NegativeSettings(min_category_articles=1)
    rows = [(0, a, 1) for a in range(101, 111)] + [(1, 111, 1)]  # customer 0 bought 10 of the 11 rows
    inputs = window_inputs(tx(rows), catalogue({a: 1 for a in range(101, 112)}), CUTOFF, cfg)
    pools = build_pools(inputs.positives, inputs.categories)
    rep, drawn = draw(pools, "same_day", np.full(inputs.positives.height, 50), np.random.default_rng(0))
    owner = inputs.positives[CUSTOMER].to_numpy()[rep]
    assert set(drawn[owner == 0]) == {111} and set(drawn[owner == 1]) == set(range(101, 111))


def test_small_types_fall_back_to_their_group() -> None:
    types = {**{100 + i: 1 for i in range(6)}, 200: 2, 201: 2, **{300 + i: 3 for i in range(4)}}
    articles = catalogue(types, {1: "Upper", 2: "Lower", 3: "Lower"})
    cats = article_categories(articles, articles[ARTICLE], NegativeSettings(min_category_articles=5))
    labels = dict(cats.select(ARTICLE, "category").rows())
    assert labels[100] == "product_type_no=1"
    assert labels[200] == labels[300] == "product_group_name=Lower"
    assert cats["fallback"].sum() == 6
    cfg = NegativeSettings(ratio=5, same_day_share=0.0, min_category_articles=5, top_up_rounds=10)
    pairs, _ = sample_pairs(tx([(0, 200, 1)] + [(9, a, 2) for a in types]), articles, CUTOFF, cfg, seed=1)
    neg = negatives(pairs).filter(pl.col(CUSTOMER) == 0)[ARTICLE].to_list()
    assert len(neg) == 5 and set(neg) <= {201, 300, 301, 302, 303}


def test_a_category_too_small_gives_fewer_negatives_counted_never_a_positive() -> None:
    articles = catalogue({10: 1, 11: 1, 12: 1})
    rows = [(0, 10, 1), (0, 11, 5), (1, 12, 2)]
    cfg = NegativeSettings(ratio=10, same_day_share=0.5, min_category_articles=1)
    pairs, report = sample_pairs(tx(rows), articles, CUTOFF, cfg, seed=0)
    check_pairs(pairs, tx(rows), articles, cfg)
    assert negatives(pairs).select(CUSTOMER, ARTICLE).sort(CUSTOMER).rows() == [(0, 12), (1, 10), (1, 11)]
    assert report.requested == {"same_category": 15, "same_day": 15}
    assert report.shortfall == {"same_category": 12, "same_day": 15}
    assert report.positives_short == 3


def test_quotas_split_the_ratio_between_strategies() -> None:
    rng = np.random.default_rng(0)
    exact = quotas(1000, NegativeSettings(ratio=10, same_day_share=0.3), rng)
    assert (exact["same_day"] == 3).all() and (exact["same_category"] == 7).all()
    halves = quotas(4000, NegativeSettings(ratio=1, same_day_share=0.5), rng)
    assert set(np.unique(halves["same_day"])) == {0, 1}
    assert (halves["same_day"] + halves["same_category"] == 1).all()
    assert 0.45 < halves["same_day"].mean() < 0.55


@pytest.fixture(scope="module")
def small_data(small_world: WorldDirs) -> Dataset:
    return small_world.dataset()


@pytest.fixture(scope="module")
def small_pairs(small_data: Dataset) -> pl.DataFrame:
    return sample_pairs(small_data.transactions, small_data.articles, CUTOFF, NegativeSettings(), seed=42)[0]


def test_small_world_pairs_keep_the_invariants_and_the_mix(small_data: Dataset,
                                                            small_pairs: pl.DataFrame) -> None:
    cfg = NegativeSettings()
    check_pairs(small_pairs, small_data.transactions, small_data.articles, cfg)
    counts = plots.pair_counts(small_pairs)
    assert counts["strategy"].to_list() == ["positive", "same_category", "same_day"]
    assert counts.filter(pl.col("strategy") == "same_category")["per_positive"].item() > 4.5
    # Where the same-day draw got all its 5 per positive, its category mix is exactly the customer's.
    cats = article_categories(small_data.articles, small_pairs[ARTICLE].unique(), cfg)
    full = (small_pairs.group_by(CUSTOMER, "day").agg(pos=pl.col("label").sum(),
                                                      day_neg=(pl.col("strategy") == "same_day").sum())
            .filter(pl.col("day_neg") == 5 * pl.col("pos")))
    distance = plots.mix_distance(small_pairs, cats, "category").join(full, on=[CUSTOMER, "day"])
    assert full.height > 50
    assert distance.filter(pl.col("strategy") == "same_day")["distance"].max() == pytest.approx(0.0)


def test_same_seed_same_pairs_another_seed_other_negatives(small_data: Dataset,
                                                           small_pairs: pl.DataFrame) -> None:
    tables = (small_data.transactions, small_data.articles, CUTOFF, NegativeSettings())
    again, other = (sample_pairs(*tables, seed=seed)[0] for seed in (42, 43))
    assert again.equals(small_pairs)
    assert not other.equals(small_pairs)
    assert other.filter(pl.col("label") == 1).equals(small_pairs.filter(pl.col("label") == 1))


def test_split_has_no_leak_and_holds_out_the_last_days(small_pairs: pl.DataFrame) -> None:
    cfg = NegativeSettings(validation_share=0.25, validation_days=7)
    split = check_split(small_pairs, cfg, seed=1)
    assert split.valid_start == day(7) and not split.valid.is_empty()
    assert 0.2 < held_out(small_pairs[CUSTOMER].unique(), 0.25, seed=1).mean() < 0.3
    assert split.summary()["valid_customers"] == split.valid[CUSTOMER].n_unique()
    assert split_pairs(small_pairs, CUTOFF, cfg, seed=1).valid.equals(split.valid)


def test_held_out_customers_do_not_depend_on_who_else_is_there() -> None:
    everyone = pl.Series(np.arange(5000, dtype=np.int32))
    some = everyone.gather(np.arange(0, 5000, 7))
    assert held_out(some, 0.3, 5).to_list() == held_out(everyone, 0.3, 5)[::7].to_list()
    assert held_out(everyone, 0.0, 5).sum() == 0 and held_out(everyone, 1.0, 5).all()


def test_build_pairs_stores_per_cutoff_and_reuses(tiny_world: WorldDirs, tiny_data: Dataset,
                                                   tmp_path: Path) -> None:
    cfg = tiny_world.config(work_dir=tmp_path)
    cutoff = tiny_data.end_date + dt.timedelta(days=1)
    first = build_pairs(cfg, tiny_data, cutoff)
    assert first.path == tmp_path / "negatives" / f"cutoff={cutoff}" / "pairs.parquet"
    assert first.path.parent == layout.negatives_dir(tmp_path, cutoff)
    assert first.report.rebuilt and first.pairs.height > first.report.positives > 0
    again = build_pairs(cfg, tiny_data, cutoff)
    assert not again.report.rebuilt and again.pairs.equals(first.pairs)
    assert dataclasses.replace(again.report, rebuilt=True, seconds=0) == dataclasses.replace(first.report,
                                                                                             seconds=0)
    assert not build_pairs(cfg, tiny_data, cutoff, NegativeSettings(validation_share=0.5)).report.rebuilt
    assert build_pairs(cfg, tiny_data, cutoff, NegativeSettings(ratio=3)).report.rebuilt
    assert build_pairs(cfg.replace(seed=1), tiny_data, cutoff).report.rebuilt
    assert build_pairs(cfg.replace(seed=1), tiny_data, cutoff, force=True).report.rebuilt
    (first.path.parent / "report.json").unlink()  # as after a run killed before its end
    assert build_pairs(cfg, tiny_data, cutoff).report.rebuilt
    earlier = build_pairs(cfg, tiny_data, cutoff - dt.timedelta(days=7))
    assert earlier.path.parent.name == f"cutoff={cutoff - dt.timedelta(days=7)}"
    assert sorted(p.name for p in (tmp_path / "negatives").iterdir()) == sorted(
        f"cutoff={c}" for c in (cutoff, cutoff - dt.timedelta(days=7)))


def test_settings_check_their_values_and_have_scale_defaults() -> None:
    assert NegativeSettings.for_scale("full") == NegativeSettings()
    assert NegativeSettings.for_scale("tiny", ratio=4).ratio == 4
    for bad in ({"ratio": -1}, {"same_day_share": 1.5}, {"validation_days": 28},
                {"min_category_articles": 0}, {"validation_share": -0.1}):
        with pytest.raises(ValueError, match="NegativeSettings"):
            NegativeSettings(**bad)
    with pytest.raises(ValueError, match="unknown scale"):
        NegativeSettings.for_scale("huge")


def test_figures_draw_even_without_images(tiny_world: WorldDirs, tiny_data: Dataset, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    cutoff = tiny_data.end_date + dt.timedelta(days=1)
    pairs, _ = sample_pairs(tiny_data.transactions, tiny_data.articles, cutoff, NegativeSettings(), seed=0)
    shares = plots.category_shares(pairs, tiny_data.articles, "product_group_name")
    assert shares.columns == ["product_group_name", "positive", "same_category", "same_day"]
    assert shares.select(pl.exclude("product_group_name").sum()).row(0) == pytest.approx((1.0, 1.0, 1.0))
    strategies = ["positive", "same_category", "same_day"]
    mix = plots.category_mix_chart(shares, top=5).axes[0]
    shown = shares.head(5).reverse()
    assert [t.get_text() for t in mix.get_legend().get_texts()] == strategies
    widths = [bar.get_width() for bar in mix.patches]  # one bar per category, strategy after strategy
    assert widths == pytest.approx([v for s in strategies for v in shown[s].to_list()])
    assert [t.get_text() for t in mix.get_yticklabels()] == shown["product_group_name"].to_list()
    popularity = plots.popularity_chart(pairs).axes[0]
    assert [t.get_text() for t in popularity.get_legend().get_texts()] == strategies
    for step in popularity.patches:  # each strategy's histogram: shares of its rows, adding up to 1
        heights = step.get_xy()[1:-1:2, 1]
        assert heights.sum() == pytest.approx(1.0)
    broken = tmp_path / "broken"
    for article in pairs[ARTICLE].unique():
        path = broken / image_relpath(article)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a jpeg")
    for data_dir in (tiny_world.raw, tmp_path / "nothing", broken):
        fig = plots.customer_gallery(pairs, tiny_data.articles, data_dir, customers=2, per_customer=6)
        assert len(fig.axes) == 12
    plt.close("all")
