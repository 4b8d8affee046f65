"""The Streamlit demo's artefacts: the small files its first page reads; and the server.

:func:`prepare_demo` loads the Feast feature store with a cut-off's tables (:func:`hm_lib.feature_store.apply`
and :func:`~hm_lib.feature_store.materialize`: the app reads a customer's features from its online
store) and writes ``{work_dir}/demo/`` (:data:`DEMO_FILES`): the customers and their segments, the
articles' names, each customer's latest purchases, each source's best candidates, the popularity
fallback, and the k recommendations with their score, sources and ``why`` (the ranker's strongest
features, :func:`hm_lib.feature_store.explain` over the tables the store holds and, when the ranker
reads it, the image ensemble's relevance). The app's first page reads only these files, so it does not wait for Feast,
LightGBM or TensorFlow to be imported.

Incremental: ``meta.json`` records a digest of what each part was made from. The store's: the work
folder (its registry holds absolute paths), the processed data's manifest, the cut-off, the scale and
settings overrides, and the store's own files (a store rewritten since, e.g. by `hm features`, is
loaded again). The artefacts': the store's, the
ranker's predictions and model, the candidates' manifest, the ranking stage's feature tables and
the relevance scorer the ranker reads, if any.
A part whose digest has not changed is reused. Files are written atomically; ``meta.json`` is
removed before anything is rebuilt and written last, so an interrupted preparation is redone.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from hm_lib import layout
from hm_lib.baselines import fill_up
from hm_lib.config import Config
from hm_lib.data import MANIFEST, fingerprint, load, prepare
from hm_lib.digest import digest
from hm_lib.errors import MissingOutputError
from hm_lib.io import read_json, write_json, write_parquet
from hm_lib.sales import before, top_articles
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE

if TYPE_CHECKING:
    from hm_lib.data import Dataset
    from hm_lib.ensemble import RelevanceScorer
    from hm_lib.ranking import Ranker

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
APP_SCRIPT = ROOT / "app" / "streamlit_app.py"
DEMO_ENV = "HM_DEMO_DIR"  # the artefact folder the app reads
FORMAT_VERSION = 3        # of the artefacts: a new one rebuilds them
DEMO_FILES = {"meta": "meta.json", "customers": "customers.parquet", "articles": "articles.parquet",
              "history": "history.parquet", "recommendations": "recommendations.parquet",
              "candidates": "candidates.parquet", "popular": "popular.parquet"}
HISTORY_ITEMS = 12        # latest purchases kept per customer
CANDIDATES_PER_SOURCE = 6
REASONS = 6               # strongest features kept per recommendation (the app words the positive ones)
EXPLAIN_ROWS = 200_000    # recommendations explained at a time (bounded memory)
ACTIVE_DAYS = 28          # "active": bought in the 4 weeks before the cut-off
AGE_BREAKS = [25, 35, 45, 55]
AGE_BANDS = ["under 25", "25-34", "35-44", "45-54", "55+"]
ACTIVITY = ["active", "lapsed", "new"]


@dataclass(frozen=True)
class PreparedDemo:
    """Where the artefacts are, and what a :func:`prepare_demo` call did."""

    folder: Path
    cutoff: dt.date
    store_rebuilt: bool      # the feature store was loaded again (else reused)
    artefacts_rebuilt: bool  # the app's files were written again (else reused)
    seconds: float


@dataclass(frozen=True)
class DemoRanker:
    """The ranker of a cut-off, and the image relevance scorer whose score it reads (when it does)."""

    model: Ranker
    scorer: RelevanceScorer | None = None
    scorer_file: Path | None = None      # the scorer's scorer.json, rewritten whenever the scorer is
    min_relevance: float | None = None   # the candidates' filter on it (hm_lib.ensemble.EnsembleSettings)


def load_ranker(cfg: Config, cutoff: dt.date) -> DemoRanker:
    """The ranker that made the predictions of ``cutoff``, and its relevance scorer (neither loads TensorFlow)."""
    from hm_lib import ensemble, ranking
    from hm_lib.ensemble.scorer import META_FILE

    settings = cfg.settings("ranker", ranking.RankerSettings)
    model = ranking.load_ranker(layout.ranker_dir(cfg.work_dir, cutoff), settings)
    if ensemble.RELEVANCE not in model.feature_names:
        return DemoRanker(model)
    scorer_cutoff = ranking.relevance_cutoff(cfg, cutoff)
    return DemoRanker(model, ensemble.load_scorer(cfg.work_dir, scorer_cutoff),
                      layout.relevance_dir(cfg.work_dir, scorer_cutoff) / META_FILE,
                      cfg.settings("ensemble", ensemble.EnsembleSettings).min_relevance)


# Where the stages before put a cut-off's outputs (hm_lib.layout: importing the stages themselves would
# load LightGBM, TensorFlow and the candidate sources, seconds before the first page).
def ranker_files(cfg: Config, cutoff: dt.date) -> list[Path]:
    """The ranker's predictions and its files (hm_lib.ranking.registry)."""
    return sorted(layout.ranker_dir(cfg.work_dir, cutoff).glob("[!.]*"))


