"""The ranking stage: candidates -> features -> a ranker (LightGBM by default), for one target cut-off.

For a target cut-off C (the held-out week's first day in validation, the day after the data
for the submission) the ranker learns from the candidates of the weeks before C, labelled by
their purchases: the week [C-7, C) for early stopping, the `train_weeks` weeks before it for
training. Every step reads only rows before its own cut-off, so validation and submission
share this code path. Predictions for C are made shard by shard, for every customer (when validating,
for the held-out week's buyers only: :func:`ranked_customers`).

The stacked relevance of the image ensemble (hm_lib.ensemble) joins the features when a scorer is
given. It must come from an ensemble trained before the earliest labelled week
(:func:`relevance_cutoff`): a relevance model that had seen a training week's purchases would score
them as relevant, and the ranker would learn to trust the score more than it deserves at C.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from hm_lib import cluster, feature_store, layout, schema
from hm_lib.candidates import (
    CandidateSettings,
    generate_candidates,
    past_at,
    read_candidates,
    write_candidates,
)
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.ensemble.filtering import filter_candidates, threshold_recall
from hm_lib.ensemble.scorer import RELEVANCE, RelevanceScorer, load_scorer
from hm_lib.ensemble.settings import EnsembleSettings
from hm_lib.errors import MissingOutputError
from hm_lib.evaluation import (
    candidate_figures,
    candidate_report,
    hits_first,
    score,
    week_customers,
    week_truth,
)
from hm_lib.features import family
from hm_lib.features.common import EVENT_TIMESTAMP
from hm_lib.io import write_parquet
from hm_lib.progress import bar
from hm_lib.ranking.base import Ranker
from hm_lib.ranking.frames import WEEK, FeatureTables, assemble, label, with_positives
from hm_lib.ranking.registry import make_ranker, save_ranker
from hm_lib.ranking.settings import RankerSettings
from hm_lib.slices import article_slices, slice_scores, slice_sizes, slice_truth
from hm_lib.truth import has_truth, oracle_week, truth_for_week
from hm_lib.validation import validation_scores

if TYPE_CHECKING:
    from feast import FeatureStore

log = logging.getLogger(__name__)


WITHOUT_RELEVANCE = "ranker_without_image_score"
RELEVANCE_RANK, RELEVANCE_SHARE = "relevance_rank", "relevance_share"
RELEVANCE_FEATURES = (RELEVANCE, RELEVANCE_RANK, RELEVANCE_SHARE)


@dataclass
class RankingRun:
    cutoff: dt.date
    model: Ranker
    predictions: pl.DataFrame      # customer, article_id, rank, score (k per customer)
    train_rows: int
    valid_rows: int
    # other rankers fitted on the same rows for comparison (e.g. without the image score): name -> (model, predictions)
    alternatives: dict[str, tuple[Ranker, pl.DataFrame]] = field(default_factory=dict)


def relevance_cutoff(cfg: Config, cutoff: dt.date) -> dt.date:
    """The cut-off of the relevance ensemble whose score the ranker for `cutoff` uses: its earliest labelled week."""
    return cfg.settings("ranker", RankerSettings).weeks(cutoff)[-1]


def relevance_scorer(cfg: Config, cutoff: dt.date) -> RelevanceScorer | None:
    """The ensemble scorer for the ranker of `cutoff` (see :func:`relevance_cutoff`), or None with a warning."""
    try:
        return load_scorer(cfg.work_dir, relevance_cutoff(cfg, cutoff))
    except FileNotFoundError as err:
        log.warning("ranking without the image relevance score: %s", err)
        return None


def with_relevance(candidates: pl.DataFrame, scorer: RelevanceScorer | None, min_relevance: float | None = None
                   ) -> pl.DataFrame:
    """Candidates with the relevance features, filtered by `min_relevance` (unchanged without a scorer).

    Besides the stacked probability, its rank among the customer's candidates and its share of their
    best, since lambdarank compares candidates within a customer (their worth at default scale is in
    docs/benchmarks.md: within the spread between LightGBM seeds).
    """
    if scorer is None:
        return candidates
    scored = filter_candidates(candidates.with_columns(scorer.score(candidates)), min_relevance)
    best = pl.col(RELEVANCE).max().over(schema.CUSTOMER)
    return scored.with_columns(
        pl.col(RELEVANCE).rank("ordinal", descending=True).over(schema.CUSTOMER).cast(pl.Int16)
        .alias(RELEVANCE_RANK), (pl.col(RELEVANCE) / best).cast(pl.Float32).alias(RELEVANCE_SHARE))


def week_buyers(cfg: Config, ds: Dataset, cutoff: dt.date) -> pl.DataFrame:
    """The customers who buy in the week from `cutoff`: at most `max_week_buyers` of them (a seeded sample)."""
    limit = cfg.settings("ranker", RankerSettings).max_week_buyers
    buyers = week_customers(ds.transactions, cutoff)
    if buyers.height > limit:
        buyers = buyers.sample(limit, seed=cfg.seed).sort(schema.CUSTOMER)
    return buyers


def labelled_week(cfg: Config, ds: Dataset, cutoff: dt.date, settings: CandidateSettings,
                  scorer: RelevanceScorer | None = None, store: FeatureStore | None = None) -> pl.DataFrame:
    """Features and labels of the candidates of the week's buyers at `cutoff` (see :func:`week_buyers`).

    Only buyers with a purchased article among their candidates are kept, since the others carry no
    ranking signal. With a Feast `store`, the article and customer features are read back from it
    (point-in-time join at `cutoff`) instead of computed here.
    """
    candidates = generate_candidates(past_at(cfg, ds, cutoff, settings), week_buyers(cfg, ds, cutoff), settings)
    candidates = with_relevance(candidates, scorer, cfg.settings("ensemble", EnsembleSettings).min_relevance)
    positive = with_positives(label(candidates, ds.transactions, cutoff))
    if store is None:
        tables = FeatureTables.build(ds, cutoff)
    else:
        tables = feature_store.historical_tables(store, cutoff, positive)
    return assemble(ds, tables, positive).with_columns(pl.lit(cutoff).alias(WEEK))


def write_feature_tables(cfg: Config, tables: FeatureTables) -> dict[str, Path]:
    """The article and customer tables of a cut-off as parquet (with event timestamps, for Feast)."""
    folder = layout.features_dir(cfg.work_dir, tables.cutoff)
    return {name: write_parquet(table, folder / f"{name}.parquet") for name, table in tables.tables.items()}


def training_frames(cfg: Config, ds: Dataset, cutoff: dt.date, scorer: RelevanceScorer | None = None
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training rows, early-stopping rows) for target `cutoff`: the labelled weeks before it, in
    :func:`~hm_lib.ranking.frames.order` (the ranker's fit reads them without a copy).

    With ``ranker__feature_source=feast`` the weeks' feature tables are published to the Feast store
    and read back through it (hm_lib.feature_store), as a deployment would train. Otherwise, on the
    configured cluster (:mod:`hm_lib.cluster`) each week is a task, and the workers are restarted after them
    to hand their memory back for the fit.
    """
    cand = cfg.settings("candidates", CandidateSettings)
    settings = cfg.settings("ranker", RankerSettings)
    store = feature_store.apply(cfg, ds, cutoff) if settings.feature_source == "feast" else None
    weeks = settings.weeks(cutoff)
    on = cluster.connect(cfg) if store is None else None
    if on is None:
        frames = [labelled_week(cfg, ds, week, cand, scorer, store) for week in bar(weeks, desc="labelled weeks")]
    else:
        frames = on.map(_labelled_week_task, weeks, desc="labelled weeks", cfg=cfg, ds=ds, settings=cand,
                        scorer=scorer)
        on.restart()  # the fit in this process that follows is the stage's peak of memory
    train, valid = pl.concat(frames[:0:-1], how="diagonal_relaxed"), frames[0]  # earliest week first: in order
    return with_positives(train), valid


