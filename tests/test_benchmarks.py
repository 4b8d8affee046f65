"""The device script, ready for the day a GPU is lent: benchmarks/gpu_full.sh at tiny scale on the CPU."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, ChainRun

pytestmark = pytest.mark.notebooks


def test_gpu_script_runs_the_relevance_stages_and_writes_their_figures(tiny_submission: ChainRun,
                                                                      tmp_path: Path) -> None:
    world = shutil.copytree(tiny_submission.world.root, tmp_path / "world", symlinks=True)  # caches reused
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "HM_WORLD": str(world), "PYTHON": sys.executable,
           "KERAS_BACKEND": "tensorflow", "HM_SET": "ensemble__members=3 ensemble__member_epochs=1"}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_full.sh"), "tiny"], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads((out / "relevance.json").read_text())
    assert figures["scale"] == "tiny" and figures["customers"] == 500 and figures["keras_backend"] == "tensorflow"
    assert figures["overrides"] == {"ensemble__members": "3", "ensemble__member_epochs": "1"}  # HM_SET
    assert len(figures["ensemble_comparison"]) == 3 + 3  # three members, their mean, the stacker, the single model
    assert set(figures["seconds"]) == {"generate", "prepare", "pairs", "image stage", "ensemble"}
    assert figures["relevance_seconds"] == pytest.approx(figures["seconds"]["image stage"]
                                                         + figures["seconds"]["ensemble"], abs=0.11)
    assert [row["variant"] for row in figures["ablation"]] == ["frozen_calibrated"]  # submission mode: the saved one
    assert (out / "log.txt").read_text().count("image stage: ") == 1


def test_the_quality_benchmark_pairs_each_ablation_with_its_ranker(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # the benchmarks run from the checkout (python -m benchmarks....)
    from benchmarks.bench_quality import tables

    def run(ranker: float, without: float) -> dict:
        return {"figures": {"ranker": {"map@12": ranker, "trees": 40}, "ranker_without_taste": {"map@12": without},
                            "oracle": {"map@12": 0.1}, "shares": {"ranker_of_oracle": ranker / 0.1}}}

    text = tables([42, 5], [run(0.05, 0.04), run(0.07, 0.065)])
    assert "| ranker | 0.0500 | 0.0700 | 0.0600 | 0.0141 |" in text
    assert "| taste | +0.0100 | +0.0050 | +0.0075 | 0.0035 |" in text
    assert "ranker / oracle: 0.50, 0.70 (mean 0.60)" in text and "shares" not in text


def test_the_ranker_choices_are_parsed_and_paired_with_the_default(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.bench_ranker_choices import parse_choice, tables

    assert parse_choice("slow:learning_rate=0.02,n_estimators=900") == (
        "slow", {"learning_rate": "0.02", "n_estimators": "900"}, ())
    assert parse_choice("merged:drop=week") == ("merged", {}, ("week",))
    results = [{"map@12": {"default": 0.05, "merged": 0.045}, "trees": {"default": 40, "merged": 30}},
               {"map@12": {"default": 0.06, "merged": 0.058}, "trees": {"default": 50, "merged": 20}}]
    text = tables([42, 5], results)
    assert "| merged | -0.0050 | -0.0020 | -0.0035 | 0.0021 |" in text
    assert "trees: default 40/50; merged 30/20" in text


def test_the_cold_start_benchmark_pairs_each_variant_with_no_image_per_slice(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.bench_cold_start import gain_table, parse_choice, ranker_table

    assert parse_choice("x=image__id_dropout=0.1,image__variants=no_image,end_to_end") == (
        "x", ["image__id_dropout=0.1", "image__variants=no_image,end_to_end"])

    def run(no_image: float, photo: float, ranker: float) -> dict:
        rows = [{"variant": v, "slice": "new", "auc": auc, "auc_se": 0.03, "hr@10": auc / 2, "hr@10_se": 0.04,
                 "customers": 300} for v, auc in (("no_image", no_image), ("end_to_end", photo))]
        return {"figures": {"image_model_slices": rows, "ranker": {"map@12": ranker},
                            "slices": {"new": {"ranker": {"recall@12": ranker / 10},
                                               "candidate_recall": {"union": 0.1}}}}}

    runs = [run(0.60, 0.70, 0.05), run(0.62, 0.66, 0.06)]
    text = gain_table([42, 5], runs)
    assert "| end_to_end | new | auc | +0.1000 | +0.0400 | +0.0700 ± 0.0300 | 0.0424 |" in text
    assert "no_image | new" not in text  # no_image is the yardstick, not a row
    ranker = ranker_table([42, 5], {"base": runs, "other": [run(0.6, 0.7, 0.055), run(0.6, 0.7, 0.06)]})
    assert "| other | map@12 | 0.0550 | 0.0600 | 0.0575 | +0.0025 ± 0.0025 |" in ranker
