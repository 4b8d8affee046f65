"""The synthetic world: raw format, determinism, planted structure (on and off), oracle."""
from __future__ import annotations

import dataclasses
import datetime as dt
import filecmp
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from conftest import WorldDirs, make_world

from hm_lib import schema
from hm_lib.baselines import popular_last_week
from hm_lib.data import prepare
from hm_lib.evaluation import map_at_k, week_truth
from hm_lib.synthetic import load_truth, oracle_predictions, target_week, vocab
from hm_lib.world_figures import behaviour_figures

RAW_FILES = (schema.ARTICLES_FILE, schema.CUSTOMERS_FILE, schema.TRANSACTIONS_FILE)


def test_raw_format_matches_the_competition_files(tiny_world: WorldDirs) -> None:
    for name, cols in ((schema.ARTICLES_FILE, schema.ARTICLE_COLUMNS), (schema.CUSTOMERS_FILE, schema.CUSTOMER_COLUMNS),
                       (schema.TRANSACTIONS_FILE, schema.TRANSACTION_COLUMNS)):
        header = (tiny_world.raw / name).open().readline().strip().split(",")
        assert tuple(header) == cols
    arts = pl.read_csv(tiny_world.raw / schema.ARTICLES_FILE, infer_schema_length=0)
    assert arts["article_id"].str.len_chars().eq(10).all() and arts["article_id"].str.starts_with("0").all()
    assert (arts["product_code"] == arts["article_id"].str.slice(0, 7)).all()
    assert arts["colour_group_code"].str.contains(r"^(\d{2}|-1)$").all()
    tx = pl.read_csv(tiny_world.raw / schema.TRANSACTIONS_FILE, infer_schema_length=0)
    assert tx["customer_id"].str.contains(r"^[0-9a-f]{64}$").all()
    assert set(tx["sales_channel_id"].unique()) <= {"1", "2"}
    dates = tx["t_dat"].str.to_date()
    assert dates.min() == dt.date(2018, 9, 20) and dates.max() <= dt.date(2020, 9, 22)
    assert tx["price"].str.split(".").list.get(1).str.len_chars().max() <= 16
    assert tx.is_duplicated().any(), "quantities are repeated identical rows"
    cust = pl.read_csv(tiny_world.raw / schema.CUSTOMERS_FILE, infer_schema_length=0)
    assert cust["postal_code"].str.contains(r"^[0-9a-f]{64}$").all()
    assert set(cust["FN"].drop_nulls().unique()) == {"1.0"}


def test_world_passes_the_raw_data_validator(tiny_world: WorldDirs, tmp_path: Path) -> None:
    report = prepare(tiny_world.raw, tmp_path / "processed")
    assert report.dropped_rows == 0 and report.rows > 5_000 and report.duplicate_rows > 0


def test_images_are_written_for_almost_every_article(tiny_world: WorldDirs) -> None:
    ids = pl.read_csv(tiny_world.raw / schema.ARTICLES_FILE, infer_schema_length=0)["article_id"].cast(pl.Int64)
    have = [(tiny_world.raw / schema.image_relpath(a)).exists() for a in ids]
    assert 0.95 < np.mean(have) <= 1.0


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    a = make_world(tmp_path / "a", seed=11)
    b = make_world(tmp_path / "b", seed=11)
    c = make_world(tmp_path / "c", seed=12, images=False)
    for name in RAW_FILES:
        assert filecmp.cmp(a.raw / name, b.raw / name, shallow=False)
    assert not filecmp.cmp(a.raw / schema.TRANSACTIONS_FILE, c.raw / schema.TRANSACTIONS_FILE, shallow=False)
    images_a = sorted((a.raw / "images").rglob("*.jpg"))
    assert images_a and all(filecmp.cmp(p, b.raw / p.relative_to(a.raw), shallow=False) for p in images_a[:50])


def test_generate_reuses_a_world_with_the_same_settings(tiny_world: WorldDirs) -> None:
    from hm_lib.synthetic import generate

    rep = generate(tiny_world.raw, scale="tiny", seed=3, images=True, progress=False)
    assert rep.reused


# --- planted structure: each signal is detectable, and (nearly) gone when its knob is off ---

@pytest.fixture(scope="module")
def small(small_world: WorldDirs):
    return small_world.dataset(), load_truth(small_world.truth)


