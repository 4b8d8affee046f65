"""The demo's artefacts: what they hold, and their preparation, which redoes only what is stale."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from hm_lib import demo as hm_demo
from hm_lib import ensemble, layout, ranking
from hm_lib import feature_store as fs
from hm_lib.candidates import read_candidates
from hm_lib.candidates.shards import MANIFEST as CANDIDATES
from hm_lib.config import Config
from hm_lib.data import MANIFEST, load
from hm_lib.ensemble import RELEVANCE
from hm_lib.io import read_json, write_json
from hm_lib.reasons import missing_phrases

CUTOFF = dt.date(2020, 9, 23)  # the day after the tiny world's data


def test_artefacts_hold_k_explained_recommendations_per_customer(tiny_demo) -> None:
    cfg, folder = tiny_demo
    meta = hm_demo.read_meta(folder)
    recs = pl.read_parquet(folder / "recommendations.parquet")
    customers = pl.read_parquet(folder / "customers.parquet")
    assert meta["k"] == 12 and meta["cutoff"] == str(CUTOFF) and "repurchase" in meta["sources"]
    per = recs.group_by("customer").agg(pl.col("rank").sort(), pl.col("article_id").n_unique().alias("n"))
    assert per.height == customers.height and (per["n"] == 12).all()
    assert per["rank"].to_list() == [list(range(1, 13))] * per.height
    assert set(customers["activity"]) <= set(hm_demo.ACTIVITY)
    assert set(customers["age_band"]) <= {*hm_demo.AGE_BANDS, "unknown"}
    names = set(hm_demo.load_ranker(cfg, CUTOFF).model.feature_names)
    ranked, filled = recs.filter(~pl.col("filled")), recs.filter(pl.col("filled"))
    assert ranked.height and ranked["score"].is_not_null().all() and filled["why"].is_null().all()
    for why in ranked["why"]:
        assert len(why) == hm_demo.REASONS and {w["feature"] for w in why} <= names
        assert [abs(w["contribution"]) for w in why] == sorted((abs(w["contribution"]) for w in why), reverse=True)
    assert missing_phrases(sorted(names)) == []  # every feature the ranker uses can be said in words
    # each reason carries the row's value, so the words can quote it
    first = ranked.explode("why").unnest("why")
    assert first["value"].is_not_null().any() and first["feature"].is_in(sorted(names)).all()


def served_and_batch(cfg: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Some customers' recommendations re-scored from the online store, and the artefacts' (same order)."""
    recs = pl.read_parquet(layout.demo_dir(cfg.work_dir) / "recommendations.parquet")
    recs = recs.filter(~pl.col("filled") & (pl.col("customer") < 50)).sort("customer", "article_id")
    ranker = hm_demo.load_ranker(cfg, CUTOFF)
    ds, candidates = load(cfg.data_dir, cfg.processed_dir), read_candidates(cfg.work_dir, CUTOFF)
    rows = hm_demo.ranker_rows(ds, CUTOFF, candidates, recs, ranker)
    return fs.serve(fs.open_store(cfg.work_dir), ranker.model, rows, top=hm_demo.REASONS), recs


def test_serving_from_the_online_store_reproduces_the_scores_and_reasons(tiny_demo) -> None:
    """Feast's online features give the ranker the scores of the batch predictions and the reasons the
    artefacts hold (computed from the offline tables)."""
    cfg, _ = tiny_demo
    served, expected = served_and_batch(cfg)
    assert served.height == expected.height and (served["score"] - expected["score"]).abs().max() < 1e-5
    features = [[w["feature"] for w in why] for why in served["why"]]
    assert features == [[w["feature"] for w in why] for why in expected["why"]]


def test_paths_agree_with_the_stages_before(tiny_demo) -> None:
    cfg, _ = tiny_demo
    assert layout.predictions_path(cfg.work_dir, CUTOFF) == layout.predictions_path(cfg.work_dir, CUTOFF)
    assert hm_demo.candidates_manifest(cfg, CUTOFF) == layout.candidates_dir(cfg.work_dir, CUTOFF) / CANDIDATES
    tables = hm_demo.feature_tables(cfg, CUTOFF)
    assert tables and tables == sorted(layout.features_dir(cfg.work_dir, CUTOFF).glob("*.parquet"))
    assert hm_demo.latest_predictions(cfg) == CUTOFF


# --- Incremental preparation, on a copy of the prepared work folder --------------------------------

@pytest.fixture
def work(tiny_demo, tmp_path: Path) -> Config:
    """A copy of the prepared work folder, prepared once there (a new folder: the store is loaded again)."""
    cfg, _ = tiny_demo
    copy = cfg.replace(work_dir=shutil.copytree(cfg.work_dir, tmp_path / "work"))
    prepared = hm_demo.prepare_demo(copy)
    assert prepared.store_rebuilt and prepared.artefacts_rebuilt and prepared.cutoff == CUTOFF
    assert hm_demo.read_meta(prepared.folder)["work_dir"] == str(copy.work_dir.resolve())
    return copy


