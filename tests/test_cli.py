"""The `hm` command: each sub-command end to end on tiny data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hm_lib.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    assert main(["generate", "--scale", "tiny", "--seed", "5", "--out", str(root / "raw"), "--no-images"]) == 0
    return root


def _args(root: Path) -> list[str]:
    return ["--data", str(root / "raw"), "--work", str(root)]


def test_generate_writes_the_raw_files_and_the_truth(world: Path) -> None:
    assert sorted(p.name for p in (world / "raw").iterdir()) == ["articles.csv", "customers.csv", "transactions_train.csv"]
    assert (world / "synthetic_truth" / "meta.json").exists()


def test_prepare_then_baseline_validate(world: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["prepare", *_args(world)]) == 0
    capsys.readouterr()
    assert main(["baseline", "popular", "--validate", *_args(world)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"] == "popular" and 0 < out["map@12"] < 1 and out["cutoff"] == "2020-09-16"


def test_oracle_scores_a_data_week_and_the_hidden_target_week(world: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(world)
    for week in ("2020-09-16", "2020-09-23"):
        assert main(["oracle", "--week-start", week, *_args(world)]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["customers_scored"] > 0 and out["map@12"] > 0
        assert Path(out["predictions"]).exists()


def test_baseline_submission_then_validate_submission(world: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(world)
    assert main(["baseline", "decayed_repurchase", *_args(world)]) == 0
    out = json.loads(capsys.readouterr().out)
    path = Path(out["submission"])
    assert out["rows"] == 500 and out["target_week"]["map@12"] > 0
    assert main(["validate-submission", str(path), *_args(world)]) == 0
    lines = path.read_text().splitlines()
    bad = path.with_name("bad.csv")
    bad.write_text("\n".join(lines[:-1]) + "\n")
    assert main(["validate-submission", str(bad), *_args(world)]) == 2  # bad input
    assert "row" in capsys.readouterr().err


def test_bad_arguments_are_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--image-size", "big"])
    assert "128x192" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["oracle", "--week-start", "yesterday"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_run_set_overrides_reach_the_stage_settings() -> None:
    from hm_lib.config import Config, check_overrides, parse_overrides
    from hm_lib.errors import InputError, SettingError
    from hm_lib.image_model.settings import ImageModelSettings
    from hm_lib.negatives import NegativeSettings

    cfg = Config.for_scale("tiny", **parse_overrides(["negatives__ratio=4"]))
    assert cfg.settings("negatives", NegativeSettings).ratio == 4
    image = Config.for_scale("tiny", **parse_overrides(["image__variants=no_image,end_to_end",
                                                        "image__image_size=64,96"])).settings("image", ImageModelSettings)
    assert image.variants == ("no_image", "end_to_end") and image.image_size == (64, 96)
    with pytest.raises(InputError, match="SECTION__FIELD=VALUE"):
        parse_overrides(["ratio=4"])
    with pytest.raises(SettingError, match="image_size"):
        parse_overrides(["image__image_size=big"])  # values are checked too
    with pytest.raises(SettingError, match="unknown setting"):
        Config.for_scale("tiny", negatives__nope=1).settings("negatives", NegativeSettings)
    for key in ("negatives__ratio", "image__epochs_frozen", "ranker__train_weeks", "ensemble__members", "candidates__cap"):
        check_overrides({key: 1})  # every section's class is found
    with pytest.raises(SettingError, match="unknown settings section 'negativs'"):
        check_overrides({"negativs__ratio": 4})
