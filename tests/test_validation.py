"""The cut-off rule, the held-out week's buyers and scores, and the run's record of them (validation.json)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from conftest import WorldDirs

from hm_lib import schema
from hm_lib.config import Config
from hm_lib.cutoffs import cutoff_for, is_after_data
from hm_lib.data import Dataset
from hm_lib.evaluation import week_customers
from hm_lib.io import read_json
from hm_lib.truth import has_truth
from hm_lib.validation import (
    STAGES_KEY,
    VALIDATION_FILE,
    baseline_predictions,
    record_validation,
    validation_scores,
)


def test_validation_holds_out_the_last_days_and_the_submission_starts_the_day_after(tiny_data: Dataset) -> None:
    end = tiny_data.end_date
    assert cutoff_for(Config(validate=True), tiny_data) == end - dt.timedelta(days=6)
    assert cutoff_for(Config(validate=True, holdout_days=3), tiny_data) == end - dt.timedelta(days=2)
    submission = cutoff_for(Config(), tiny_data)
    assert submission == end + dt.timedelta(days=1) and is_after_data(tiny_data, submission)
    assert not is_after_data(tiny_data, end)
    assert cutoff_for(Config(cutoff=dt.date(2020, 1, 1), validate=True), tiny_data) == dt.date(2020, 1, 1)


def test_week_customers_are_the_distinct_buyers_of_those_days_sorted() -> None:
    day = dt.date(2020, 9, 1)
    rows = pl.DataFrame({"t_dat": [day - dt.timedelta(days=1), day, day, day + dt.timedelta(days=2),
                                   day + dt.timedelta(days=7)],
                         schema.CUSTOMER: [1, 5, 5, 2, 9], schema.ARTICLE: [10, 11, 12, 10, 10]})
    assert week_customers(rows, day)[schema.CUSTOMER].to_list() == [2, 5]
    assert week_customers(rows, day, days=1)[schema.CUSTOMER].to_list() == [5]


def test_scores_carry_both_baselines_and_the_oracle_on_a_synthetic_world(tiny_world: WorldDirs,
                                                                          tiny_data: Dataset, tmp_path) -> None:
    cfg = tiny_world.config(validate=True)
    assert has_truth(cfg, tiny_data)
    cutoff = cutoff_for(cfg, tiny_data)
    figures = validation_scores(cfg, tiny_data, cutoff)
    assert figures["buyers"] == week_customers(tiny_data.transactions, cutoff).height > 0
    for name in ("baseline_popular", "baseline_decayed_repurchase", "oracle"):
        assert 0 <= figures[name]["map@12"] <= 1
    assert figures["oracle"]["map@12"] > figures["baseline_popular"]["map@12"]
    # `hm run --work` elsewhere: the truth `hm generate` wrote beside the raw folder is found
    other = dataclasses.replace(cfg, work_dir=tmp_path / "work")
    assert other.truth_dir == tiny_world.truth and "oracle" in validation_scores(other, tiny_data, cutoff)
    bare = dataclasses.replace(other, data_dir=tmp_path / "raw")  # no truth in either place: no oracle
    assert "oracle" not in validation_scores(bare, tiny_data, cutoff)


def test_an_unknown_baseline_is_refused_by_name(tiny_data: Dataset) -> None:
    with pytest.raises(ValueError, match="unknown baseline 'best'.*popular"):
        baseline_predictions(tiny_data, "best", tiny_data.end_date)


def test_stages_merge_their_figures_into_one_record(tmp_path) -> None:
    cfg = Config(output_dir=tmp_path)
    record_validation(cfg, {"candidates": {"recall": 0.5}}, stage="02")
    path = record_validation(cfg, {"ranker": {"map@12": 0.04}, "ranker_without_taste": {"map@12": 0.03}}, stage="06")
    assert path == tmp_path / VALIDATION_FILE
    assert read_json(path) == {"candidates": {"recall": 0.5}, "ranker": {"map@12": 0.04},
                               "ranker_without_taste": {"map@12": 0.03},
                               STAGES_KEY: {"02": ["candidates"], "06": ["ranker", "ranker_without_taste"]}}


def test_a_stage_rerun_replaces_all_it_wrote_before(tmp_path) -> None:
    """A rerun of the ranking without an ablation leaves no figure of the ablation from the run before."""
    cfg = Config(output_dir=tmp_path)
    record_validation(cfg, {"candidates": {"recall": 0.5}}, stage="02")
    record_validation(cfg, {"ranker": {"map@12": 0.04}, "ranker_without_taste": {"map@12": 0.03}}, stage="06")
    record = read_json(record_validation(cfg, {"ranker": {"map@12": 0.05}}, stage="06"))
    assert {k: v for k, v in record.items() if k != STAGES_KEY} == {"candidates": {"recall": 0.5},
                                                                    "ranker": {"map@12": 0.05}}
    assert record[STAGES_KEY] == {"02": ["candidates"], "06": ["ranker"]}