def stamps(cfg: Config) -> dict[str, tuple[int, int]]:
    """Every file of the demo folder and of the feature store: (inode, mtime); a rewrite changes them."""
    files = [*layout.demo_dir(cfg.work_dir).iterdir(), *layout.store_dir(cfg.work_dir).rglob("*")]
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in files if p.is_file()}


def touch(path: Path) -> None:
    """The same content, a newer modification time: what a rerun that writes the same file leaves."""
    later = path.stat().st_mtime_ns + 10**9
    os.utime(path, ns=(later, later))


def test_a_second_call_reuses_everything(work: Config) -> None:
    before = stamps(work)
    prepared = hm_demo.prepare_demo(work)
    assert not prepared.store_rebuilt and not prepared.artefacts_rebuilt
    assert stamps(work) == before


@pytest.mark.parametrize("changed", ["predictions", "model", "candidates manifest", "ranking feature table"])
def test_changed_ranking_outputs_rewrite_the_artefacts_not_the_store(work: Config, changed: str) -> None:
    predictions = layout.predictions_path(work.work_dir, CUTOFF)
    model = predictions.with_name(read_json(predictions.with_name(layout.RANKER_META))["files"][0])
    path = {"predictions": predictions, "model": model,
            "candidates manifest": layout.candidates_dir(work.work_dir, CUTOFF) / CANDIDATES,
            "ranking feature table": layout.features_dir(work.work_dir, CUTOFF) / "article.parquet"}[changed]
    if changed == "candidates manifest":  # read by content
        write_json({**read_json(path), "note": "rewritten"}, path)
    else:
        touch(path)
    before = stamps(work)
    prepared = hm_demo.prepare_demo(work)
    assert not prepared.store_rebuilt and prepared.artefacts_rebuilt
    after = stamps(work)
    store = [p for p in before if p.startswith(str(layout.store_dir(work.work_dir)))]
    assert store and all(after[p] == before[p] for p in store)
    recommendations = str(layout.demo_dir(work.work_dir) / "recommendations.parquet")
    assert after[recommendations] != before[recommendations]
    assert not hm_demo.prepare_demo(work).artefacts_rebuilt  # and then reused again


def test_changed_processed_data_reload_the_store(work: Config) -> None:
    manifest = work.processed_dir / MANIFEST
    write_json({**read_json(manifest), "note": "rewritten"}, manifest)
    prepared = hm_demo.prepare_demo(work)
    assert prepared.store_rebuilt and prepared.artefacts_rebuilt


def test_a_store_rewritten_since_is_loaded_again(work: Config) -> None:
    """`hm features materialize` run in between: the store may no longer hold what the demo needs."""
    fs.materialize(work, CUTOFF)
    assert hm_demo.prepare_demo(work).store_rebuilt


def test_an_interrupted_preparation_is_redone(work: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed while rebuilding with unchanged inputs: the next call must not take it for finished."""
    def killed(*_) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(hm_demo, "_candidates_by_source", killed)
    with pytest.raises(KeyboardInterrupt):
        hm_demo.prepare_demo(work, force=True)
    assert not (layout.demo_dir(work.work_dir) / "meta.json").exists()
    monkeypatch.undo()
    assert hm_demo.prepare_demo(work).artefacts_rebuilt
    assert not hm_demo.prepare_demo(work).artefacts_rebuilt


def test_force_rebuilds_both(work: Config) -> None:
    prepared = hm_demo.prepare_demo(work, force=True)
    assert prepared.store_rebuilt and prepared.artefacts_rebuilt


class StubScorer:
    """Stands in for the image ensemble's relevance scorer: a fixed pseudo-random score per pair."""

    def score(self, pairs: pl.DataFrame) -> pl.Series:
        mix = (pairs["customer"].cast(pl.Int64) * 7919 + pairs["article_id"].cast(pl.Int64)) % 1000
        return (mix / 1000).cast(pl.Float32).alias(RELEVANCE)


def test_a_ranker_that_reads_the_image_relevance_is_explained_with_it(work: Config, monkeypatch) -> None:
    ranking.run(work, load(work.data_dir, work.processed_dir), CUTOFF, StubScorer())  # this copy's ranker
    scorer_file = layout.relevance_dir(work.work_dir, ranking.relevance_cutoff(work, CUTOFF)) / "scorer.json"
    write_json({}, scorer_file)  # where the real scorer would be
    monkeypatch.setattr(ensemble, "load_scorer", lambda *_: StubScorer())
    prepared = hm_demo.prepare_demo(work)
    assert prepared.artefacts_rebuilt and not prepared.store_rebuilt
    assert {RELEVANCE, ranking.RELEVANCE_RANK} <= set(hm_demo.load_ranker(work, CUTOFF).model.feature_names)
    served, expected = served_and_batch(work)
    assert (served["score"] - expected["score"]).abs().max() < 1e-5
    touch(scorer_file)  # the ensemble saved again
    assert hm_demo.prepare_demo(work).artefacts_rebuilt
