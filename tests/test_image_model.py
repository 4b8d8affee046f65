"""hm_lib.image_model on the tiny world with the small backbone: shapes, training, the feature cache, batching
by distinct article, the stage, saving, placeholders for bad photos, and no download without permission."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import keras
import numpy as np
import polars as pl
import pytest
from PIL import Image

from hm_lib import schema
from hm_lib.errors import RunError
from hm_lib.image_model import (
    VARIANTS,
    ImageModelSettings,
    ImageSource,
    PairBatches,
    build_backbone,
    build_model,
    linear_probe,
    load_model,
    photo_features,
    plot_neighbour_grid,
    plot_slice_ablation,
    plot_training_curves,
    ranking_metrics,
    resolve_weights,
    run_image_stage,
    score_pairs,
    split_backbone,
)
from hm_lib.image_model import backbone as backbone_module
from hm_lib.image_model.backbone import IMAGENET_FILE, preprocess
from hm_lib.image_model.data import grouped_batches, padded_count
from hm_lib.image_model.evaluate import slice_eval_sets
from hm_lib.image_model.features import PLACEHOLDER_ID, photo_window
from hm_lib.image_model.history import purchase_history
from hm_lib.image_model.images import CORRUPT, MISSING, NOT_READ, OK, WHITE
from hm_lib.image_model.model import copy_shared_weights
from hm_lib.image_model.plots import nearest_neighbours
from hm_lib.image_model.scoring import ImageRelevanceModel
from hm_lib.image_model.stage import _order, clone_tail, probe_positions
from hm_lib.image_model.train import customer_sample, pair_arrays
from hm_lib.slices import SLICES, article_slices

# Keras' TensorFlow backend converts variables with np.array(x), which numpy 2 warns about (not our code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
SETTINGS = ImageModelSettings.for_scale("tiny", variants=("no_image", "frozen_pooled", "frozen_calibrated",
                                                          "end_to_end"))


def simple_pairs(transactions: pl.DataFrame, article_ids: np.ndarray, cutoff: dt.date, weeks: int = 8,
                 ratio: int = 4, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Positives of the last weeks plus random negatives; validation: the last week of 30% of customers."""
    rng = np.random.default_rng(seed)
    pos = (transactions.filter(pl.col("t_dat") >= cutoff - dt.timedelta(weeks=weeks))
           .select(schema.CUSTOMER, schema.ARTICLE, pl.col("t_dat").alias("day")).unique()
           .sort(schema.CUSTOMER, "day", schema.ARTICLE))
    neg = pl.DataFrame({schema.CUSTOMER: np.repeat(pos[schema.CUSTOMER].to_numpy(), ratio),
                        schema.ARTICLE: rng.choice(article_ids, pos.height * ratio).astype(np.int32),
                        "day": np.repeat(pos["day"].to_numpy(), ratio)})
    keys = [schema.CUSTOMER, schema.ARTICLE]
    neg = neg.join(pos.select(keys), on=keys, how="anti")
    pairs = pl.concat([pos.with_columns(label=pl.lit(1, pl.Int8)), neg.with_columns(label=pl.lit(0, pl.Int8))])
    held = pl.col(schema.CUSTOMER).hash(seed) % 10 < 3
    last = pl.col("day") >= cutoff - dt.timedelta(weeks=1)
    return pairs.filter(~(held & last)), pairs.filter(held & last)


@pytest.fixture(scope="module")
def world(tiny_world, tiny_data):
    cutoff = tiny_data.end_date + dt.timedelta(days=1)
    train, valid = simple_pairs(tiny_data.transactions, tiny_data.articles[schema.ARTICLE].to_numpy(), cutoff)
    return tiny_world, tiny_data, train, valid


@pytest.fixture(scope="module")
def stage(world, tmp_path_factory):
    """The whole stage on the tiny world (outputs and feature cache in a temporary folder)."""
    dirs, ds, train, valid = world
    root = tmp_path_factory.mktemp("image_stage")
    settings = SETTINGS.replace(cache_dir=root / "cache")
    return run_image_stage(dirs.config(output_dir=root / "outputs", validate=True), ds, train, valid, settings)


# --- images and placeholders --------------------------------------------------------------------