def _labelled_week_task(cutoff: dt.date, cfg: Config, ds: Dataset, settings: CandidateSettings,
                        scorer: RelevanceScorer | None) -> pl.DataFrame:
    """:func:`labelled_week` with the week first, as a cluster task."""
    return labelled_week(cfg, ds, cutoff, settings, scorer)


def predict(cfg: Config, ds: Dataset, models: dict[str, Ranker], cutoff: dt.date,
            scorer: RelevanceScorer | None = None, customers: pl.DataFrame | None = None
            ) -> dict[str, pl.DataFrame]:
    """Each model's k best candidates of `customers` (default: every customer) at `cutoff`, computed shard by
    shard (bounded memory; on the configured cluster each shard is a task, :mod:`hm_lib.cluster`).

    The features of a shard are assembled once and ranked by every model (each reads its own columns).
    """
    settings = cfg.settings("candidates", CandidateSettings)
    step = cfg.settings("ranker", RankerSettings).rank_shard_customers
    on = cluster.connect(cfg)
    write_candidates(past_at(cfg, ds, cutoff, settings), ds.customers, settings, cfg.work_dir, cfg.shard_customers,
                     cluster=on)
    tables = FeatureTables.build(ds, cutoff)
    write_feature_tables(cfg, tables)
    ids = np.arange(ds.customers.height) if customers is None else np.sort(customers[schema.CUSTOMER].to_numpy())
    blocks = [ids[lo:lo + step] for lo in range(0, ids.size, step)]
    shared = {"work_dir": cfg.work_dir, "data": ds, "tables": tables, "scorer": scorer, "models": models,
              "min_relevance": cfg.settings("ensemble", EnsembleSettings).min_relevance, "k": cfg.k}
    if on is None:
        ranked = [rank_block(block, **shared) for block in bar(blocks, desc="ranking shards")]
    else:
        ranked = on.map(rank_block, blocks, desc="ranking shards", **shared)
    log.info("ranked %d customers' candidates (%d shards)", ids.size, len(blocks))
    return {name: pl.concat([part[name] for part in ranked]) for name in models}


