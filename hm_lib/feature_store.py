"""The ranker's feature tables in a Feast feature store, and the demo app's serving snapshot.

Layout under ``{work_dir}/feature_store/``: ``offline/{customer,article}/YYYY-MM-DD.parquet``
(the tables of :class:`hm_lib.ranker.FeatureTables`, one file per cut-off, each row stamped with
its cut-off as ``event_timestamp``, UTC), ``registry.db`` and ``online_store.db`` (SQLite).
Feast's file source reads a folder as one parquet dataset, so a cut-off is one more file; the
ranking stage's ``features/cutoff=.../`` folders hold both entities and cannot be a source.
:func:`definitions` declares the entities (INT32 keys), one feature view per entity (features
inferred from the tables) and the ranker's feature service; ``feature_repo/`` declares the same
for the ``feast`` CLI over the default work dir.

Training reads the tables back with Feast's point-in-time join (:func:`historical_tables`, a
drop-in for ``FeatureTables.build``); serving reads the online store (:func:`online_table`,
:func:`serve`). :func:`prepare_demo` writes the small folder that the Streamlit app only reads.
Feast and LightGBM are imported on first use: they take seconds, and the app needs them only
after its first page is on screen.
"""
from __future__ import annotations

import datetime as dt
import logging
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hm_lib.baselines import before, fill_up, top_articles
from hm_lib.config import Config
from hm_lib.features.common import EVENT_TIMESTAMP
from hm_lib.io import atomic_path, read_json, write_json, write_parquet, write_with
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE

if TYPE_CHECKING:
    import lightgbm as lgb
    from feast import Entity, FeatureService, FeatureStore, FeatureView, FileSource
    from feast.repo_config import RepoConfig

    from hm_lib.data import Dataset
    from hm_lib.ranker import FeatureTables

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REPO_DIR = ROOT / "feature_repo"
APP_SCRIPT = ROOT / "app" / "streamlit_app.py"
KEYS = {"customer": CUSTOMER, "article": ARTICLE}  # entity -> join key
SERVICE = "ranker"
TABLE_TTL = dt.timedelta(days=7)  # a cut-off's tables describe the week that follows it
WHY = pl.List(pl.Struct({"feature": pl.String, "contribution": pl.Float64}))  # serve's explanations
_ROW = "_row"


def view_name(entity: str) -> str:
    return f"{entity}_features"


def store_dir(work_dir: str | Path) -> Path:
    return Path(work_dir) / "feature_store"


def offline_dir(work_dir: str | Path) -> Path:
    return store_dir(work_dir) / "offline"


def timestamp(cutoff: dt.date) -> dt.datetime:
    """The event timestamp of a cut-off's tables: its midnight, UTC."""
    return dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.timezone.utc)


class Definitions(NamedTuple):
    customer: Entity
    article: Entity
    customer_source: FileSource
    article_source: FileSource
    customer_features: FeatureView
    article_features: FeatureView
    ranker: FeatureService


def definitions(offline: str | Path) -> Definitions:
    """The Feast objects over the offline tables in ``offline`` (relative paths: to the repo path)."""
    from feast import Entity, FeatureService, FeatureView, FileSource, ValueType

    entities, sources, views = {}, {}, {}
    for entity, key in KEYS.items():
        entities[entity] = Entity(name=entity, join_keys=[key], value_type=ValueType.INT32,
                                  description=f"{key}: the Int32 {entity} index of the processed tables")
        sources[entity] = FileSource(name=f"{entity}_tables", path=str(Path(offline) / entity),
                                     timestamp_field=EVENT_TIMESTAMP)
        views[entity] = FeatureView(name=view_name(entity), entities=[entities[entity]], source=sources[entity],
                                    ttl=TABLE_TTL,
                                    description=f"hm_lib.features {entity} features, one table per cut-off")
    ranker = FeatureService(name=SERVICE, features=list(views.values()),
                            description="the customer and article features of the LightGBM ranker")
    return Definitions(entities["customer"], entities["article"], sources["customer"], sources["article"],
                       views["customer"], views["article"], ranker)


def repo_config(work_dir: str | Path) -> RepoConfig:
    """feature_repo/feature_store.yaml with the registry and the online store in ``{work_dir}/feature_store``."""
    import yaml
    from feast.repo_config import RepoConfig

    raw = yaml.safe_load((REPO_DIR / "feature_store.yaml").read_text())
    folder = store_dir(work_dir).resolve()
    raw["registry"] = str(folder / "registry.db")
    raw["online_store"] = {**raw["online_store"], "path": str(folder / "online_store.db")}
    return RepoConfig(**raw, repo_path=REPO_DIR)