def candidates_manifest(cfg: Config, cutoff: dt.date) -> Path:
    return layout.candidates_dir(cfg.work_dir, cutoff) / "manifest.json"


def feature_tables(cfg: Config, cutoff: dt.date) -> list[Path]:
    return sorted(layout.features_dir(cfg.work_dir, cutoff).glob("[!.]*.parquet"))


def latest_predictions(cfg: Config) -> dt.date | None:
    """The latest cut-off with ranker predictions on disk, if any."""
    found = sorted(cfg.work_dir.glob("predictions/cutoff=*/ranker.parquet"))
    return dt.date.fromisoformat(found[-1].parent.name.partition("=")[2]) if found else None


def _fingerprints(paths: Iterable[Path]) -> dict[str, Any]:
    """:func:`hm_lib.data.fingerprint` of each file, None for a missing one."""
    return {str(p): fingerprint(p) if p.is_file() else None for p in paths}


def _manifest(path: Path) -> Any:
    return read_json(path) if path.is_file() else None


def store_digest(cfg: Config, cutoff: dt.date) -> str:
    """What the feature store of ``cutoff`` is made from, and its files as they are now."""
    folder = layout.store_dir(cfg.work_dir)
    tables = sorted(p for p in layout.offline_dir(cfg.work_dir).glob("*/*.parquet") if not p.name.startswith("."))
    return digest({"format": FORMAT_VERSION, "work_dir": cfg.work_dir.resolve(), "cutoff": cutoff,
                    "scale": cfg.scale, "settings": cfg.extra,
                    "processed": _manifest(cfg.processed_dir / MANIFEST),
                    "files": _fingerprints([*tables, folder / "registry.db", folder / "online_store.db"])})


def artefacts_digest(cfg: Config, cutoff: dt.date, store: str, scorer_file: Path | None) -> str:
    """What the app's artefacts of ``cutoff`` are made from, given the store's digest and the scorer's file."""
    return digest({"format": FORMAT_VERSION, "store": store, "k": cfg.k, "data_dir": cfg.data_dir.resolve(),
                    "candidates": _manifest(candidates_manifest(cfg, cutoff)),
                    "files": _fingerprints([*ranker_files(cfg, cutoff),
                                            *feature_tables(cfg, cutoff), *([scorer_file] if scorer_file else [])])})


def prepare_demo(cfg: Config, cutoff: dt.date | None = None, force: bool = False) -> PreparedDemo:
    """The feature store and the app's artefacts, in ``{work_dir}/demo``; each rebuilt only when stale.

    The cut-off: ``cutoff``, else the latest one with ranker predictions, else the chain's
    (:func:`hm_lib.cutoffs.cutoff_for`); the ranker is trained first when its predictions are
    missing. ``force``: rebuild both. The data are loaded only when something is rebuilt.
    """
    from hm_lib import feature_store as fs

    start = time.perf_counter()
    prepare(cfg.data_dir, cfg.processed_dir)  # the processed data, up to date with the raw files
    ds = None
    cutoff = cutoff or latest_predictions(cfg)
    if cutoff is None or not layout.predictions_path(cfg.work_dir, cutoff).is_file():
        from hm_lib import cutoffs, ranking

        ds = load(cfg.data_dir, cfg.processed_dir, prepare_if_needed=False)
        cutoff = cutoff or cutoffs.cutoff_for(cfg, ds)
        if not layout.predictions_path(cfg.work_dir, cutoff).is_file():
            log.info("no ranker predictions for the cut-off %s: training the ranker (hm_lib.ranking.run)", cutoff)
            ranking.run(cfg, ds, cutoff, ranking.relevance_scorer(cfg, cutoff))
    folder = layout.demo_dir(cfg.work_dir)
    meta = folder / DEMO_FILES["meta"]
    last = {} if force or not meta.is_file() else read_json(meta)
    old = last.get("inputs", {})
    scorer_file = last.get("scorer_file") and Path(last["scorer_file"])  # the same while the model is
    inputs = {"store": store_digest(cfg, cutoff)}
    inputs["artefacts"] = artefacts_digest(cfg, cutoff, inputs["store"], scorer_file)
    store_rebuilt = old.get("store") != inputs["store"]
    if not store_rebuilt and old.get("artefacts") == inputs["artefacts"] and all(
            (folder / name).is_file() for name in DEMO_FILES.values()):
        log.info("demo artefacts for the cut-off %s in %s are up to date, reusing them", cutoff, folder)
        return PreparedDemo(folder, cutoff, False, False, time.perf_counter() - start)
    meta.unlink(missing_ok=True)  # a preparation killed from here on is redone next time
    if ds is None:
        ds = load(cfg.data_dir, cfg.processed_dir, prepare_if_needed=False)
    if store_rebuilt:
        fs.apply(cfg, ds, cutoff)
        fs.materialize(cfg, cutoff)
        inputs["store"] = store_digest(cfg, cutoff)
    ranker = load_ranker(cfg, cutoff)
    inputs["artefacts"] = artefacts_digest(cfg, cutoff, inputs["store"], ranker.scorer_file)
    sources = _write_artefacts(cfg, ds, cutoff, folder, ranker)
    write_json({"cutoff": cutoff.isoformat(), "k": cfg.k, "work_dir": str(cfg.work_dir.resolve()),
                "data_dir": str(cfg.data_dir.resolve()), "sources": sources,
                "scorer_file": ranker.scorer_file and str(ranker.scorer_file), "inputs": inputs}, meta)
    log.info("demo artefacts for the cut-off %s in %s", cutoff, folder)
    return PreparedDemo(folder, cutoff, store_rebuilt, True, time.perf_counter() - start)


