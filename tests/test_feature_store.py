"""The Feast feature store: what it serves equals what hm_lib.features computes, offline and online."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hm_lib import feature_store as fs
from hm_lib import layout
from hm_lib.cli import main
from hm_lib.config import Config
from hm_lib.data import Dataset, load
from hm_lib.features.common import EVENT_TIMESTAMP
from hm_lib.ranking import FeatureTables, LightGBMRanker, RankerSettings

CUTOFF = dt.date(2020, 9, 23)  # the day after the tiny world's data


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Dataset]:
    """A feature store over the tiny world (applied and materialised through `hm features`)."""
    work = tmp_path_factory.mktemp("feature_store")
    cfg = tiny_world.config(work_dir=work)
    args = ["--data", str(cfg.data_dir), "--work", str(work), "--scale", "tiny"]
    assert main(["features", "apply", *args]) == 0
    assert main(["features", "materialize", *args]) == 0
    return cfg, load(cfg.data_dir, cfg.processed_dir)


def direct(ds: Dataset, cutoff: dt.date) -> FeatureTables:
    return FeatureTables.build(ds, cutoff)


def test_apply_publishes_the_cutoff_and_its_training_weeks(served) -> None:
    cfg, _ = served
    days = fs.cutoffs(cfg, CUTOFF)
    assert days == [CUTOFF - dt.timedelta(days=7 * i) for i in range(4)]  # tiny: 2 training weeks + early stopping
    for entity in fs.KEYS:
        files = sorted(p.name for p in (layout.offline_dir(cfg.work_dir) / entity).iterdir())
        assert files == sorted(f"{d}.parquet" for d in days)


def test_historical_retrieval_equals_the_tables_computed_directly(served) -> None:
    cfg, ds = served
    store = fs.open_store(cfg.work_dir)
    for day in fs.cutoffs(cfg, CUTOFF):
        keys = {"customer": ds.customers["customer"], "article_id": ds.articles["article_id"]}
        through_feast, expected = fs.historical_tables(store, day, keys), direct(ds, day)
        assert list(through_feast.tables) == list(expected.tables) == list(fs.KEYS)
        for entity, table in expected.tables.items():
            assert_frame_equal(through_feast.tables[entity], table)


def test_point_in_time_join_takes_the_latest_cutoff_not_after_each_row(served) -> None:
    cfg, ds = served
    store = fs.open_store(cfg.work_dir)
    week_ago, two_weeks_ago = CUTOFF - dt.timedelta(days=7), CUTOFF - dt.timedelta(days=14)
    customers = pl.Series("customer", [0, 1, 2, 3], dtype=pl.Int32)
    at = [fs.timestamp(week_ago) + dt.timedelta(days=3), fs.timestamp(week_ago) - dt.timedelta(seconds=1)] * 2
    rows = pl.DataFrame({"customer": customers, EVENT_TIMESTAMP: at}).with_columns(
        pl.col(EVENT_TIMESTAMP).dt.cast_time_unit("us"))
    got = fs.historical_features(store, "customer", rows).drop(EVENT_TIMESTAMP)
    expected = pl.concat([direct(ds, day).tables["customer"].filter(pl.col("customer") == c)
                          for c, day in zip(customers, [week_ago, two_weeks_ago] * 2)]).drop(EVENT_TIMESTAMP)
    assert_frame_equal(got, expected)
    assert not got.equals(direct(ds, CUTOFF).tables["customer"].head(4).drop(EVENT_TIMESTAMP))  # the future is not read


def test_online_store_serves_the_materialised_cutoff(served) -> None:
    cfg, ds = served
    store = fs.open_store(cfg.work_dir)
    expected = direct(ds, CUTOFF)
    customers = fs.online_table(store, "customer", expected.tables["customer"]["customer"])
    assert_frame_equal(customers, expected.tables["customer"].drop(EVENT_TIMESTAMP))
    articles = fs.online_table(store, "article", expected.tables["article"]["article_id"])
    assert_frame_equal(articles, expected.tables["article"].drop(EVENT_TIMESTAMP))


def test_a_customer_missing_from_the_store_gets_nulls(served) -> None:
    cfg, _ = served
    rows = fs.online_table(fs.open_store(cfg.work_dir), "customer", [0, 10**6])
    assert rows["customer"].to_list() == [0, 10**6]
    assert rows.row(0)[1:].count(None) < rows.width - 1 and set(rows.row(1)[1:]) == {None}
    assert fs.online_table(fs.open_store(cfg.work_dir), "customer", []).is_empty()


def test_list_valued_features_round_trip(served, tmp_path: Path) -> None:
    """Polars writes large lists, which Feast cannot map: publish converts them, so they materialise."""
    cfg, ds = served
    cfg = dataclasses.replace(cfg, work_dir=tmp_path)
    tables = direct(ds, CUTOFF)
    customers = tables.tables["customer"]
    recent = pl.Series("c_recent", [[1, 2], [], None] + [[7]] * (customers.height - 3), dtype=pl.List(pl.Int32))
    customers = customers.insert_column(1, recent)
    tables = dataclasses.replace(tables, tables={**tables.tables, "customer": customers})
    fs.publish(tmp_path, tables)
    from feast import FeatureStore

    store = FeatureStore(config=fs.repo_config(tmp_path))
    store.apply(list(fs.definitions(layout.offline_dir(tmp_path))))
    fs.materialize(cfg, CUTOFF)
    keys = ds.customers["customer"]
    through_feast = fs.historical_tables(store, CUTOFF, {"customer": keys, "article_id": ds.articles["article_id"]})
    assert_frame_equal(through_feast.tables["customer"], customers)
    assert_frame_equal(fs.online_table(store, "customer", keys), customers.drop(EVENT_TIMESTAMP))


def test_feast_cli_applies_feature_repo_from_any_working_directory(served, tmp_path: Path) -> None:
    """`feast -c feature_repo apply` on a copy whose ../data holds published tables, run from elsewhere."""
    cfg, _ = served
    root = tmp_path / "checkout"
    shutil.copytree(fs.REPO_DIR, root / "feature_repo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(layout.offline_dir(cfg.work_dir), layout.offline_dir(root / "data"))
    feast = Path(sys.executable).with_name("feast")
    run = subprocess.run([str(feast), "-c", str(root / "feature_repo"), "apply"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    store = fs.open_store(root / "data")
    assert sorted(v.name for v in store.list_feature_views()) == ["article_features", "customer_features"]
    assert {e.name: e.join_key for e in store.list_entities()} == fs.KEYS
    assert [s.name for s in store.list_feature_services()] == [fs.SERVICE]
    assert "c_age" in [f.name for f in store.get_feature_view("customer_features").features]


def test_no_store_yet_says_which_command_to_run(served, tmp_path: Path, capsys) -> None:
    with pytest.raises(FileNotFoundError, match="hm features apply"):
        fs.open_store(tmp_path)
    cfg, _ = served
    args = ["--data", str(cfg.data_dir), "--work", str(cfg.work_dir), "--scale", "tiny", "--cutoff", "2020-10-07"]
    assert main(["features", "materialize", *args]) == 1
    assert "no feature tables for the cut-off 2020-10-07" in capsys.readouterr().err


def test_explanations_add_up_to_the_model_score() -> None:
    """Path contributions of a model with numerical, categorical and missing values: bias + sum = raw score."""
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = pl.DataFrame({"customer": np.arange(400), "article_id": np.arange(400) % 7, "a": rng.normal(size=400),
                      "b": rng.integers(0, 6, 400), "c": np.where(rng.random(400) < 0.3, np.nan, rng.normal(size=400))})
    y = (x["a"] + 2 * x["b"].is_in([2, 4]).cast(pl.Float64) + x["c"].fill_nan(0) + rng.normal(size=400) > 1)
    features = x.select(pl.col("a", "b", "c").cast(pl.Float32)).to_pandas()  # LightGBM is fed float32
    params = {"objective": "binary", "num_leaves": 7, "min_data_in_leaf": 5, "min_data_per_group": 5, "cat_smooth": 1,
              "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(features, y.to_numpy(), categorical_feature=["b"]), num_boost_round=15)
    assert '"decision_type": "=="' in json.dumps(booster.dump_model())  # a categorical split is exercised
    explained = fs.explain(LightGBMRanker(RankerSettings(), booster), x, top=2)
    np.testing.assert_allclose(explained["score"], booster.predict(features, raw_score=True), rtol=1e-5, atol=1e-5)
    assert explained["why"].list.len().to_list() == [2] * x.height
    assert {w["feature"] for why in explained["why"] for w in why} <= {"a", "b", "c"}
    assert all(abs(why[0]["contribution"]) >= abs(why[1]["contribution"]) for why in explained["why"])
