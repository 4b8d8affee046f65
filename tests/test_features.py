"""Feature families: one row per key, nothing read on or after the cut-off, hand-checked values."""
from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from hm_lib.features import FAMILIES, article_features, customer_features, pair_features
from hm_lib.features.common import EVENT_TIMESTAMP
from hm_lib.features.taste import BAND_DAYS, BAND_YEARS, HALF_LIFE_DAYS, TASTE_COLUMNS, taste_features


@pytest.fixture(scope="module")
def setup(tiny_data):
    ds = tiny_data
    cutoff = ds.end_date - dt.timedelta(days=6)
    pairs = ds.transactions.filter(pl.col("t_dat") >= cutoff).select("customer", "article_id").unique().sort("customer")
    return ds, cutoff, pairs


def _future_noise(ds, cutoff: dt.date) -> pl.DataFrame:
    """The transactions with every row on or after the cut-off replaced by different rows."""
    after = ds.transactions.filter(pl.col("t_dat") >= cutoff)
    noise = after.with_columns(pl.col("article_id").shuffle(seed=1), pl.col("price") * 3)
    return pl.concat([ds.transactions.filter(pl.col("t_dat") < cutoff), noise, noise])


def test_one_row_per_key_with_timestamp(setup) -> None:
    ds, cutoff, pairs = setup
    a = article_features(ds, cutoff)
    c = customer_features(ds, cutoff)
    p = pair_features(ds, cutoff, pairs)
    assert a.height == ds.articles.height and a["article_id"].is_unique().all()
    assert c.height == ds.customers.height and c["customer"].is_unique().all()
    assert p.height == pairs.height
    assert a[EVENT_TIMESTAMP].dt.date().unique().to_list() == [cutoff]


def test_nothing_on_or_after_the_cutoff_is_read(setup) -> None:
    ds, cutoff, pairs = setup
    noisy = dataclasses.replace(ds, transactions=_future_noise(ds, cutoff))
    for family in FAMILIES.values():
        keys = pairs if not family.entity else None
        assert family.build(noisy, cutoff, keys).sort(*family.keys).equals(
            family.build(ds, cutoff, keys).sort(*family.keys)), family.name


def test_pair_families_describe_their_keys_in_order(setup) -> None:
    """A pair family's rows are its keys in the order given (the ranking frames put them beside the candidates
    unjoined), whatever that order; a customer without purchases has null shares."""
    ds, cutoff, pairs = setup
    newcomer = ds.customers.join(ds.transactions.filter(pl.col("t_dat") < cutoff), on="customer", how="anti")
    extra = pl.DataFrame({"customer": [newcomer["customer"][0]], "article_id": [pairs["article_id"][0]]},
                         schema=pairs.schema)
    keys = pl.concat([pairs, extra]).sample(fraction=1.0, shuffle=True, seed=3)
    for family in FAMILIES.values():
        if family.entity:
            continue
        table = family.build(ds, cutoff, keys)
        assert table.select(family.keys).equals(keys.select(family.keys)), family.name
        assert table.sort(*family.keys).equals(family.build(ds, cutoff, keys.sort(*family.keys))), family.name
    taste = FAMILIES["taste"].build(ds, cutoff, keys).filter(pl.col("customer") == extra["customer"][0])
    assert all(taste[c].is_null().all() for c in TASTE_COLUMNS.values())


def test_values_against_a_hand_computed_customer(setup) -> None:
    ds, cutoff, _ = setup
    past = ds.transactions.filter(pl.col("t_dat") < cutoff)
    cust = past["customer"].mode()[0]
    mine = past.filter(pl.col("customer") == cust)
    art = mine["article_id"].mode()[0]
    row = pair_features(ds, cutoff, pl.DataFrame({"customer": [cust], "article_id": [art]},
                                                 schema={"customer": pl.Int32, "article_id": pl.Int32}))
    assert row["x_article_count"][0] == mine.filter(pl.col("article_id") == art).height
    last = mine.filter(pl.col("article_id") == art)["t_dat"].max()
    assert row["x_article_days"][0] == (cutoff - last).days
    c = customer_features(ds, cutoff).filter(pl.col("customer") == cust)
    assert c["c_rows_all"][0] == mine.height
    assert c["c_days_since_last"][0] == (cutoff - mine["t_dat"].max()).days
    a = article_features(ds, cutoff).filter(pl.col("article_id") == art)
    assert a["a_sales_7d"][0] == past.filter((pl.col("article_id") == art) & (pl.col("t_dat") >= cutoff - dt.timedelta(days=7))).height


def test_every_family_keeps_one_signature_and_entity_keys_restrict_rows(setup) -> None:
    ds, cutoff, pairs = setup
    for family in FAMILIES.values():
        table = family.build(ds, cutoff, pairs)
        assert set(family.keys) <= set(table.columns)
        assert table.select(family.keys).is_duplicated().sum() == 0
        expected = pairs.select(family.keys).unique().height
        assert table.height == expected, family.name  # an entity family given keys: only their rows
    with pytest.raises(ValueError, match="pass keys"):
        FAMILIES["pair"].build(ds, cutoff, None)


def test_taste_against_a_hand_computed_customer(setup) -> None:
    """Recency-weighted attribute shares and the age band's sales, recomputed here in plain Python."""
    ds, cutoff, _ = setup
    past = ds.transactions.filter(pl.col("t_dat") < cutoff)
    cust = past["customer"].mode()[0]
    art = past.filter(pl.col("customer") != cust)["article_id"].mode()[0]  # any article, bought or not
    keys = pl.DataFrame({"customer": [cust], "article_id": [art]}, schema={"customer": pl.Int32, "article_id": pl.Int32})
    row = taste_features(ds, cutoff, keys).row(0, named=True)
    colours = dict(ds.articles.select("article_id", "colour_group_code").iter_rows())
    mine = past.filter(pl.col("customer") == cust)
    weights = [(0.5 ** ((cutoff - day).days / HALF_LIFE_DAYS), colours[a])
               for day, a in mine.select("t_dat", "article_id").iter_rows()]
    same = sum(w for w, colour in weights if colour == colours[art])
    assert row[TASTE_COLUMNS["colour_group_code"]] == pytest.approx(same / sum(w for w, _ in weights), rel=1e-5)
    ages = dict(ds.customers.select("customer", "age").iter_rows())
    recent = past.filter(pl.col("t_dat") >= cutoff - dt.timedelta(days=BAND_DAYS))
    band = ages[cust] // BAND_YEARS
    in_band = [a for c, a in recent.select("customer", "article_id").iter_rows()
               if ages.get(c) is not None and ages[c] // BAND_YEARS == band]
    assert row["t_band_sales"] == in_band.count(art)
    overall = recent["article_id"].to_list()
    lift = (in_band.count(art) / len(in_band)) / (overall.count(art) / len(overall))
    assert row["t_band_lift"] == pytest.approx(lift, rel=1e-5)