def _world_off(tmp_path_factory: pytest.TempPathFactory, **knobs):
    w = make_world(tmp_path_factory.mktemp("off"), scale="small", images=False, **knobs)
    return w.dataset(), load_truth(w.truth)


def _summer_share_by_year(ds) -> tuple[np.ndarray, np.ndarray]:
    summer = [t.product_type_no for t in vocab.PRODUCT_TYPES if t.season == "summer"]
    tx = ds.transactions.join(ds.articles.select("article_id", "product_type_no"), on="article_id")
    end = tx["t_dat"].max()
    weekly = (tx.with_columns(((pl.lit(end) - pl.col("t_dat")).dt.total_days() // 7).alias("wk"))
              .filter(pl.col("wk") < 104).group_by("wk")
              .agg(pl.col("product_type_no").is_in(summer).mean().alias("share")).sort("wk", descending=True))
    share = weekly["share"].to_numpy()
    return share[:52], share[52:104]


def _summer_over_winter(ds) -> float:
    """Share of summer product types among June-July rows over their share among December-January rows."""
    summer = [t.product_type_no for t in vocab.PRODUCT_TYPES if t.season == "summer"]
    tx = ds.transactions.join(ds.articles.select("article_id", "product_type_no"), on="article_id").with_columns(
        pl.col("product_type_no").is_in(summer).alias("s"), pl.col("t_dat").dt.month().alias("m"))
    june_july, december_january = (tx.filter(pl.col("m").is_in(months))["s"].mean() for months in ([6, 7], [12, 1]))
    return june_july / december_january


def test_seasonality_same_weeks_last_year_predict_this_year(small, tmp_path_factory) -> None:
    ds, _ = small
    y1, y2 = _summer_share_by_year(ds)
    assert np.corrcoef(y1, y2)[0, 1] > 0.6
    assert _summer_over_winter(ds) > 3
    off, _ = _world_off(tmp_path_factory, seasonality=0.0)
    assert 0.7 < _summer_over_winter(off) < 1.4


def _rebuy(ds) -> float:
    return behaviour_figures(ds.transactions, ds.customers.height)["re-buy same article within 3 weeks"]


def test_repurchase_share_in_range_and_follows_its_knob(small, tmp_path_factory) -> None:
    ds, _ = small
    assert 0.03 < _rebuy(ds) < 0.15
    strong, _ = _world_off(tmp_path_factory, repurchase=0.3)
    off, _ = _world_off(tmp_path_factory, repurchase=0.0)
    # Without the knob, re-buys happen only by taste (chance); with it they are far more frequent.
    assert _rebuy(strong) > _rebuy(off) + 0.03


def _partner_pair_share(ds, truth) -> float:
    """Share of pairs of distinct articles in one (customer, day) basket that are partners."""
    pos = {a: i for i, a in enumerate(truth.article_ids.tolist())}
    baskets = (ds.transactions.select("customer", "t_dat", "article_id").unique()
               .with_columns(pl.col("article_id").replace_strict(pos, return_dtype=pl.Int64).alias("p")))
    pairs = baskets.join(baskets, on=["customer", "t_dat"]).filter(pl.col("p") < pl.col("p_right"))
    linked = truth.partners + truth.partners.T
    vals = np.asarray(linked[pairs["p"].to_numpy(), pairs["p_right"].to_numpy()]).ravel()
    return float((vals > 0).mean())


def test_baskets_hold_articles_bought_together(small, tmp_path_factory) -> None:
    ds, truth = small
    on = _partner_pair_share(ds, truth)
    off_ds, off_truth = _world_off(tmp_path_factory, basket_partner=0.0)
    off = _partner_pair_share(off_ds, off_truth)
    assert on > 0.05 and on > 2.5 * off


def _topic_similarity(ds, truth) -> float:
    """Product-type profile similarity of customers sharing a main taste topic minus that of random pairs."""
    tx = ds.transactions.join(ds.articles.select("article_id", "product_type_no"), on="article_id")
    prof = tx.group_by("customer", "product_type_no").len()
    cust = prof["customer"].unique().sort().to_numpy()
    types = np.unique(prof["product_type_no"].to_numpy())
    m = sp.csr_matrix((prof["len"].to_numpy().astype(float),
                       (np.searchsorted(cust, prof["customer"].to_numpy()), np.searchsorted(types, prof["product_type_no"].to_numpy()))))
    m = sp.diags(1 / np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())) @ m
    topic = truth.cust_topics[cust, 0]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, cust.size, (2, 20_000))
    sim = np.asarray(m[i].multiply(m[j]).sum(axis=1)).ravel()
    same = topic[i] == topic[j]
    return float(sim[same].mean() - sim[~same].mean())