def rank_block(ids: np.ndarray, work_dir: Path, data: Dataset, tables: FeatureTables, scorer: RelevanceScorer | None,
               models: dict[str, Ranker], min_relevance: float | None, k: int) -> dict[str, pl.DataFrame]:
    """Each model's k best candidates of the (sorted) customers ``ids``, from the candidates written for the
    tables' cut-off: one ranking shard."""
    shard = read_candidates(work_dir, tables.cutoff).filter(_among(ids)).collect()
    features = assemble(data, tables, with_relevance(shard, scorer, min_relevance))
    return {name: model.rank(features, k) for name, model in models.items()}


def _among(ids: np.ndarray) -> pl.Expr:
    """The rows of these (sorted) customers: a range test, and a membership test where the range has gaps."""
    within = pl.col(schema.CUSTOMER).is_between(int(ids[0]), int(ids[-1]))
    return within if ids.size == ids[-1] - ids[0] + 1 else within & pl.col(schema.CUSTOMER).is_in(ids.tolist())


def family_columns(data: Dataset, cutoff: dt.date, name: str) -> list[str]:
    """The ranker columns that the feature family ``name`` makes (its table's columns but its keys)."""
    found = family(name)
    empty = pl.DataFrame(schema={key: pl.Int32 for key in found.keys})
    return [c for c in found.build(data, cutoff, empty).columns if c not in (*found.keys, EVENT_TIMESTAMP)]


def ranked_customers(cfg: Config, ds: Dataset, cutoff: dt.date) -> pl.DataFrame | None:
    """Whom the stage ranks: when validating, the held-out week's buyers (the customers MAP@12 scores; the
    others' lists would not change a figure), unless ``ranker__validate_every_customer``; else everyone (None).

    Only who is ranked depends on the held-out week, never a feature or a label.
    """
    if not cfg.validate or cfg.settings("ranker", RankerSettings).validate_every_customer:
        return None
    return week_customers(truth_for_week(cfg, ds, cutoff), cutoff, cfg.holdout_days)


