"""The shared stage settings base: per-scale defaults, typed parsing of overrides, the JSON round trip."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hm_lib.candidates.settings import CandidateSettings
from hm_lib.config import SCALES, SECTIONS, Config, check_overrides, settings_class
from hm_lib.ensemble.settings import EnsembleSettings
from hm_lib.errors import SettingError
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.negatives.settings import NegativeSettings
from hm_lib.ranking.settings import RankerSettings
from hm_lib.settings_base import StageSettings

CLASSES = (CandidateSettings, NegativeSettings, ImageModelSettings, EnsembleSettings, RankerSettings)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.SECTION)
@pytest.mark.parametrize("scale", SCALES)
def test_every_scale_round_trips_through_json(cls: type[StageSettings], scale: str) -> None:
    settings = cls.for_scale(scale)
    assert settings_class(cls.SECTION) is cls and SECTIONS[cls.SECTION].endswith(f":{cls.__name__}")
    assert cls.from_dict(json.loads(json.dumps(settings.as_dict()))) == settings
    assert settings == cls(**cls.SCALE_DEFAULTS.get(scale, {}))


def test_as_dict_is_json_friendly() -> None:
    image = ImageModelSettings.for_scale("tiny", cache_dir="cache/x")
    view = image.as_dict()
    assert view["image_size"] == [32, 48] and view["cache_dir"] == "cache/x"
    assert view["variants"] == list(image.variants)
    assert ImageModelSettings.from_dict(view).cache_dir == Path("cache/x")
    assert EnsembleSettings().as_dict()["thresholds"] == list(EnsembleSettings().thresholds)


@pytest.mark.parametrize(("cls", "name", "text", "expected"), [
    (ImageModelSettings, "image_size", "48,72", (48, 72)),
    (ImageModelSettings, "image_size", " 48 , 72 ", (48, 72)),
    (ImageModelSettings, "variants", "no_image,end_to_end", ("no_image", "end_to_end")),
    (ImageModelSettings, "variants", ["no_image"], ("no_image",)),
    (EnsembleSettings, "thresholds", "0.1,0.2", (0.1, 0.2)),
    (EnsembleSettings, "min_relevance", "0.05", 0.05),
    (EnsembleSettings, "min_relevance", "none", None),
    (EnsembleSettings, "min_relevance", "", None),
    (ImageModelSettings, "train_customers", "none", None),
    (ImageModelSettings, "train_customers", "null", None),
    (ImageModelSettings, "train_customers", "300", 300),
    (ImageModelSettings, "trainable_from", "126", 126),
    (ImageModelSettings, "trainable_from", "conv4_block1_1_conv", "conv4_block1_1_conv"),
    (ImageModelSettings, "cache_dir", "cache/image", Path("cache/image")),
    (ImageModelSettings, "cache_dir", "none", None),
    (ImageModelSettings, "allow_download", "yes", True),
    (ImageModelSettings, "allow_download", "0", False),
    (EnsembleSettings, "single_model", "False", False),
    (NegativeSettings, "ratio", "5", 5),
    (NegativeSettings, "same_day_share", "0.25", 0.25),
    (NegativeSettings, "category", "product_group_name", "product_group_name"),
    (CandidateSettings, "cap", 30, 30),  # typed values pass unchanged
])
def test_parse_by_type_hint(cls: type[StageSettings], name: str, text: object, expected: object) -> None:
    value = cls.parse(name, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("cls", "name", "text", "message"), [
    (ImageModelSettings, "image_size", "64x96",
     "image__image_size='64x96': expected tuple[int, int] such as 64,96"),
    (ImageModelSettings, "image_size", "48,72,96", "expected tuple[int, int]"),
    (ImageModelSettings, "train_customers", "many",
     "image__train_customers='many': expected int | None such as 3"),
    (ImageModelSettings, "allow_download", "maybe", "expected bool such as false"),
    (EnsembleSettings, "min_relevance", "high", "ensemble__min_relevance='high': expected float | None"),
    (EnsembleSettings, "thresholds", "0.1,x", "expected tuple[float, ...] such as 0.03,0.05"),
    (NegativeSettings, "ratio", "five", "negatives__ratio='five': expected int such as 10"),
    (NegativeSettings, "ratoi", "5", "unknown setting 'negatives__ratoi'; negatives has window_days, ratio"),
])
def test_bad_values_and_unknown_fields_are_one_line_setting_errors(cls: type[StageSettings], name: str,
                                                                   text: str, message: str) -> None:
    with pytest.raises(SettingError) as error:
        cls.parse(name, text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_for_scale_replace_and_from_dict_parse_and_check_names() -> None:
    assert ImageModelSettings.for_scale("tiny", image_size="40,60").image_size == (40, 60)
    assert EnsembleSettings.for_scale("tiny", min_relevance="0.05").min_relevance == 0.05
    assert NegativeSettings.for_scale("small").replace(ratio="4").ratio == 4
    with pytest.raises(SettingError, match="unknown scale 'huge'"):
        CandidateSettings.for_scale("huge")
    with pytest.raises(SettingError, match="unknown setting 'image__nope'; image has backbone"):
        ImageModelSettings.from_dict({**ImageModelSettings().as_dict(), "nope": 1})
    with pytest.raises(SettingError, match="EnsembleSettings: min_relevance must lie in"):
        EnsembleSettings.for_scale(min_relevance="2")  # parsed, then the class's own checks


def test_config_overrides_are_parsed_by_the_field_type() -> None:
    cfg = Config().replace(**{"image__image_size": "48,72", "image__train_customers": "none",
                              "ensemble__min_relevance": "0.05", "ranker__n_estimators": "10"})
    assert cfg.settings("image", ImageModelSettings).image_size == (48, 72)
    assert cfg.settings("image", ImageModelSettings).train_customers is None
    assert cfg.settings("ensemble", EnsembleSettings).min_relevance == 0.05
    own = cfg.replace(data_dir="raw", cutoff="2020-09-16", validate="true", seed="7")
    assert (own.data_dir, own.cutoff, own.validate, own.seed) == (Path("raw"), dt.date(2020, 9, 16), True, 7)
    with pytest.raises(SettingError, match="image__image_size='big': expected tuple"):
        Config(extra={"image__image_size": "big"}).settings("image", ImageModelSettings)


def test_unknown_sections_and_bad_values_raise_on_both_paths() -> None:
    cfg = Config().replace(imagee__k=3)
    for check in (lambda: cfg.settings("image", ImageModelSettings), lambda: check_overrides(cfg.extra)):
        with pytest.raises(SettingError, match="unknown settings section 'imagee'; the sections are cand"):
            check()
    with pytest.raises(SettingError, match="ranker__n_estimators='many': expected int such as 400"):
        check_overrides({"ranker__n_estimators": "many"})  # values too, for a class without the base
    with pytest.raises(SettingError, match="is not SECTION__FIELD"):
        Config().replace(ratio=4).settings("negatives", NegativeSettings)