def test_customers_sharing_tastes_buy_alike(small, tmp_path_factory) -> None:
    ds, truth = small
    on = _topic_similarity(ds, truth)
    off_ds, off_truth = _world_off(tmp_path_factory, taste_strength=0.0, style_strength=0.0)
    assert on > 0.03 and on > 2.5 * abs(_topic_similarity(off_ds, off_truth))


def test_young_and_older_customers_buy_different_indexes(small) -> None:
    ds, _ = small
    tx = ds.transactions.join(ds.customers.select("customer", "age"), on="customer").join(
        ds.articles.select("article_id", "index_code"), on="article_id")
    young = tx.filter(pl.col("age") < 25)["index_code"].eq("D").mean()
    older = tx.filter(pl.col("age") > 45)["index_code"].eq("D").mean()
    assert young > 1.5 * older


def _style_concentration(ds, truth) -> float:
    """Mean share of a customer's purchases in their most-bought hidden style (customers with 10+ rows)."""
    style = pl.DataFrame({"article_id": truth.article_ids.astype(np.int32), "style": truth.style})
    per = ds.transactions.join(style, on="article_id").group_by("customer", "style").len()
    tot = per.group_by("customer").agg(pl.col("len").sum().alias("n"), pl.col("len").max().alias("top"))
    tot = tot.filter(pl.col("n") >= 10)
    return float((tot["top"] / tot["n"]).mean())


def test_hidden_style_shapes_taste_only_when_on(small, tmp_path_factory) -> None:
    ds, truth = small
    off_ds, off_truth = _world_off(tmp_path_factory, style_strength=0.0)
    assert _style_concentration(ds, truth) > _style_concentration(off_ds, off_truth) + 0.05


def test_hidden_style_is_recorded_in_no_metadata_column(small) -> None:
    ds, truth = small
    style = pl.DataFrame({"article_id": truth.article_ids.astype(np.int32), "style": truth.style})
    codes = ds.articles.join(style, on="article_id").unique("product_code")  # style is drawn per product code
    for col in ("product_type_no", "graphical_appearance_no", "colour_group_code", "department_no", "section_no",
                "garment_group_no", "index_code", "perceived_colour_master_id"):
        per = codes.group_by(col, "style").len().group_by(col).agg(
            (pl.col("len").max() / pl.col("len").sum()).alias("top"), pl.col("len").sum().alias("n"))
        big = per.filter(pl.col("n") >= 30)["top"]
        assert big.is_empty() or big.max() < 0.6, col