def _write_artefacts(cfg: Config, ds: Dataset, cutoff: dt.date, folder: Path, ranker: DemoRanker) -> list[str]:
    """Every artefact but meta.json; returns the candidate sources."""
    from hm_lib.candidates import read_candidates

    candidates = read_candidates(cfg.work_dir, cutoff)
    sources = [c.removesuffix(f"_{RANK}") for c in candidates.collect_schema().names() if c.endswith(f"_{RANK}")]
    popular = top_articles(before(ds.transactions, cutoff, 7), cfg.k)
    frames = {"customers": _customers(ds, cutoff), "history": _history(ds, cutoff), "popular": popular,
              "articles": ds.articles.select(ARTICLE, "prod_name", "product_type_name", "colour_group_name"),
              "recommendations": _recommendations(cfg, ds, cutoff, candidates, popular, ranker),
              "candidates": _candidates_by_source(candidates)}
    for name, frame in frames.items():
        write_parquet(frame, folder / DEMO_FILES[name])
    return sources


def _customers(ds: Dataset, cutoff: dt.date) -> pl.DataFrame:
    """customer, customer_id, age, age_band, activity (active / lapsed / new), purchases, last_purchase."""
    past = (ds.transactions.lazy().filter(pl.col("t_dat") < cutoff).group_by(CUSTOMER)
            .agg(pl.len().cast(pl.Int32).alias("purchases"), pl.col("t_dat").max().alias("last_purchase")))
    idle = (pl.lit(cutoff) - pl.col("last_purchase")).dt.total_days()
    return (ds.customers.lazy().select(CUSTOMER, "customer_id", "age").join(past, on=CUSTOMER, how="left")
            .with_columns(pl.col("purchases").fill_null(0),
                          pl.col("age").bin_intervals(AGE_BREAKS, labels=AGE_BANDS).cast(pl.String)
                          .fill_null("unknown").alias("age_band"),
                          pl.when(pl.col("last_purchase").is_null()).then(pl.lit("new"))
                          .when(idle <= ACTIVE_DAYS).then(pl.lit("active")).otherwise(pl.lit("lapsed"))
                          .alias("activity"))
            .sort(CUSTOMER).collect())


def _history(ds: Dataset, cutoff: dt.date) -> pl.DataFrame:
    """Each customer's latest purchases before the cut-off, latest first."""
    return (ds.transactions.lazy().filter(pl.col("t_dat") < cutoff)
            .sort([CUSTOMER, "t_dat"], descending=[False, True], maintain_order=True)
            .group_by(CUSTOMER, maintain_order=True).head(HISTORY_ITEMS)
            .select(CUSTOMER, "t_dat", ARTICLE, "price").collect())