def run(cfg: Config, ds: Dataset, cutoff: dt.date, scorer: RelevanceScorer | None = None,
        compare: bool = False) -> RankingRun:
    """Train for `cutoff`, rank the customers (:func:`ranked_customers`), save the predictions and the model.

    With `compare`, more rankers are fitted on the same rows and rank the same shards, each without some
    features: without the relevance score when there is a `scorer` (the "without image score" figures),
    without each family of ``ranker__compare_without`` (``ranker_without_<family>``), and with each objective of
    ``ranker__compare_objectives`` (``ranker_<objective>``).
    """
    settings = cfg.settings("ranker", RankerSettings)
    train_frame, valid = training_frames(cfg, ds, cutoff, scorer)
    models = {"ranker": make_ranker(settings).fit(train_frame, valid)}
    if compare:
        ablations = {WITHOUT_RELEVANCE: RELEVANCE_FEATURES} if scorer is not None else {}
        ablations |= {f"ranker_without_{name}": family_columns(ds, cutoff, name) for name in settings.compare_without}
        for name, columns in ablations.items():
            models[name] = make_ranker(settings).fit(train_frame.drop(columns), valid.drop(columns))
        for objective in settings.compare_objectives:
            other = dataclasses.replace(settings, objective=objective)
            models[f"ranker_{objective}"] = make_ranker(other).fit(train_frame, valid)
    rows = (train_frame.height, valid.height)
    del train_frame, valid  # the training weeks (3 GiB at full size) are not held while every customer is ranked
    preds = predict(cfg, ds, models, cutoff, scorer, ranked_customers(cfg, ds, cutoff))
    write_parquet(preds["ranker"], layout.predictions_path(cfg.work_dir, cutoff))
    save_ranker(models["ranker"], layout.ranker_dir(cfg.work_dir, cutoff))
    alternatives = {name: (models[name], preds[name]) for name in models if name != "ranker"}
    return RankingRun(cutoff, models["ranker"], preds["ranker"], *rows, alternatives)


def relevance_filter_report(cfg: Config, ds: Dataset, cutoff: dt.date, scorer: RelevanceScorer,
                            thresholds: tuple[float, ...]) -> pl.DataFrame:
    """Recall of the week from `cutoff` kept by each relevance threshold, over the candidates of its buyers.

    Meant for the scorer's own cut-off (:func:`relevance_cutoff`): the week right after its training window.
    """
    settings = cfg.settings("candidates", CandidateSettings)
    candidates = generate_candidates(past_at(cfg, ds, cutoff, settings), week_buyers(cfg, ds, cutoff), settings)
    scored = candidates.select(schema.CUSTOMER, schema.ARTICLE).with_columns(scorer.score(candidates))
    return threshold_recall(scored, week_truth(ds.transactions, cutoff, 7), thresholds)


def read_predictions(cfg: Config, cutoff: dt.date) -> pl.DataFrame:
    path = layout.predictions_path(cfg.work_dir, cutoff)
    if not path.exists():
        raise MissingOutputError(f"no ranker predictions for cut-off {cutoff} in {path}: run notebooks/06_ranking "
                                 "(hm run --from 06_ranking) first")
    return pl.read_parquet(path)


def validation_figures(cfg: Config, ds: Dataset, result: RankingRun) -> dict:
    """MAP@12 on the held-out week: baselines, each candidate source alone, the ranker, the oracle, and the
    ceilings of the candidates (:func:`within_candidates`)."""
    cutoff = result.cutoff
    rows = truth_for_week(cfg, ds, cutoff)
    figures = validation_scores(cfg, ds, cutoff)
    candidates, week = read_candidates(cfg.work_dir, cutoff), week_truth(rows, cutoff, cfg.holdout_days)
    report = candidate_report(candidates, week, k=cfg.k)
    for row in report.iter_rows(named=True):
        figures[f"source_{row['source']}"] = {"map@12": row[f"map@{cfg.k}"], "recall": row["recall"],
                                              "candidates_per_customer": row["candidates_per_customer"]}
    figures["ranker"] = {**score(result.predictions, rows, cutoff, cfg.holdout_days),
                         "train_rows": result.train_rows, "valid_rows": result.valid_rows,
                         **result.model.summary(), "image_score": RELEVANCE in result.model.feature_names}
    for name, (model, predictions) in result.alternatives.items():
        figures[name] = {**score(predictions, rows, cutoff, cfg.holdout_days), **model.summary()}
    figures.update(within_candidates(cfg, ds, cutoff, candidates, rows, week, figures))
    figures["slices"] = slice_figures(cfg, ds, result, candidates, week)
    return figures