def test_popularity_is_heavy_tailed_and_articles_have_life_cycles(small) -> None:
    ds, _ = small
    sales = np.sort(ds.transactions.group_by("article_id").len()["len"].to_numpy())
    top10 = sales[-max(1, sales.size // 10):].sum() / sales.sum()
    assert top10 > 0.3
    span = ds.transactions.group_by("article_id").agg(
        ((pl.col("t_dat").max() - pl.col("t_dat").min()).dt.total_days() / 7).alias("weeks"))["weeks"]
    assert 2 < span.median() < 40
    last = ds.transactions.group_by("article_id").agg(pl.col("t_dat").max())["t_dat"]
    assert (last < ds.end_date - dt.timedelta(days=56)).mean() > 0.2, "many articles stop selling"


def test_realistic_mess(small) -> None:
    ds, _ = small
    buyers = ds.transactions["customer"].n_unique()
    assert 0 < 1 - buyers / ds.customers.height < 0.03, "a few customers never buy"
    last = ds.transactions.group_by("customer").agg(pl.col("t_dat").max())["t_dat"]
    assert (last < ds.end_date - dt.timedelta(days=180)).mean() > 0.1, "some customers' purchases are all old"
    assert ds.articles["detail_desc"].is_null().sum() > 0, "a few articles have no description"


def test_oracle_beats_the_best_seller_baseline(small, small_world: WorldDirs) -> None:
    ds, truth = small
    cutoff = ds.end_date - dt.timedelta(days=6)
    week = week_truth(ds.transactions, cutoff, 7)
    buyers = week.select("customer").unique()
    train = ds.transactions.filter(pl.col("t_dat") < cutoff)
    base = map_at_k(popular_last_week(train, cutoff, buyers), week)
    oracle = oracle_predictions(small_world.truth, train, cutoff, customers=buyers["customer"].to_numpy(), progress=False)
    assert oracle.group_by("customer").len()["len"].eq(12).all()
    assert map_at_k(oracle, week) > 1.5 * base


def test_oracle_reads_nothing_from_the_week_it_predicts(small, small_world: WorldDirs) -> None:
    ds, _ = small
    cutoff = ds.end_date - dt.timedelta(days=6)
    train = ds.transactions.filter(pl.col("t_dat") < cutoff)
    a = oracle_predictions(small_world.truth, train, cutoff, customers=np.arange(200), progress=False)
    b = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=np.arange(200), progress=False)
    assert a.equals(b)


def test_oracle_within_allowed_articles_keeps_the_oracles_order_among_them(small, small_world: WorldDirs) -> None:
    ds, _ = small
    cutoff = ds.end_date - dt.timedelta(days=6)
    customers = np.arange(50)
    full = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers, k=40, progress=False)
    # each customer may be given every other article of their own top 40, and one article nobody knows
    allowed = pl.concat([full.filter(pl.col("rank") % 2 == 1).select("customer", "article_id"),
                         pl.DataFrame({"customer": [0], "article_id": [123]}, schema=full.select("customer", "article_id").schema)])
    within = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers, k=12, progress=False,
                                allowed=allowed)
    expected = full.filter(pl.col("rank") % 2 == 1).with_columns(((pl.col("rank") + 1) // 2).alias("rank")).filter(
        pl.col("rank") <= 12)
    assert within.select("customer", "article_id", "rank").equals(expected.select("customer", "article_id", "rank"))
    # a customer with fewer allowed articles than k gets a shorter list, never an article outside them
    few = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers[:3], progress=False,
                             allowed=allowed.filter(pl.col("customer") == 1).head(5))
    assert few["customer"].to_list() == [1] * 5


def test_oracle_rejects_a_date_that_does_not_start_a_week(small, small_world: WorldDirs) -> None:
    ds, _ = small
    with pytest.raises(ValueError, match="first day of a simulated week"):
        oracle_predictions(small_world.truth, ds.transactions, ds.end_date - dt.timedelta(days=3), progress=False)


def test_target_week_is_the_week_after_the_data(small, small_world: WorldDirs) -> None:
    ds, _ = small
    tw = target_week(small_world.truth)
    assert tw["t_dat"].min() == ds.end_date + dt.timedelta(days=1)
    assert tw["t_dat"].max() == ds.end_date + dt.timedelta(days=7)
    assert tw["customer_id"].is_in(ds.customers["customer_id"].implode()).all()


def test_generate_never_overwrites_raw_files_it_did_not_write(tmp_path: Path) -> None:
    from hm_lib.synthetic import generate

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in RAW_FILES:
        (raw / name).write_text("real data\n")
    with pytest.raises(FileExistsError, match="did not write"):
        generate(raw, scale="tiny", images=False, progress=False)
    assert (raw / schema.TRANSACTIONS_FILE).read_text() == "real data\n"


def test_oracle_with_another_weeks_popularity_scores_by_it(small, small_world: WorldDirs) -> None:
    """A truth given to the oracle is the one it reads: the loaded one gives the same lists, another week's
    popularity other lists (bench_oracle_knowable's oracle with last week's popularity)."""
    ds, _ = small
    cutoff = ds.end_date - dt.timedelta(days=6)
    customers = np.arange(100)
    truth = load_truth(small_world.truth)
    plain = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers, progress=False)
    assert oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers, progress=False,
                              truth=truth).equals(plain)
    week, popularity = truth.cal.week_of(cutoff), truth.popularity.copy()
    popularity[week] = popularity[week - 1]
    lagged = oracle_predictions(small_world.truth, ds.transactions, cutoff, customers=customers, progress=False,
                                truth=dataclasses.replace(truth, popularity=popularity))
    assert not lagged.equals(plain)
