"""The ranking stage: candidates -> features -> LightGBM, for one target cut-off.

For a target cut-off C (the held-out week's first day in validation, the day after the data
for the submission) the ranker learns from the candidates of the weeks before C, labelled by
their purchases: the week [C-7, C) for early stopping, the `train_weeks` weeks before it for
training. Every step reads only rows before its own cut-off, so validation and submission
share this code path. Predictions for C are made for every customer, shard by shard.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import polars as pl
from tqdm.auto import tqdm

from hm_lib import ranker, schema
from hm_lib.candidates import CandidateSettings, Past, generate_candidates, read_candidates, write_candidates
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.evaluation import candidate_report, score, week_truth
from hm_lib.io import write_parquet
from hm_lib.pipeline import truth_for_week, validation_scores

log = logging.getLogger(__name__)


@dataclass
class RankingRun:
    cutoff: dt.date
    model: lgb.LGBMRanker
    predictions: pl.DataFrame      # customer, article_id, rank, score (k per customer)
    train_rows: int
    valid_rows: int


def labelled_week(cfg: Config, ds: Dataset, cutoff: dt.date, settings: CandidateSettings) -> pl.DataFrame:
    """Features and labels of the candidates of the week's buyers at `cutoff`.

    At most `max_week_buyers` buyers (a seeded sample); only those with a purchased article among
    their candidates are kept, since the others carry no ranking signal.
    """
    limit = cfg.settings("ranker", ranker.RankerSettings).max_week_buyers
    buyers = week_truth(ds.transactions, cutoff, 7).select(schema.CUSTOMER).unique().sort(schema.CUSTOMER)
    if buyers.height > limit:
        buyers = buyers.sample(limit, seed=cfg.seed).sort(schema.CUSTOMER)
    candidates = generate_candidates(Past.from_dataset(ds, cutoff), buyers, settings)
    labelled = ranker.label(candidates, ds.transactions, cutoff)
    positive = ranker.with_positives(labelled)
    tables = ranker.FeatureTables.build(ds.transactions, ds.customers, ds.articles, cutoff)
    return ranker.assemble(ds.transactions, ds.articles, tables, positive)


def feature_dir(cfg: Config, cutoff: dt.date) -> Path:
    return cfg.work_dir / "features" / f"cutoff={cutoff}"


def write_feature_tables(cfg: Config, tables: ranker.FeatureTables) -> dict[str, Path]:
    """The article and customer tables of a cut-off as parquet (with event timestamps, for Feast)."""
    folder = feature_dir(cfg, tables.cutoff)
    return {"article": write_parquet(tables.articles, folder / "article.parquet"),
            "customer": write_parquet(tables.customers, folder / "customer.parquet")}


def train(cfg: Config, ds: Dataset, cutoff: dt.date) -> tuple[lgb.LGBMRanker, int, int]:
    """Fit the ranker for target `cutoff` on the weeks before it; returns (model, train rows, valid rows)."""
    cand = cfg.settings("candidates", CandidateSettings)
    settings = cfg.settings("ranker", ranker.RankerSettings)
    weeks = [cutoff - dt.timedelta(days=7 * i) for i in range(1, settings.train_weeks + 2)]
    frames = [labelled_week(cfg, ds, week, cand) for week in tqdm(weeks, desc="labelled weeks")]
    valid, train_frame = frames[0], pl.concat(frames[1:], how="diagonal_relaxed")
    model = ranker.fit(train_frame, valid, settings)
    return model, train_frame.height, valid.height


def predict(cfg: Config, ds: Dataset, model: lgb.LGBMRanker, cutoff: dt.date) -> pl.DataFrame:
    """The k best candidates of every customer at `cutoff`, computed shard by shard (bounded memory)."""
    settings = cfg.settings("candidates", CandidateSettings)
    step = cfg.settings("ranker", ranker.RankerSettings).rank_shard_customers
    written = write_candidates(Past.from_dataset(ds, cutoff), ds.customers, settings, cfg.work_dir, cfg.shard_customers)
    tables = ranker.FeatureTables.build(ds.transactions, ds.customers, ds.articles, cutoff)
    write_feature_tables(cfg, tables)
    candidates = read_candidates(cfg.work_dir, cutoff)
    parts = []
    for lo in tqdm(range(0, ds.customers.height, step), desc="ranking shards"):
        shard = candidates.filter(pl.col(schema.CUSTOMER).is_between(lo, lo + step - 1)).collect()
        parts.append(ranker.rank(model, ranker.assemble(ds.transactions, ds.articles, tables, shard), cfg.k))
    log.info("ranked %d customers' candidates (%d shards)", ds.customers.height, written.shards)
    return pl.concat(parts)


def predictions_path(cfg: Config, cutoff: dt.date) -> Path:
    return cfg.work_dir / "predictions" / f"cutoff={cutoff}" / "ranker.parquet"


def run(cfg: Config, ds: Dataset, cutoff: dt.date) -> RankingRun:
    """Train for `cutoff`, rank every customer, save the predictions and the model."""
    model, n_train, n_valid = train(cfg, ds, cutoff)
    preds = predict(cfg, ds, model, cutoff)
    write_parquet(preds, predictions_path(cfg, cutoff))
    ranker.save(model, predictions_path(cfg, cutoff).with_name("ranker.txt"))
    return RankingRun(cutoff, model, preds, n_train, n_valid)


def read_predictions(cfg: Config, cutoff: dt.date) -> pl.DataFrame:
    path = predictions_path(cfg, cutoff)
    if not path.exists():
        raise FileNotFoundError(f"no ranker predictions for cut-off {cutoff} in {path}: run notebooks/06_ranking "
                                "(hm run --from 06_ranking) first")
    return pl.read_parquet(path)



def validation_figures(cfg: Config, ds: Dataset, result: RankingRun) -> dict:
    """MAP@12 on the held-out week: baselines, each candidate source alone, the ranker, the oracle."""
    cutoff = result.cutoff
    rows = truth_for_week(cfg, ds, cutoff)
    figures = validation_scores(cfg, ds, cutoff)
    report = candidate_report(read_candidates(cfg.work_dir, cutoff), week_truth(rows, cutoff, cfg.holdout_days), k=cfg.k)
    for row in report.iter_rows(named=True):
        figures[f"source_{row['source']}"] = {"map@12": row[f"map@{cfg.k}"], "recall": row["recall"],
                                              "candidates_per_customer": row["candidates_per_customer"]}
    figures["ranker"] = {**score(result.predictions, rows, cutoff, cfg.holdout_days),
                         "train_rows": result.train_rows, "valid_rows": result.valid_rows,
                         "trees": result.model.best_iteration_ or result.model.n_estimators}
    return figures