@pytest.fixture()
def messy_raw(tiny_world, tmp_path) -> tuple[Path, np.ndarray]:
    """A raw folder with 2 good photos, 2 missing, a file that is no image and a truncated JPEG."""
    ids = sorted(int(p.stem) for p in (tiny_world.raw / "images").rglob("*.jpg"))[:5]
    for a in ids:
        dst = tmp_path / schema.image_relpath(a)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_world.raw / schema.image_relpath(a), dst)
    (tmp_path / schema.image_relpath(ids[1])).unlink()
    (tmp_path / schema.image_relpath(ids[2])).write_bytes(b"not a jpeg at all")
    data = (tmp_path / schema.image_relpath(ids[3])).read_bytes()
    (tmp_path / schema.image_relpath(ids[3])).write_bytes(data[: len(data) // 3])
    return tmp_path, np.array(ids + [ids[-1] + 1])  # the last id has no photo either


@pytest.mark.parametrize("decoder", ["pil", "tf"])
def test_missing_and_corrupt_photos_become_white_placeholders(messy_raw, decoder, caplog) -> None:
    raw, ids = messy_raw
    source = ImageSource(raw, (32, 48), workers=2, decoder=decoder)
    images, status = source.read_all(ids)
    assert images.shape == (6, 48, 32, 3) and images.dtype == np.uint8
    assert status.tolist() == [OK, MISSING, CORRUPT, CORRUPT, OK, MISSING]
    assert (images[status != OK] == WHITE).all() and (images[status == OK] != WHITE).any()
    reference, _ = ImageSource(raw, (32, 48), decoder="pil").read_all(ids)
    assert np.abs(images.astype(int) - reference.astype(int)).mean() < 4  # the two decoders agree closely


def test_placeholders_are_counted_and_cached(messy_raw, tmp_path, caplog) -> None:
    raw, ids = messy_raw
    split = split_backbone(build_backbone(SETTINGS), SETTINGS.trainable_from)
    source = ImageSource(raw, SETTINGS.image_size, decoder="pil")
    with caplog.at_level(logging.WARNING, logger="hm_lib.image_model"):
        feats = photo_features(split, SETTINGS, source, ids, tmp_path / "cache")
    assert "2 of 6 photos missing and 2 unreadable" in caplog.text
    again = photo_features(split, SETTINGS, source, ids, tmp_path / "cache")
    assert again.status.tolist() == feats.status.tolist() == [OK, MISSING, CORRUPT, CORRUPT, OK, MISSING]
    white = feats.maps.take(np.array([1]))
    np.testing.assert_array_equal(feats.maps.take(np.array([2, 3, 5])), np.repeat(white, 3, axis=0))


def test_outside_the_photo_window_articles_share_the_placeholder_and_photos_are_not_read(messy_raw, tmp_path,
                                                                                        monkeypatch) -> None:
    raw, ids = messy_raw
    split = split_backbone(build_backbone(SETTINGS), SETTINGS.trainable_from)
    source = ImageSource(raw, SETTINGS.image_size, decoder="pil")
    everything = photo_features(split, SETTINGS, source, ids, tmp_path / "all")
    asked: list[int] = []
    original = ImageSource.read
    monkeypatch.setattr(ImageSource, "read", lambda self, a, *args: (asked.extend(a), original(self, a, *args))[1])
    read = np.array([True, False, False, True, True, False])
    some = photo_features(split, SETTINGS, source, ids, tmp_path / "some", read)
    assert sorted(asked) == sorted([*ids[read].tolist(), PLACEHOLDER_ID])  # the others' photos are never opened
    assert some.status.tolist() == [OK, NOT_READ, NOT_READ, CORRUPT, OK, NOT_READ]
    np.testing.assert_array_equal(some.pooled.take(np.flatnonzero(read)), everything.pooled.take(np.flatnonzero(read)))
    white = everything.pooled.take(np.array([1]))  # a missing photo: the white placeholder
    np.testing.assert_array_equal(some.pooled.take(np.flatnonzero(~read)), np.repeat(white, 3, axis=0))
    # statistics over the photos read only
    mean, std = some.pooled_stats
    np.testing.assert_allclose(mean, some.pooled.take(np.flatnonzero(read)).astype(np.float64).mean(axis=0),
                               rtol=1e-6, atol=1e-6)


def test_the_photo_window_keeps_recent_sellers_and_articles_never_sold() -> None:
    day = dt.date(2020, 9, 1)
    tx = pl.DataFrame({"t_dat": [day - dt.timedelta(days=d) for d in (1, 30, 200, 3)],
                       schema.ARTICLE: [1, 2, 3, 5]})  # 5 is sold only after the cut-off below
    ids = np.array([1, 2, 3, 4, 5])
    assert photo_window(ids, tx, day, None) is None
    assert photo_window(ids, tx, day, 60).tolist() == [True, True, False, True, True]
    assert photo_window(ids, tx, day - dt.timedelta(days=2), 10).tolist() == [True, False, False, True, True]


# --- weights: never a download without permission -------------------------------------------------

@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """An empty Keras cache, and any network access or Keras download raising."""
    calls: list[str] = []

    def refuse(*args, **kwargs):
        calls.append(str(args[:1]))
        raise AssertionError("a download was attempted")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(backbone_module, "imagenet_cache_candidates",
                        lambda: [tmp_path / "keras_home" / "models" / IMAGENET_FILE])
    monkeypatch.setattr(keras.utils, "get_file", refuse)
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request, "urlretrieve", refuse)
    return calls, tmp_path / "keras_home" / "models" / IMAGENET_FILE


def test_no_download_when_imagenet_weights_are_absent(offline, caplog) -> None:
    calls, _ = offline
    settings = ImageModelSettings(image_size=(32, 48))
    with caplog.at_level(logging.WARNING, logger="hm_lib.image_model"):
        choice = resolve_weights(settings)
    assert choice.kind == "pretrain" and choice.path is None
    assert caplog.text.count("downloads are off") == 1
    build_backbone(settings, choice)  # a random start, to be pretrained: no file, no network
    assert calls == []


@pytest.mark.parametrize("asked", [{"weights": "imagenet"}, {"allow_download": True}])
def test_imagenet_weights_asked_for_are_downloaded_once_into_the_keras_cache(offline, monkeypatch, asked) -> None:
    _, cached = offline
    fetched: list[tuple] = []

    def get_file(fname, origin, cache_subdir, file_hash):  # Keras' download, mocked: the file lands in the cache
        fetched.append((fname, origin, cache_subdir, file_hash))
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(b"weights")
        return str(cached)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    settings = ImageModelSettings(**asked)
    assert resolve_weights(settings) == backbone_module.WeightsChoice(
        "imagenet", cached, f"ImageNet weights downloaded to {cached}")
    assert fetched == [(IMAGENET_FILE, backbone_module.IMAGENET_URL, "models", backbone_module.IMAGENET_MD5)]
    assert resolve_weights(settings).note == f"ImageNet weights from {cached}"  # the second run reads the cache
    assert len(fetched) == 1


def test_a_failed_imagenet_download_says_what_to_do_in_one_line(offline, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(RunError) as err:
        resolve_weights(ImageModelSettings(weights="imagenet"))
    message = str(err.value)
    assert "\n" not in message and "name resolution" in message
    assert "image__weights=pretrain" in message and IMAGENET_FILE in message


def test_cached_imagenet_file_or_explicit_path_is_used(offline, tmp_path) -> None:
    calls, cached = offline
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"weights")
    assert resolve_weights(ImageModelSettings()) == backbone_module.WeightsChoice(
        "imagenet", cached, f"ImageNet weights from {cached}")
    assert resolve_weights(ImageModelSettings(weights=str(cached))).kind == "file"
    with pytest.raises(FileNotFoundError):
        resolve_weights(ImageModelSettings(weights=str(tmp_path / "nope.h5")))
    assert calls == []


# --- batching ----------------------------------------------------------------------------------

def test_grouped_batches_cover_every_pair_once_within_limits() -> None:
    rng = np.random.default_rng(0)
    articles = rng.zipf(1.5, 5000) % 300
    batches = grouped_batches(articles, 256, 20, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert np.array_equal(np.sort(flat), np.arange(articles.size))
    assert max(b.size for b in batches) <= 256
    assert max(np.unique(articles[b]).size for b in batches) <= 20
    # about one item-tower row per article, not one per interaction
    assert sum(np.unique(articles[b]).size for b in batches) < np.unique(articles).size + len(batches)
    assert [padded_count(n) for n in (1, 16, 17, 100, 129, 1000)] == [16, 16, 20, 112, 160, 1024]


def test_distinct_article_batches_score_like_per_interaction_batches(world, stage) -> None:
    _, _, train, _ = world
    model = stage.models["end_to_end"]
    popular = train[schema.ARTICLE].value_counts(sort=True).head(30)[schema.ARTICLE]
    pairs = train.filter(pl.col(schema.ARTICLE).is_in(popular.implode())).head(600)
    customers, articles, labels = pair_arrays(pairs, stage.tables)
    kwargs = dict(image=model.image, batch_size=200, shuffle=False)
    naive = PairBatches(customers, articles, labels, dedupe=False, **kwargs)
    grouped = PairBatches(customers, articles, labels, group_articles=8, **kwargs)
    assert grouped.distinct_articles < naive.distinct_articles / 3

    def scores(batches: PairBatches) -> np.ndarray:
        out = np.empty(articles.size, dtype=np.float32)
        for i, idx in enumerate(batches.batches):
            x, _, w = batches[i]
            out[idx] = keras.ops.convert_to_numpy(model.model(x))[w > 0, 0]
        return out

    np.testing.assert_allclose(scores(grouped), scores(naive), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(score_pairs(model, pairs).to_numpy(), scores(naive), rtol=1e-5, atol=1e-5)


# --- the model ---------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["no_image", "frozen_pooled", "frozen_calibrated", "end_to_end"])
def test_model_shapes(stage, variant) -> None:
    settings = stage.settings
    tail = stage.models["end_to_end"].model.tail if variant == "end_to_end" else None
    model = build_model(variant, settings, stage.tables, stage.features, tail)
    unique = np.array([0, 3, 7] + [7] * 13, dtype=np.int32)
    x = {"customer": np.array([1, 2, 3, 4, 5], dtype=np.int32),
         "slot": np.array([0, 1, 2, 0, 1], dtype=np.int32), "article": unique}
    if variant != "no_image":
        x["image"] = (stage.features.maps if variant == "end_to_end" else stage.features.pooled).take(unique)
    assert tuple(model(x).shape) == (5, 1)
    assert tuple(model.item_vectors(unique, x.get("image")).shape) == (16, settings.k + 1)
    assert tuple(model.customer_vectors(x["customer"]).shape) == (5, settings.k + 1)


def test_phase_two_starts_where_phase_one_ended(stage) -> None:
    """Before fine-tuning, the end_to_end model scores like the frozen_calibrated model it starts from."""
    frozen = stage.models["frozen_calibrated"]
    start = build_model("end_to_end", stage.settings, stage.tables, stage.features,
                        clone_tail(stage.backbone.tail))
    copy_shared_weights(frozen.model, start)
    scorer = ImageRelevanceModel(start, stage.settings, frozen.article_ids, stage.features.maps)
    positions = np.arange(stage.tables.n_articles)
    # equal up to the float16 rounding of the cached pooled features
    np.testing.assert_allclose(scorer.item_table(positions), frozen.item_table(positions), rtol=1e-2, atol=1e-2)


def test_the_image_share_starts_at_zero_and_the_image_codes_are_whitened(stage) -> None:
    """A fresh image model scores as if it had no photo; training decides how much the photos count."""
    positions = np.arange(stage.tables.n_articles)
    model = build_model("frozen_calibrated", stage.settings, stage.tables, stage.features)
    pooled = stage.features.pooled.take(positions)
    fresh = keras.ops.convert_to_numpy(model.item_vectors(positions, pooled))
    blank = keras.ops.convert_to_numpy(model.item_vectors(positions, np.zeros_like(pooled)))
    np.testing.assert_array_equal(fresh, blank)
    trained = stage.models["frozen_calibrated"].model
    assert np.abs(keras.ops.convert_to_numpy(trained.image_dense.kernel)).max() > 0
    codes = stage.tables.history_image
    assert codes.shape == (stage.tables.n_articles, stage.settings.history_image_dim)
    np.testing.assert_allclose(np.cov(codes, rowvar=False, bias=True), np.eye(codes.shape[1]), atol=1e-3)


def test_the_saved_model_reads_the_histories_before_the_cutoff(world, stage) -> None:
    """Training and evaluation read the histories before the first training day; the saved model, to score
    the days after the cut-off, those before it."""
    _, ds, train, valid = world
    trained = keras.ops.convert_to_numpy(stage.models["no_image"].model.customer_history)
    np.testing.assert_array_equal(trained, stage.tables.history)
    saved = keras.ops.convert_to_numpy(load_model(stage.paths["model"]).model.customer_history)
    cutoff = pl.concat([train["day"], valid["day"]]).max() + dt.timedelta(days=1)
    expected = purchase_history(ds.transactions, stage.tables.article_ids, ds.customers.height, cutoff,
                                stage.settings.history_length)
    np.testing.assert_array_equal(saved, expected)

    def entries(history: np.ndarray) -> set[tuple[int, int]]:
        customers, slots = np.nonzero(history >= 0)
        return set(zip(customers.tolist(), history[customers, slots].tolist()))

    first = train["day"].min()
    before = ds.transactions.filter(pl.col("t_dat") < first)
    bought_before = set(zip(before[schema.CUSTOMER].to_list(),
                            stage.tables.positions(before[schema.ARTICLE]).tolist()))
    assert entries(trained) and entries(trained) <= bought_before  # nothing from the pairs' window
    assert entries(saved) - bought_before  # the saved model knows the window's purchases


def test_a_few_training_steps_lower_the_loss(world, stage) -> None:
    _, _, train, _ = world
    keras.utils.set_random_seed(0)
    model = build_model("end_to_end", stage.settings, stage.tables, stage.features,
                        clone_tail(stage.models["end_to_end"].model.tail))
    # a traced graph (compile's default): the tiny settings train eagerly, so this keeps the graph step tested
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    customers, articles, labels = pair_arrays(train.head(256), stage.tables)
    x, y, w = PairBatches(customers, articles, labels, stage.features.maps, 256, shuffle=False)[0]
    before = model.test_on_batch(x, y, sample_weight=w)
    for _ in range(8):
        model.train_on_batch(x, y, sample_weight=w)
    assert model.test_on_batch(x, y, sample_weight=w) < 0.8 * before


def test_cached_features_equal_features_computed_from_the_photos(messy_raw, tmp_path) -> None:
    raw, ids = messy_raw
    settings = SETTINGS
    split = split_backbone(build_backbone(settings), settings.trainable_from)
    source = ImageSource(raw, settings.image_size, decoder="pil")
    first = photo_features(split, settings, source, ids, tmp_path / "cache")
    stamp = (first.maps.folder / "features.npy").stat().st_mtime_ns
    cached = photo_features(split, settings, source, ids, tmp_path / "cache")
    assert (cached.maps.folder / "features.npy").stat().st_mtime_ns == stamp  # nothing recomputed
    images, _ = source.read_all(ids)
    direct = keras.ops.convert_to_numpy(split.head(preprocess(images), training=False))
    np.testing.assert_array_equal(cached.maps.take(np.arange(ids.size)), direct.astype(np.float16))
    pooled = keras.ops.convert_to_numpy(split.backbone(preprocess(images), training=False))
    np.testing.assert_allclose(cached.pooled.take(np.arange(ids.size)).astype(np.float32), pooled, rtol=1e-2,
                               atol=1e-2)
    # a changed photo is recomputed (one row appended), the others are read back unchanged
    path = raw / schema.image_relpath(int(ids[0]))
    Image.open(path).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path)
    changed = photo_features(split, settings, source, ids, tmp_path / "cache")
    assert changed.maps.values.shape[0] == ids.size + 1
    rest = np.arange(1, ids.size)
    np.testing.assert_array_equal(changed.maps.take(rest), cached.maps.take(rest))
    assert not np.array_equal(changed.maps.take(np.array([0])), cached.maps.take(np.array([0])))


# --- the stage, scoring, saving ----------------------------------------------------------------

def test_a_submission_trains_only_the_saved_variant_and_its_warm_up() -> None:
    assert _order(SETTINGS, validate=True) == list(VARIANTS)
    assert _order(SETTINGS, validate=False) == ["frozen_calibrated"]  # the ensemble's variant, the saved one
    assert _order(SETTINGS.replace(variant="end_to_end"), validate=False) == ["frozen_calibrated", "end_to_end"]
    assert _order(SETTINGS.replace(variant="no_image"), validate=False) == ["no_image"]
    assert _order(SETTINGS.replace(ablation_always=True), validate=False) == list(VARIANTS)


def test_stage_trains_and_evaluates_every_variant(stage) -> None:
    result, settings = stage, stage.settings
    assert result.ablation["variant"].to_list() == list(settings.variants)
    ablation = result.ablation
    # the paper's protocol over the evaluated customers: a hit rate counts customers, NDCG discounts them
    assert (ablation["customers"] > 0).all()
    hits = (ablation["hr@10"] * ablation["customers"]).to_numpy()
    np.testing.assert_allclose(hits, np.round(hits), atol=1e-9)
    assert (ablation["ndcg@10"] <= ablation["hr@10"] + 1e-12).all() and ablation["auc"].is_between(0, 1).all()
    assert set(result.history["phase"]) == {"frozen", "finetune"}
    assert result.weights["kind"] == "pretrain" and result.weights["pretraining"]["photos"] > 0
    assert result.placeholders["images"] == result.model.article_ids.size
    embeddings = pl.read_parquet(result.paths["embeddings"])
    assert embeddings.height == result.model.article_ids.size
    assert len(embeddings["embedding"][0]) == settings.calibration_units
    assert result.paths["summary"].is_file()


def test_saved_model_reloads_with_identical_scores(world, stage) -> None:
    _, _, train, valid = world
    result = stage
    pairs = pl.concat([train, valid])
    before = score_pairs(result.model, pairs)
    loaded = load_model(result.paths["model"])
    after = score_pairs(loaded, pairs, shard=97)
    assert after.dtype == pl.Float32 and after.len() == pairs.height
    np.testing.assert_array_equal(after.to_numpy(), before.to_numpy())


def test_notebook_figures(stage, tiny_world) -> None:
    curves = plot_training_curves(stage.history)
    # train and validation loss per variant, and the line where end_to_end's phase 2 starts
    assert len(curves.axes) == 2 and len(curves.axes[0].lines) == 2 * len(stage.settings.variants) + 1
    embeddings = pl.read_parquet(stage.paths["embeddings"])
    grid = plot_neighbour_grid(embeddings, tiny_world.raw, n_queries=2, k=3)
    assert len(grid.axes) == 2 * 4
    first = int(embeddings[schema.ARTICLE][0])
    assert first not in nearest_neighbours(embeddings, [first], 5)[first]


def test_unknown_articles_are_refused(stage) -> None:
    result = stage
    with pytest.raises(ValueError, match="article ids the model does not know"):
        score_pairs(result.model, pl.DataFrame({schema.CUSTOMER: [0], schema.ARTICLE: [1]},
                                               schema={schema.CUSTOMER: pl.Int32, schema.ARTICLE: pl.Int32}))


def test_ranking_metrics_and_probe() -> None:
    scores = np.array([[5.0, 1, 2, 3], [0.0, 1, 2, 3]])
    m = ranking_metrics(scores)
    assert m["auc"] == pytest.approx(0.5) and m["hr@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx((1 + 1 / np.log2(5)) / 2)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    features = np.eye(4)[labels] + rng.normal(0, 0.3, (400, 4))
    probe = linear_probe(features, labels, np.arange(400) // 2)
    assert probe["accuracy"] > 0.9 and probe["majority"] < 0.5


def test_customer_sample_keeps_whole_customers_and_is_seeded() -> None:
    pairs = pl.DataFrame({schema.CUSTOMER: np.repeat(np.arange(50, dtype=np.int32), 4),
                          schema.ARTICLE: np.arange(200, dtype=np.int32), "label": np.tile([1, 0, 0, 0], 50)})
    assert customer_sample(pairs, None, 1) is pairs and customer_sample(pairs, 50, 1) is pairs
    sample = customer_sample(pairs, 10, 1)
    assert sample[schema.CUSTOMER].n_unique() == 10 and sample.height == 40  # every pair of each chosen one
    assert sample.equals(customer_sample(pairs, 10, 1)) and not sample.equals(customer_sample(pairs, 10, 2))
    assert sample[schema.ARTICLE].is_sorted()  # row order kept


def test_probe_positions_sample_sorted_without_repeats() -> None:
    assert np.array_equal(probe_positions(5, None, 0), np.arange(5))
    assert np.array_equal(probe_positions(5, 9, 0), np.arange(5))
    positions = probe_positions(1000, 100, 0)
    assert positions.size == 100 and np.unique(positions).size == 100 and np.all(np.diff(positions) > 0)


# --- cold start and the evaluation by slice -------------------------------------------------------

def test_articles_without_training_purchases_are_scored_without_an_id_vector(world, stage) -> None:
    """An article never bought in the training pairs has no trained id vector: its item vector comes from its
    attributes (and photo) whatever its id row holds; a seen article's does depend on its id row."""
    _, _, train, _ = world
    seen = stage.tables.article_seen
    bought = np.unique(stage.tables.positions(train.filter(pl.col("label") == 1)[schema.ARTICLE]))
    np.testing.assert_array_equal(np.flatnonzero(seen), bought)
    cold, warm = int(np.flatnonzero(seen == 0)[0]), int(bought[0])
    model = stage.models["no_image"].model
    assert keras.ops.convert_to_numpy(model.article_seen).tolist() == seen.tolist()
    rows = np.array([cold, warm], dtype=np.int32)
    before = keras.ops.convert_to_numpy(model.item_vectors(rows))
    table = model.article_embedding.embeddings
    original = keras.ops.convert_to_numpy(table)
    try:
        table.assign(original + 1.0)
        after = keras.ops.convert_to_numpy(model.item_vectors(rows))
    finally:
        table.assign(original)
    np.testing.assert_array_equal(after[0], before[0])
    assert not np.allclose(after[1], before[1])


def test_id_dropout_hides_a_share_of_the_ids_only_while_training(stage) -> None:
    settings = stage.settings.replace(id_dropout=0.1)
    model = build_model("no_image", settings, stage.tables)
    seen = np.flatnonzero(stage.tables.article_seen).astype(np.int32)
    articles = np.tile(seen, max(1, 4000 // seen.size))
    trained = keras.ops.convert_to_numpy(model.id_vectors(articles, training=True))
    hidden = np.all(trained == 0, axis=1).mean()
    assert hidden == pytest.approx(0.1, abs=0.03)
    scored = keras.ops.convert_to_numpy(model.id_vectors(articles))
    assert not np.all(scored == 0, axis=1).any()


def test_the_held_out_week_is_sampled_within_each_article_slice(world) -> None:
    _, ds, _, _ = world
    cutoff = ds.end_date - dt.timedelta(days=6)
    sets = slice_eval_sets(ds.transactions, cutoff, 7, negatives=20, seed=3)
    assert "all" in sets and set(sets) <= {"all", *SLICES}
    slices = dict(zip(*article_slices(ds.transactions, ds.articles[schema.ARTICLE], cutoff).to_dict().values()))
    week = ds.transactions.filter(pl.col("t_dat") >= cutoff)
    bought_in_week = set(zip(week[schema.CUSTOMER].to_list(), week[schema.ARTICLE].to_list()))
    ever = set(zip(ds.transactions[schema.CUSTOMER].to_list(), ds.transactions[schema.ARTICLE].to_list()))
    for name, held in sets.items():
        assert held.customers.size > 0 and np.unique(held.customers).size == held.customers.size
        for customer, row in zip(held.customers.tolist(), held.candidates.tolist()):
            assert (customer, row[0]) in bought_in_week
            assert not any((customer, a) in ever for a in row[1:]) and len(set(row)) == len(row)
            if name != "all":
                assert {slices[a] for a in row} == {name}
    again = slice_eval_sets(ds.transactions, cutoff, 7, negatives=20, seed=3)  # seeded: the same draw
    assert all(np.array_equal(again[n].candidates, held.candidates) for n, held in sets.items())
    after = slice_eval_sets(ds.transactions, ds.end_date + dt.timedelta(days=1), 7, negatives=20)
    assert after == {}  # no week after the data: nothing to score


def test_the_stage_scores_the_week_after_the_cutoff_by_slice(world, stage, tmp_path) -> None:
    dirs, ds, _, _ = world
    cutoff = ds.end_date - dt.timedelta(days=6)
    train, valid = simple_pairs(ds.transactions.filter(pl.col("t_dat") < cutoff),
                                ds.articles[schema.ARTICLE].to_numpy(), cutoff)
    settings = stage.settings.replace(variants=("no_image", "frozen_calibrated"), variant="frozen_calibrated")
    result = run_image_stage(dirs.config(output_dir=tmp_path / "outputs", validate=True), ds, train, valid, settings,
                             cutoff=cutoff)
    slices = result.slices
    assert slices is not None and set(slices["variant"]) == {"no_image", "frozen_calibrated"}
    assert "all" in slices["slice"].to_list() and set(slices["slice"]) <= {"all", *SLICES}
    assert slices["auc"].is_between(0, 1).all() and (slices["customers"] > 0).all()
    assert (slices["auc_se"] > 0).all() and (slices["negatives"] <= settings.eval_negatives).all()
    assert pl.read_parquet(result.paths["slices"]).equals(slices)
    figure = plot_slice_ablation(slices)
    assert len(figure.axes) == 2 and len(figure.axes[0].patches) == slices.height