def open_store(work_dir: str | Path) -> FeatureStore:
    from feast import FeatureStore

    if not (store_dir(work_dir) / "registry.db").is_file():
        raise FileNotFoundError(f"no feature store in {store_dir(work_dir)}: run "
                                f"`hm features apply --work {work_dir}` then `hm features materialize`")
    return FeatureStore(config=repo_config(work_dir))


def _feast_type(t: pa.DataType) -> pa.DataType:
    """Arrow types Feast maps: list and string rather than polars' large and view variants."""
    if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return pa.list_(_feast_type(t.value_type))
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


def publish(work_dir: str | Path, tables: FeatureTables) -> dict[str, Path]:
    """Write a cut-off's tables into the offline store, one file per entity (atomically)."""
    written = {}
    for entity, frame in (("customer", tables.customers), ("article", tables.articles)):
        table = frame.to_arrow()
        path = offline_dir(work_dir) / entity / f"{tables.cutoff}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table.cast(pa.schema([pa.field(f.name, _feast_type(f.type)) for f in table.schema])), tmp)
        written[entity] = path
    return written


def cutoffs(cfg: Config, cutoff: dt.date) -> list[dt.date]:
    """``cutoff`` and the cut-offs of the weeks the ranker trains on for it (as in hm_lib.ranking.train)."""
    from hm_lib.ranker import RankerSettings

    weeks = cfg.settings("ranker", RankerSettings).train_weeks
    return [cutoff - dt.timedelta(days=7 * i) for i in range(weeks + 2)]


def apply(cfg: Config, ds: Dataset, cutoff: dt.date) -> FeatureStore:
    """Publish the tables of ``cutoff`` and of its training weeks (replacing any other), then register the objects."""
    from feast import FeatureStore

    from hm_lib.ranker import FeatureTables

    days = cutoffs(cfg, cutoff)
    for day in days:
        publish(cfg.work_dir, FeatureTables.build(ds.transactions, ds.customers, ds.articles, day))
    keep = {f"{day}.parquet" for day in days}
    for stale in offline_dir(cfg.work_dir).glob("*/*.parquet"):
        if stale.name not in keep:
            stale.unlink()
    store = FeatureStore(config=repo_config(cfg.work_dir))
    store.apply(list(definitions(offline_dir(cfg.work_dir).resolve())))
    log.info("feature store: %d cut-offs (%s to %s) registered in %s", len(days), days[-1], days[0],
             store_dir(cfg.work_dir))
    return store


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Without the FutureWarning that Feast's use of dask raises on every read (pandas downcasting)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Downcasting object dtype arrays", FutureWarning)
        yield


def materialize(cfg: Config, cutoff: dt.date) -> FeatureStore:
    """Load the tables of ``cutoff`` into the online store: what serving reads."""
    if not all((offline_dir(cfg.work_dir) / entity / f"{cutoff}.parquet").is_file() for entity in KEYS):
        raise FileNotFoundError(f"no feature tables for the cut-off {cutoff} in {offline_dir(cfg.work_dir)}: run "
                                "`hm features apply` for it first (with the same --cutoff or --validate)")
    store = open_store(cfg.work_dir)
    start = timestamp(cutoff)
    with _quiet_dask():
        store.materialize(start_date=start, end_date=start + dt.timedelta(days=1))
    return store


def table_schema(store: FeatureStore, entity: str) -> dict[str, pl.DataType]:
    """The polars schema of an entity's offline tables (key, features, event_timestamp)."""
    from feast import FileSource

    source = store.get_feature_view(view_name(entity)).batch_source
    assert isinstance(source, FileSource), f"{entity} features come from a {type(source).__name__}, not files"
    folder = Path(FileSource.get_uri_for_file_path(store.config.repo_path, source.path))
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no {entity} feature tables in {folder}: run `hm features apply`")
    return pl.read_parquet_schema(files[-1])


