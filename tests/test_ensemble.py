"""hm_lib.ensemble: resampling without leaks, the stacker, the scorer's tables, the stage on the tiny world
(comparison, reuse, resuming after a crash) and candidate filtering."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from hm_lib import schema
from hm_lib.ensemble import (
    RELEVANCE,
    EnsembleSettings,
    RelevanceScorer,
    filter_candidates,
    fit_stacker,
    resample,
    run_ensemble,
    threshold_recall,
)
from hm_lib.ensemble import stage as stage_module
from hm_lib.ensemble.members import MemberTrainer
from hm_lib.ensemble.parts import PART
from hm_lib.ensemble.stage import _image_inputs
from hm_lib.image_model import ImageModelSettings, model_tables
from hm_lib.negatives import NegativeSettings, build_pairs, split_pairs

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
PAIR_KEYS = [schema.CUSTOMER, schema.ARTICLE, "day"]


def toy_pairs(n_pos: int = 300, ratio: int = 10, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_pos * (1 + ratio)
    day = np.datetime64("2020-09-01") + rng.integers(0, 28, n).astype("timedelta64[D]")
    frame = pl.DataFrame({schema.CUSTOMER: rng.integers(0, 200, n).astype(np.int32),
                          schema.ARTICLE: rng.integers(0, 5000, n).astype(np.int32),
                          "day": day.astype("datetime64[D]"),
                          "label": np.r_[np.ones(n_pos), np.zeros(n - n_pos)].astype(np.int8)})
    return frame.unique(PAIR_KEYS, keep="first", maintain_order=True)


def test_resampling_parts_are_disjoint_and_the_stack_slice_is_unseen() -> None:
    pairs = toy_pairs()
    parts = resample(pairs, parts=10, stack_share=0.1, seed=7)
    negatives = parts.members.filter(pl.col("label") == 0)
    assert negatives[PART].min() == 0 and negatives[PART].max() == 9
    assert parts.members.filter(pl.col("label") == 1)[PART].unique().to_list() == [-1]
    sizes = negatives.group_by(PART).len()["len"]
    assert sizes.max() - sizes.min() <= 1  # equal parts
    # every pair goes to exactly one place: the stacker's slice or the members' pairs
    assert parts.stack.height + parts.members.height == pairs.height
    assert parts.stack.join(parts.members, on=PAIR_KEYS, how="semi").is_empty()
    assert 0.05 < parts.stack.height / pairs.height < 0.15
    positives = parts.members.filter(pl.col("label") == 1).height
    for i in range(10):
        member = parts.member(i)
        assert member.filter(pl.col("label") == 1).height == positives
        assert member.filter(pl.col("label") == 0)[PART].unique().to_list() == [i]
        assert member.join(parts.stack, on=PAIR_KEYS, how="semi").is_empty()


def test_resampling_is_seeded_and_independent_of_row_order() -> None:
    pairs = toy_pairs()
    a, b = resample(pairs, 10, 0.1, seed=7), resample(pairs, 10, 0.1, seed=7)
    assert a.members.equals(b.members) and a.stack.equals(b.stack)
    shuffled = resample(pairs.sample(fraction=1.0, shuffle=True, seed=1), 10, 0.1, seed=7)
    assert shuffled.stack.sort(PAIR_KEYS).equals(a.stack.sort(PAIR_KEYS))
    assert not resample(pairs, 10, 0.1, seed=8).stack.equals(a.stack)


def test_stacker_weighs_the_informative_member_most() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(4000) < 0.2).astype(np.int8)
    informative = 3.0 * (y - 0.5) + rng.normal(0, 1, y.size)
    noise = rng.normal(0, 1, y.size)
    stacker = fit_stacker(np.column_stack([noise, informative]).astype(np.float32), y, epochs=20, lr=0.05, seed=0)
    assert stacker.weights[1] > 1.0 > abs(stacker.weights[0]) * 5
    assert stacker.losses[-1] < stacker.losses[0]
    with pytest.raises(ValueError, match="both labels"):
        fit_stacker(np.zeros((10, 2), np.float32), np.zeros(10, np.int8), 1, 0.1, 0)


def test_threshold_recall_and_filtering() -> None:
    scored = pl.DataFrame({schema.CUSTOMER: [0, 0, 0, 1, 1], schema.ARTICLE: [1, 2, 3, 1, 4],
                           RELEVANCE: [0.9, 0.3, 0.05, 0.2, 0.6]}, schema_overrides={RELEVANCE: pl.Float32})
    truth = pl.DataFrame({schema.CUSTOMER: [0, 0, 1, 1, 2], schema.ARTICLE: [1, 3, 4, 9, 1]})
    table = threshold_recall(scored, truth, (0.1, 0.5))
    # customer 2 has no candidates and is not counted; 3 of the 4 other purchases are candidates
    assert table["recall"].to_list() == pytest.approx([0.75, 0.5, 0.5])
    assert table["recall_lost"].to_list() == pytest.approx([0.0, 0.25, 0.25])
    assert table["candidates_kept"].to_list() == pytest.approx([1.0, 0.8, 0.4])
    assert filter_candidates(scored, None).equals(scored)
    assert filter_candidates(scored, 0.5)[schema.ARTICLE].to_list() == [1, 4]


@pytest.fixture(scope="module")
def stage(tiny_world, tiny_data, tmp_path_factory):
    work = tmp_path_factory.mktemp("ensemble")
    cfg = tiny_world.config(work_dir=work, output_dir=work / "outputs", ensemble__member_epochs=1)
    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    return cfg, tiny_data, cutoff, run_ensemble(cfg, tiny_data, cutoff)


def test_stage_compares_members_mean_stacker_and_single_model(stage) -> None:
    cfg, ds, cutoff, result = stage
    settings = EnsembleSettings.for_scale("tiny")
    names = result.comparison["model"].to_list()
    assert names == [f"member {i}" for i in range(settings.members)] + ["members' mean", "stacker",
                                                                        "class-weighted single"]
    loss = dict(zip(names, result.comparison["log_loss"].to_list(), strict=True))
    # the stacker is the calibrated score: the class-weighted single model's probabilities are pushed
    # towards the balanced 1:1 and lose in log loss on the 10:1 held-out pairs
    assert loss["stacker"] < loss["class-weighted single"], loss
    assert set(result.calibration["model"].unique()) == set(names)
    assert result.scorer.members == settings.members and result.time_ratio is not None
    assert result.history.group_by("member").len().sort("member")["len"].to_list() == [1] * settings.members  # member_epochs
    full = EnsembleSettings.for_scale("full")
    assert (full.member_epochs, full.single_model) == (1, False)
    # the held-out comparison pairs are the split's validation pairs: no member trained on them
    negative_settings = cfg.settings("negatives", NegativeSettings)
    split = split_pairs(build_pairs(cfg, ds, cutoff).pairs, cutoff, negative_settings, cfg.seed)
    assert result.comparison["pairs"][0] == split.valid.height
    assert split.valid.join(split.train, on=PAIR_KEYS, how="semi").is_empty()


def test_scorer_matches_the_stacked_member_logits_and_survives_a_round_trip(stage) -> None:
    _, ds, _, result = stage
    scorer = result.scorer
    pairs = pl.DataFrame({schema.CUSTOMER: np.arange(50, dtype=np.int32) % ds.customers.height,
                          schema.ARTICLE: ds.articles[schema.ARTICLE].to_numpy()[:50]})
    logits = scorer.member_logits(pairs[schema.CUSTOMER].to_numpy(), pairs[schema.ARTICLE].to_numpy())
    expected = 1 / (1 + np.exp(-(logits @ scorer.stack_weights + scorer.stack_bias)))
    assert scorer.score(pairs).to_numpy() == pytest.approx(expected, abs=1e-5)
    # one dot product over the members side by side: the stacked logit, a pair's own figure in any order
    stacked = scorer.stacked_logits(pairs[schema.CUSTOMER].to_numpy(), pairs[schema.ARTICLE].to_numpy())
    np.testing.assert_allclose(stacked, logits @ scorer.stack_weights + scorer.stack_bias, rtol=1e-5, atol=1e-5)
    grouped = pl.DataFrame({schema.CUSTOMER: np.arange(60, dtype=np.int32) % 5,
                            schema.ARTICLE: ds.articles[schema.ARTICLE].to_numpy()[:60]})
    order = np.random.default_rng(1).permutation(grouped.height)
    assert np.array_equal(scorer.score(grouped[order]).to_numpy(), scorer.score(grouped).to_numpy()[order])
    loaded = RelevanceScorer.load(result.folder)
    assert np.array_equal(loaded.score(pairs).to_numpy(), scorer.score(pairs).to_numpy())
    with pytest.raises(ValueError, match="article ids the model does not know"):
        scorer.score(pairs.with_columns(pl.lit(1, pl.Int32).alias(schema.ARTICLE)))


def test_stage_is_reused_then_resumed_after_a_crash(stage, monkeypatch) -> None:
    cfg, ds, cutoff, result = stage
    again = run_ensemble(cfg, ds, cutoff)
    assert again.reused and again.comparison.equals(result.comparison)
    calls = []
    real_train = MemberTrainer.train

    def crashing_train(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real_train(self, *args, **kwargs)

    monkeypatch.setattr(MemberTrainer, "train", crashing_train)
    with pytest.raises(RuntimeError, match="killed"):
        run_ensemble(cfg, ds, cutoff, force=True)
    assert not (result.folder / stage_module.SUMMARY_FILE).exists()
    calls.clear()
    monkeypatch.setattr(MemberTrainer, "train", lambda self, *a, **k: (calls.append(1), real_train(self, *a, **k))[1])
    resumed = run_ensemble(cfg, ds, cutoff)
    members = EnsembleSettings.for_scale("tiny").members
    assert len(calls) == members - 2 + 1  # two members were kept on disk; the rest and the single model train
    assert not resumed.reused and resumed.comparison.height == result.comparison.height
    assert not list(result.folder.glob("members-*"))


def test_a_member_trained_in_the_shared_model_equals_one_trained_alone(tiny_world, tiny_data) -> None:
    cfg = tiny_world.config()
    settings = ImageModelSettings.for_scale("tiny")
    tables = model_tables(tiny_data.articles, tiny_data.customers, settings.article_attributes,
                          settings.customer_attributes)
    features, backbone = _image_inputs(cfg, tiny_data, EnsembleSettings.for_scale("tiny"), settings, tables,
                                       tiny_data.end_date)
    rng = np.random.default_rng(0)
    pairs = pl.DataFrame({schema.CUSTOMER: rng.integers(0, tiny_data.customers.height, 800).astype(np.int32),
                          schema.ARTICLE: rng.choice(tiny_data.articles[schema.ARTICLE].to_numpy(), 800),
                          "label": (rng.random(800) < 0.25).astype(np.int8)})
    shared = MemberTrainer("frozen_calibrated", settings, tables, features, backbone)
    shared.train(pairs, seed=1)
    second, _, _ = shared.train(pairs, seed=2)
    alone, _, _ = MemberTrainer("frozen_calibrated", settings, tables, features, backbone).train(pairs, seed=2)
    assert np.allclose(second.items, alone.items, atol=1e-5)
    assert np.allclose(second.customers.astype(np.float32), alone.customers.astype(np.float32), atol=1e-3)