def ranker_rows(ds: Dataset, cutoff: dt.date, candidates: pl.LazyFrame, keys: pl.DataFrame,
                ranker: DemoRanker) -> pl.DataFrame:
    """(customer, article_id) ``keys``, sorted, with the ranker's features that belong to neither entity
    (candidate sources; the image relevance ones when it reads them, over all the customer's
    candidates as for its predictions; customer x article): what :func:`hm_lib.feature_store.serve` scores."""
    from hm_lib.features import pair_families

    keys = keys.select(CUSTOMER, ARTICLE).sort(CUSTOMER, ARTICLE)
    if ranker.scorer is None:
        sources = candidates.join(keys.lazy(), on=[CUSTOMER, ARTICLE], how="semi").collect()
    else:
        from hm_lib.ranking import with_relevance

        theirs = candidates.join(keys.lazy().select(CUSTOMER).unique(), on=CUSTOMER, how="semi").collect()
        sources = with_relevance(theirs, ranker.scorer, ranker.min_relevance).join(keys, on=[CUSTOMER, ARTICLE],
                                                                                   how="semi")
    rows = keys.join(sources, on=[CUSTOMER, ARTICLE], how="left", maintain_order="left")
    for family in pair_families():
        rows = rows.join(family.build(ds, cutoff, keys), on=list(family.keys), how="left", maintain_order="left")
    return rows


def _recommendations(cfg: Config, ds: Dataset, cutoff: dt.date, candidates: pl.LazyFrame,
                     popular: pl.DataFrame, ranker: DemoRanker) -> pl.DataFrame:
    """k per customer, by rank: the ranker's with their score, candidate-source ranks and ``why`` (its
    strongest features over the feature store's tables of the cut-off), filled up from ``popular``
    (``filled``, no score) when it has fewer."""
    from hm_lib import feature_store as fs
    from hm_lib import ranking
    from hm_lib.features.common import EVENT_TIMESTAMP

    predictions = ranking.read_predictions(cfg, cutoff)
    recs = (fill_up(predictions, popular, ds.customers, cfg.k)
            .join(predictions.select(CUSTOMER, ARTICLE, SCORE), on=[CUSTOMER, ARTICLE], how="left")
            .with_columns(pl.col(SCORE).is_null().alias("filled")))
    rows = ranker_rows(ds, cutoff, candidates, recs.filter(~pl.col("filled")), ranker)
    tables = {entity: pl.read_parquet(layout.offline_path(cfg.work_dir, entity, cutoff)).drop(EVENT_TIMESTAMP)
              for entity in fs.KEYS}

    def with_entities(part: pl.DataFrame) -> pl.DataFrame:
        for entity, key in fs.KEYS.items():
            part = part.join(tables[entity], on=key, how="left", maintain_order="left")
        return part

    why = pl.concat(fs.explain(ranker.model, with_entities(rows.slice(start, EXPLAIN_ROWS)), REASONS)
                    for start in range(0, rows.height, EXPLAIN_ROWS))
    ranks = [c for c in rows.columns if c.endswith(f"_{RANK}")]
    return (recs.join(rows.select(CUSTOMER, ARTICLE, *ranks), on=[CUSTOMER, ARTICLE], how="left")
            .join(why.select(CUSTOMER, ARTICLE, "why"), on=[CUSTOMER, ARTICLE], how="left")
            .sort(CUSTOMER, RANK))


def _candidates_by_source(candidates: pl.LazyFrame) -> pl.DataFrame:
    """customer, source, source_rank, article_id: each source's best few candidates per customer."""
    ranks = [c for c in candidates.collect_schema().names() if c.endswith(f"_{RANK}")]
    return (candidates.select(CUSTOMER, ARTICLE, *ranks)
            .unpivot(on=ranks, index=[CUSTOMER, ARTICLE], variable_name="source", value_name="source_rank")
            .filter(pl.col("source_rank") <= CANDIDATES_PER_SOURCE)
            .with_columns(pl.col("source").str.strip_suffix(f"_{RANK}"))
            .sort(CUSTOMER, "source", "source_rank").collect())


def serve(folder: str | Path, port: int) -> None:
    """Serve the app on 127.0.0.1:``port`` over the artefacts in ``folder``, from this process (`streamlit
    run`): the app then finds loaded what the preparation imported. Exits when the server stops."""
    from streamlit.web import cli as streamlit

    os.environ[DEMO_ENV] = str(Path(folder).resolve())
    streamlit.main(["run", str(APP_SCRIPT), "--server.address", "127.0.0.1", "--server.port", str(port),
                    "--server.headless", "true", "--server.fileWatcherType", "none", "--client.toolbarMode",
                    "minimal", "--browser.gatherUsageStats", "false"], prog_name="streamlit")


def read_meta(folder: str | Path) -> dict:
    """The demo artefacts' meta.json, or a clear error when they have not been written."""
    path = Path(folder) / DEMO_FILES["meta"]
    if not path.is_file():
        raise MissingOutputError(f"no demo artefacts in {Path(folder).resolve()}: run `hm demo` (or `make demo`) "
                                 "from the repository root, which writes them first")
    return read_json(path)