def _typed(frame: pl.DataFrame, types: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with the columns it shares with ``types`` cast back to them (Feast widens ints with nulls)."""
    return frame.with_columns(pl.col(c).cast(types[c]) for c in frame.columns if c in types)


def historical_features(store: FeatureStore, entity: str, entity_df: pl.DataFrame) -> pl.DataFrame:
    """``entity_df`` (the entity's key, ``event_timestamp``) with the entity's features as of each row's
    timestamp: Feast's point-in-time join, in the tables' types, rows in order."""
    key, types = KEYS[entity], table_schema(store, entity)
    view = store.get_feature_view(view_name(entity))
    rows = entity_df.with_row_index(_ROW).with_columns(pl.col(key).cast(pl.Int32),
                                                        pl.col(EVENT_TIMESTAMP).dt.cast_time_unit("ns"))
    job = store.get_historical_features(entity_df=rows.to_pandas(),
                                        features=[f"{view.name}:{f.name}" for f in view.features])
    with _quiet_dask():
        found = pl.DataFrame(job.to_arrow()).sort(_ROW)
    features = [c for c in types if c in found.columns and c not in rows.columns]
    return _typed(found.select(*entity_df.columns, *features), types)


def historical_tables(store: FeatureStore, cutoff: dt.date, customers: pl.Series,
                      articles: pl.Series) -> FeatureTables:
    """The feature tables of ``cutoff`` read back through Feast: what the ranker trains on.

    A drop-in for ``FeatureTables.build`` (same columns, types and rows) for the keys given.
    """
    from hm_lib.ranker import FeatureTables

    def table(entity: str, keys: pl.Series) -> pl.DataFrame:
        df = keys.cast(pl.Int32).alias(KEYS[entity]).sort().to_frame().with_columns(
            pl.lit(timestamp(cutoff)).dt.cast_time_unit("us").alias(EVENT_TIMESTAMP))
        return historical_features(store, entity, df).select(list(table_schema(store, entity)))

    return FeatureTables(cutoff, table("article", articles), table("customer", customers))


def online_table(store: FeatureStore, entity: str, keys: Sequence[int] | pl.Series) -> pl.DataFrame:
    """The online store's features of ``keys``: one row per key, in order, nulls for keys it does not hold."""
    key = KEYS[entity]
    types = {c: t for c, t in table_schema(store, entity).items() if c != EVENT_TIMESTAMP}
    keys = [int(k) for k in keys]
    if not keys:
        return pl.DataFrame(schema=types)
    view = store.get_feature_view(view_name(entity))
    found = store.get_online_features(features=[f"{view.name}:{f.name}" for f in view.features],
                                      entity_rows=[{key: k} for k in keys]).to_dict()
    return pl.DataFrame([pl.Series(c, found[c], dtype=t, strict=False) for c, t in types.items()])


def serve(store: FeatureStore, booster: lgb.Booster, rows: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """Score candidate rows with the ranker from the online store's features, and say why.

    ``rows``: customer, article_id and the features that belong to neither entity (candidate
    sources, customer x article). Returns customer, article_id, ``score`` (the model's raw score,
    as in the predictions) and ``why``: the ``top`` features with the largest contributions to it
    (LightGBM's SHAP values), largest first, as {feature, contribution}.
    """
    if rows.is_empty():
        return rows.select(CUSTOMER, ARTICLE).with_columns(pl.lit(None, pl.Float32).alias(SCORE),
                                                           pl.lit(None, WHY).alias("why"))
    articles = online_table(store, "article", rows[ARTICLE].unique())
    customers = online_table(store, "customer", rows[CUSTOMER].unique())
    frame = (rows.join(articles, on=ARTICLE, how="left", maintain_order="left")
             .join(customers, on=CUSTOMER, how="left", maintain_order="left"))
    names = booster.feature_name()
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"the ranker needs features that neither the rows nor the online store have: {missing}")
    contrib = np.asarray(booster.predict(frame.select(names).to_pandas(), pred_contrib=True))
    strongest = np.argsort(-np.abs(contrib[:, :-1]), axis=1)[:, :top]
    why = [[{"feature": names[j], "contribution": float(contrib[i, j])} for j in row]
           for i, row in enumerate(strongest)]
    return rows.select(CUSTOMER, ARTICLE).with_columns(pl.Series(SCORE, contrib.sum(axis=1), dtype=pl.Float32),
                                                       pl.Series("why", why, dtype=WHY))


# --- The demo app's artefacts -------------------------------------------------------------------

DEMO_ENV = "HM_DEMO_DIR"  # the artefact folder the app reads
DEMO_FILES = {"meta": "meta.json", "customers": "customers.parquet", "articles": "articles.parquet",
              "history": "history.parquet", "recommendations": "recommendations.parquet",
              "candidates": "candidates.parquet", "popular": "popular.parquet", "model": "ranker.txt"}
HISTORY_ITEMS = 12        # latest purchases kept per customer
CANDIDATES_PER_SOURCE = 6
ACTIVE_DAYS = 28          # "active": bought in the 4 weeks before the cut-off
AGE_BREAKS = [25, 35, 45, 55]
AGE_BANDS = ["under 25", "25-34", "35-44", "45-54", "55+"]
ACTIVITY = ["active", "lapsed", "new"]


def demo_dir(work_dir: str | Path) -> Path:
    return Path(work_dir) / "demo"


def latest_predictions(cfg: Config) -> dt.date | None:
    """The latest cut-off with ranker predictions on disk, if any."""
    found = sorted(cfg.work_dir.glob("predictions/cutoff=*/ranker.parquet"))
    return dt.date.fromisoformat(found[-1].parent.name.partition("=")[2]) if found else None


def prepare_demo(cfg: Config, ds: Dataset, cutoff: dt.date | None = None) -> Path:
    """Feature store and artefacts for the demo app, in ``{work_dir}/demo``; returns that folder.

    The cut-off: ``cutoff``, else the latest one with ranker predictions, else the chain's
    (:func:`hm_lib.pipeline.cutoff_for`); the ranker is trained first when its predictions are missing.
    """
    from hm_lib import pipeline, ranking
    from hm_lib.candidates import read_candidates

    cutoff = cutoff or latest_predictions(cfg) or pipeline.cutoff_for(cfg, ds)
    if not ranking.predictions_path(cfg, cutoff).exists():
        log.info("no ranker predictions for the cut-off %s: training the ranker (hm_lib.ranking.run)", cutoff)
        ranking.run(cfg, ds, cutoff)
    apply(cfg, ds, cutoff)
    materialize(cfg, cutoff)
    folder = demo_dir(cfg.work_dir)
    candidates = read_candidates(cfg.work_dir, cutoff)
    popular = top_articles(before(ds.transactions, cutoff, 7), cfg.k)
    frames = {"customers": _customers(ds, cutoff), "history": _history(ds, cutoff), "popular": popular,
              "articles": ds.articles.select(ARTICLE, "prod_name", "product_type_name", "colour_group_name"),
              "recommendations": _recommendations(cfg, ds, cutoff, candidates, popular),
              "candidates": _candidates_by_source(candidates)}
    for name, frame in frames.items():
        write_parquet(frame, folder / DEMO_FILES[name])
    model = ranking.predictions_path(cfg, cutoff).with_name("ranker.txt")
    write_with(folder / DEMO_FILES["model"], lambda tmp: shutil.copyfile(model, tmp))
    sources = [c.removesuffix(f"_{RANK}") for c in candidates.collect_schema().names() if c.endswith(f"_{RANK}")]
    write_json({"cutoff": cutoff.isoformat(), "k": cfg.k, "work_dir": str(cfg.work_dir.resolve()),
                "data_dir": str(cfg.data_dir.resolve()), "sources": sources}, folder / DEMO_FILES["meta"])
    log.info("demo artefacts for the cut-off %s in %s", cutoff, folder)
    return folder


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


def _recommendations(cfg: Config, ds: Dataset, cutoff: dt.date, candidates: pl.LazyFrame,
                     popular: pl.DataFrame) -> pl.DataFrame:
    """k per customer: the ranker's, filled up from ``popular`` (``filled``, no score) when it has fewer,
    with their candidate-source and customer x article features, for :func:`serve`."""
    from hm_lib import ranking
    from hm_lib.features import pair_features

    predictions = ranking.read_predictions(cfg, cutoff)
    recs = (fill_up(predictions, popular, ds.customers, cfg.k)
            .join(predictions.select(CUSTOMER, ARTICLE, SCORE), on=[CUSTOMER, ARTICLE], how="left")
            .with_columns(pl.col(SCORE).is_null().alias("filled")))
    keys = recs.select(CUSTOMER, ARTICLE).sort(CUSTOMER, ARTICLE)
    sources = candidates.join(keys.lazy(), on=[CUSTOMER, ARTICLE], how="semi").collect()
    return (recs.join(sources, on=[CUSTOMER, ARTICLE], how="left")
            .join(pair_features(ds.transactions, ds.articles, keys, cutoff), on=[CUSTOMER, ARTICLE], how="left")
            .sort(CUSTOMER, RANK))


def _candidates_by_source(candidates: pl.LazyFrame) -> pl.DataFrame:
    """customer, source, source_rank, article_id: each source's best few candidates per customer."""
    ranks = [c for c in candidates.collect_schema().names() if c.endswith(f"_{RANK}")]
    return (candidates.select(CUSTOMER, ARTICLE, *ranks)
            .unpivot(on=ranks, index=[CUSTOMER, ARTICLE], variable_name="source", value_name="source_rank")
            .filter(pl.col("source_rank") <= CANDIDATES_PER_SOURCE)
            .with_columns(pl.col("source").str.strip_suffix(f"_{RANK}"))
            .sort(CUSTOMER, "source", "source_rank").collect())


def demo_command(port: int) -> list[str]:
    """The command that serves the demo app on 127.0.0.1:``port``; it reads the folder named by ``DEMO_ENV``."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
            "--client.toolbarMode", "minimal", "--browser.gatherUsageStats", "false"]


def read_meta(folder: str | Path) -> dict:
    """The demo artefacts' meta.json, or a clear error when they have not been written."""
    path = Path(folder) / DEMO_FILES["meta"]
    if not path.is_file():
        raise FileNotFoundError(f"no demo artefacts in {Path(folder).resolve()}: run `hm demo` (or `make demo`) "
                                "from the repository root, which writes them first")
    return read_json(path)