def slice_figures(cfg: Config, ds: Dataset, result: RankingRun, candidates: pl.LazyFrame, week: pl.DataFrame
                  ) -> dict[str, dict]:
    """The held-out week by article slice (:mod:`hm_lib.slices`: new arrivals, rarely sold, established): each
    slice's size, the recall of every candidate source and of their union, and MAP@12 / recall@12 of the
    rankers and (on a synthetic world) of the oracle on the slice's purchases."""
    parts = slice_truth(week, article_slices(ds.transactions, ds.articles[schema.ARTICLE], result.cutoff))
    lists = {"ranker": result.predictions, **{name: preds for name, (_, preds) in result.alternatives.items()}}
    if has_truth(cfg, ds):
        buyers = np.sort(week[schema.CUSTOMER].unique().to_numpy())
        lists["oracle"] = oracle_week(cfg, ds, result.cutoff, buyers)
    scores = {name: slice_scores(preds, parts, cfg.k) for name, preds in lists.items()}
    out = slice_sizes(parts)
    for name, pairs in parts.items():
        report = candidate_figures(candidate_report(candidates, pairs, k=cfg.k)) if pairs.height else {}
        out[name]["candidate_recall"] = {source: figures["recall"] for source, figures in report.items()}
        out[name] |= {model: values[name] for model, values in scores.items()}
    return out


def within_candidates(cfg: Config, ds: Dataset, cutoff: dt.date, candidates: pl.LazyFrame, rows: pl.DataFrame,
                      week: pl.DataFrame, figures: dict) -> dict:
    """Where MAP@12 is lost: in the candidates or in their ordering.

    ``perfect_within_candidates``: each buyer's bought candidates ranked first (the ceiling of any ranker over
    these candidates, on any data); on a synthetic world, ``oracle_within_candidates``: the oracle's choice
    probabilities restricted to each buyer's candidates (the ceiling in expectation). ``shares``: the ranker's
    MAP@12 over each ceiling, and what the candidates leave of the oracle. ``rows``: the purchases scored
    against (:func:`truth_for_week`), ``week``: their pairs in the held-out days.
    """
    buyers = week.select(schema.CUSTOMER).unique()
    theirs = candidates.select(schema.CUSTOMER, schema.ARTICLE).join(buyers.lazy(), on=schema.CUSTOMER,
                                                                    how="semi").collect()
    out = {"perfect_within_candidates": score(hits_first(theirs, week), rows, cutoff, cfg.holdout_days)}
    if has_truth(cfg, ds):
        oracle = oracle_week(cfg, ds, cutoff, np.sort(buyers[schema.CUSTOMER].to_numpy()), allowed=theirs)
        out["oracle_within_candidates"] = score(oracle, rows, cutoff, cfg.holdout_days)
    ranker = figures["ranker"]["map@12"]

    def share(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    shares = {f"ranker_of_{name}": share(ranker, out[name]["map@12"])
              for name in ("perfect_within_candidates", "oracle_within_candidates") if name in out}
    if "oracle" in figures and "oracle_within_candidates" in out:
        shares["ranker_of_oracle"] = share(ranker, figures["oracle"]["map@12"])
        shares["oracle_within_candidates_of_oracle"] = share(out["oracle_within_candidates"]["map@12"],
                                                             figures["oracle"]["map@12"])
    return {**out, "shares": shares}
