"""The ensemble stage: K members on resampled negatives, a stacker, the comparison, the saved scorer.

:func:`run_ensemble` is what notebooks/05_ensemble.ipynb calls. For a cut-off it draws (or reads) the
pairs of the window before it (hm_lib.negatives), keeps the held-out customers' last days for the
comparison, holds a hashed slice of the training pairs out for the stacker, trains one member per part
of the negatives on the cached image features, fits the stacker on the members' logits of its slice,
trains the class-weighted single model, compares them all on the held-out pairs and saves the scorer
to ``{work_dir}/relevance/cutoff=YYYY-MM-DD/``.

Resumable: each finished member's tables are kept under ``members-<digest>/`` until the scorer is
saved, and a folder whose ``summary.json`` carries the same digest (same pairs, data, settings and
image features) is read back instead of retrained.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.utils.class_weight import compute_class_weight

from hm_lib import layout
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.digest import digest
from hm_lib.ensemble.compare import calibration, compare
from hm_lib.ensemble.members import MemberTrainer, branch_features, image_branch_output
from hm_lib.ensemble.parts import Resampled, resample
from hm_lib.ensemble.scorer import MemberTables, RelevanceScorer, sigmoid
from hm_lib.ensemble.settings import EnsembleSettings
from hm_lib.ensemble.stacker import fit_stacker
from hm_lib.image_model.backbone import BackboneSplit
from hm_lib.image_model.features import ArticleFeatures, photo_features, photo_window
from hm_lib.image_model.history import history_start, scoring_histories, with_purchase_history
from hm_lib.image_model.images import ImageSource
from hm_lib.image_model.model import CALIBRATED
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.stage import cache_root, prepare_backbone
from hm_lib.image_model.tables import ModelTables, model_tables
from hm_lib.image_model.train import customer_sample
from hm_lib.io import atomic_path, read_json
from hm_lib.negatives import NegativeSettings, build_pairs, split_pairs
from hm_lib.negatives.sampling import LABEL
from hm_lib.progress import bar
from hm_lib.schema import ARTICLE, CUSTOMER
from hm_lib.stamp import Stamp

log = logging.getLogger(__name__)
SUMMARY_FILE = "summary.json"
BRANCH_FILE = "image-branch.npy"
MEAN, STACKER, SINGLE = "members' mean", "stacker", "class-weighted single"


@dataclass
class EnsembleResult:
    """What the stage produced (``reused``: read back from an earlier run with the same inputs)."""

    cutoff: dt.date
    settings: EnsembleSettings
    scorer: RelevanceScorer
    comparison: pl.DataFrame      # model, auc, average_precision, log_loss, mean_probability, ...
    calibration: pl.DataFrame     # model, predicted, observed
    resampling: dict[str, int]
    history: pl.DataFrame         # member, phase, epoch, loss, auc, seconds
    stacker: dict[str, Any]       # weights, bias, losses
    timings: dict[str, float]
    folder: Path
    reused: bool = False

    @property
    def time_ratio(self) -> float | None:
        """The whole ensemble's training time over the single model's (None without a single model)."""
        single = self.timings.get("single model")
        return None if not single else (self.timings["members"] + self.timings["stacker"]) / single


def _tables_digest(tables: ModelTables) -> str:
    """A hash of the articles, attribute codes, purchase histories and seen articles the models are built on."""
    return digest(tables.article_ids, tables.article_codes, tables.customer_codes, tables.history,
                  tables.history_image, tables.article_seen, size=12)


def _image_inputs(cfg: Config, ds: Dataset, settings: EnsembleSettings, image_settings: ImageModelSettings,
                  tables: ModelTables, cutoff: dt.date) -> tuple[ArticleFeatures | None, BackboneSplit | None]:
    """Cached image features (and the backbone split, for end_to_end members), or none for no_image."""
    if settings.variant == "no_image":
        return None, None
    root = cache_root(cfg, image_settings)
    source = ImageSource(cfg.data_dir, image_settings.image_size, image_settings.decode_workers,
                         image_settings.decoder)
    split, _ = prepare_backbone(image_settings, ds, source, root)
    read = photo_window(tables.article_ids, ds.transactions, cutoff, image_settings.photo_days)
    return photo_features(split, image_settings, source, tables.article_ids, root, read), split


def _save_member(folder: Path, i: int, tables: MemberTables, history: list[dict[str, Any]], seconds: float) -> None:
    scoring = {} if tables.scoring_customers is None else {"scoring_customers": tables.scoring_customers}
    with atomic_path(folder / f"member-{i}.npz", suffix=".npz") as tmp:
        np.savez(tmp, customers=tables.customers, items=tables.items, global_bias=tables.global_bias,
                 seconds=seconds, history=json.dumps(history), **scoring)


def _load_member(path: Path) -> tuple[MemberTables, list[dict[str, Any]], float]:
    with np.load(path) as z:
        scoring = z["scoring_customers"] if "scoring_customers" in z.files else None
        return (MemberTables(z["customers"], z["items"], float(z["global_bias"]), scoring),
                json.loads(str(z["history"])), float(z["seconds"]))


def _pair_logits(member: MemberTables, tables: ModelTables, pairs: pl.DataFrame) -> np.ndarray:
    return member.logits(pairs[CUSTOMER].to_numpy().astype(np.int64), tables.positions(pairs[ARTICLE]))


def _train_members(trainer: MemberTrainer, parts: Resampled, work: Path, seed: int, share_image_branch: bool
                   ) -> tuple[list[MemberTables], list[dict[str, Any]], float]:
    """Every member's tables (read back from ``work`` when kept by an interrupted run), history and seconds.

    With ``share_image_branch`` (calibrated variants), members after the first train the frozen_pooled
    variant on the first member's image branch output, kept in ``work`` as well.
    """
    work.mkdir(parents=True, exist_ok=True)
    share = share_image_branch and trainer.variant in CALIBRATED
    members, history, total = [], [], 0.0
    for i in bar(range(parts.parts), desc="ensemble members"):
        path = work / f"member-{i}.npz"
        if i == 1 and share:
            trainer = MemberTrainer("frozen_pooled", trainer.settings, trainer.tables,
                                    branch_features(trainer.features, np.load(work / BRANCH_FILE)), None,
                                    trainer.verbose, trainer.scoring_history)
        if path.is_file():
            member, rows, seconds = _load_member(path)
            log.info("ensemble: member %d read back from %s (finished by an interrupted run)", i, path)
        else:
            member, rows, seconds = trainer.train(parts.member(i), seed=seed + 1 + i)
            if i == 0 and share:
                start = time.perf_counter()
                with atomic_path(work / BRANCH_FILE, suffix=".npy") as tmp:
                    np.save(tmp, image_branch_output(trainer.last))
                seconds += time.perf_counter() - start
            _save_member(work, i, member, rows, seconds)
        members.append(member)
        history += [{**row, "member": i} for row in rows]
        total += seconds
    return members, history, total


def run_ensemble(cfg: Config, ds: Dataset, cutoff: dt.date, settings: EnsembleSettings | None = None,
                 image_settings: ImageModelSettings | None = None, force: bool = False,
                 verbose: int = 0) -> EnsembleResult:
    """Train (or read back) the ensemble for ``cutoff`` and compare it on held-out pairs (module docstring)."""
    settings = settings or cfg.settings("ensemble", EnsembleSettings)
    image_settings = image_settings or cfg.settings("image", ImageModelSettings).replace(seed=cfg.seed)
    negative_settings = cfg.settings("negatives", NegativeSettings)
    folder = layout.relevance_dir(cfg.work_dir, cutoff)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    pairs = build_pairs(cfg, ds, cutoff, negative_settings)
    split = split_pairs(pairs.pairs, cutoff, negative_settings, cfg.seed)
    parts = resample(customer_sample(split.train, image_settings.train_customers, image_settings.seed),
                     settings.members, settings.stack_share, cfg.seed)
    # the members' pairs: an article bought only in the stacker's slice has no trained id vector
    tables = model_tables(ds.articles, ds.customers, image_settings.article_attributes,
                          image_settings.customer_attributes).with_seen(parts.members)
    features, backbone = _image_inputs(cfg, ds, settings, image_settings, tables, cutoff)
    tables = with_purchase_history(tables, ds.transactions, history_start(split.train), image_settings, features)
    scoring_history = scoring_histories(tables, ds.transactions, cutoff)
    timings["pairs and image features"] = time.perf_counter() - start
    inputs = digest(read_json(pairs.path.with_name("report.json"))["digest"], negative_settings.as_dict(),
                    settings.as_dict(), image_settings.as_dict(), cfg.seed, _tables_digest(tables),
                    None if features is None else features.pooled.folder.name, size=12)
    stamp = Stamp(folder / SUMMARY_FILE)
    if not force and (stored := stamp.current(inputs)) is not None:
        log.info("ensemble: %s is up to date, reusing it", folder)
        return _stored_result(cutoff, settings, folder, stored)
    stamp.invalidate()
    if split.valid.is_empty() or split.valid[LABEL].n_unique() < 2:
        raise ValueError(f"no held-out pairs of both labels before {cutoff}: the window is too short or "
                         "negatives validation_share is 0")
    log.info("ensemble: %s", parts.summary())
    work = folder / f"members-{inputs}"
    for stale in folder.glob("members-*"):
        if stale != work:  # kept members of other inputs
            shutil.rmtree(stale, ignore_errors=True)
    member_settings = image_settings.replace(epochs_frozen=settings.member_epochs or image_settings.epochs_frozen)
    trainer = MemberTrainer(settings.variant, member_settings, tables, features, backbone, verbose, scoring_history)
    members, history, member_seconds = _train_members(trainer, parts, work, cfg.seed, settings.share_image_branch)
    timings["members"] = member_seconds
    start = time.perf_counter()
    stack_logits = np.column_stack([_pair_logits(m, tables, parts.stack) for m in members])
    stacker = fit_stacker(stack_logits, parts.stack[LABEL].to_numpy(), settings.stack_epochs, settings.stack_lr,
                          cfg.seed)
    timings["stacker"] = time.perf_counter() - start
    scorer = RelevanceScorer.from_members(tables.article_ids, members, stacker.weights, stacker.bias)
    valid_logits = np.column_stack([_pair_logits(m, tables, split.valid) for m in members])
    scores = {f"member {i}": sigmoid(valid_logits[:, i]) for i in range(len(members))}
    scores[MEAN] = np.mean(list(scores.values()), axis=0)
    scores[STACKER] = scorer.stack(valid_logits)
    if settings.single_model:
        labels = parts.members[LABEL].to_numpy()  # the members' pairs together: every negative
        weights = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)[labels]
        single = MemberTrainer(settings.variant, member_settings, tables, features, backbone, verbose)
        model, _, timings["single model"] = single.train(parts.members, cfg.seed, weights)
        scores[SINGLE] = sigmoid(_pair_logits(model, tables, split.valid))
    y = split.valid[LABEL].to_numpy()
    table, curves = compare(scores, y), calibration(scores, y, settings.calibration_bins)
    scorer.save(folder)
    result = EnsembleResult(cutoff, settings, scorer, table, curves, parts.summary(), pl.DataFrame(history),
                            {"weights": stacker.weights.tolist(), "bias": stacker.bias, "losses": stacker.losses},
                            timings, folder)
    stamp.write(inputs, cutoff=cutoff.isoformat(), settings=settings.as_dict(),
                image_settings=image_settings.as_dict(), comparison=table.to_dicts(),
                calibration=curves.to_dicts(), resampling=result.resampling, history=history,
                stacker=result.stacker, timings=timings, time_ratio=result.time_ratio)
    shutil.rmtree(work, ignore_errors=True)
    log.info("ensemble: saved to %s; ensemble/single time ratio %s", folder, result.time_ratio)
    return result


def _stored_result(cutoff: dt.date, settings: EnsembleSettings, folder: Path, stored: dict[str, Any]
                   ) -> EnsembleResult:
    return EnsembleResult(cutoff, settings, RelevanceScorer.load(folder), pl.DataFrame(stored["comparison"]),
                          pl.DataFrame(stored["calibration"]), stored["resampling"], pl.DataFrame(stored["history"]),
                          stored["stacker"], stored["timings"], folder, reused=True)

