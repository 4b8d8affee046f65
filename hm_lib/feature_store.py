"""The ranker's feature tables in a Feast feature store.

Layout under ``{work_dir}/feature_store/``: ``offline/{customer,article}/YYYY-MM-DD.parquet``
(the tables of :class:`hm_lib.ranking.FeatureTables`, one file per cut-off, each row stamped with
its cut-off as ``event_timestamp``, UTC), ``registry.db`` and ``online_store.db`` (SQLite).
Feast's file source reads a folder as one parquet dataset, so a cut-off is one more file; the
ranking stage's ``features/cutoff=.../`` folders hold both entities and cannot be a source.
:func:`definitions` declares the entities (INT32 keys), one feature view per entity (features
inferred from the tables) and the ranker's feature service; ``feature_repo/`` declares the same
for the ``feast`` CLI over the default work dir.

Training reads the tables back with Feast's point-in-time join (:func:`historical_tables`, a
drop-in for ``FeatureTables.build``); serving reads the online store (:func:`online_table`,
:func:`serve`, which explains each score with :func:`explain`). Feast and LightGBM are imported
on first use: they take seconds (see :mod:`hm_lib.demo` for the app that reads this store).
"""
from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hm_lib.config import Config
from hm_lib.errors import MissingOutputError
from hm_lib.features import entity_families
from hm_lib.features.common import EVENT_TIMESTAMP, lightgbm_input
from hm_lib.io import atomic_path
from hm_lib.layout import offline_dir, offline_path, store_dir
from hm_lib.schema import ARTICLE, CUSTOMER, SCORE

if TYPE_CHECKING:
    from feast import Entity, FeatureService, FeatureStore, FeatureView, FileSource
    from feast.repo_config import RepoConfig

    from hm_lib.data import Dataset
    from hm_lib.ranking.base import Ranker
    from hm_lib.ranking.frames import FeatureTables

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REPO_DIR = ROOT / "feature_repo"
KEYS = {f.name: f.key for f in entity_families()}  # entity -> join key: one per entity feature family
SERVICE = "ranker"
TABLE_TTL = dt.timedelta(days=7)  # a cut-off's tables describe the week that follows it
WHY = pl.List(pl.Struct({"feature": pl.String, "contribution": pl.Float64, "value": pl.Float64}))  # explanations
_ROW = "_row"


def view_name(entity: str) -> str:
    return f"{entity}_features"


def timestamp(cutoff: dt.date) -> dt.datetime:
    """The event timestamp of a cut-off's tables: its midnight, UTC."""
    return dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class Definitions:
    """The Feast objects: per entity feature family an Entity, a FileSource and a FeatureView; the ranker's
    FeatureService over every view."""

    entities: dict[str, Entity]
    sources: dict[str, FileSource]
    views: dict[str, FeatureView]
    service: FeatureService

    def objects(self) -> dict[str, Any]:
        """Every object by the name ``feature_repo/definitions.py`` gives it (``customer``,
        ``customer_source``, ``customer_features``, ..., ``ranker``)."""
        return {**self.entities, **{f"{e}_source": s for e, s in self.sources.items()},
                **{view_name(e): v for e, v in self.views.items()}, SERVICE: self.service}

    def __iter__(self) -> Iterator[Any]:
        return iter(self.objects().values())


def definitions(offline: str | Path) -> Definitions:
    """The Feast objects over the offline tables in ``offline`` (relative paths: to the repo path)."""
    from feast import Entity, FeatureService, FeatureView, FileSource, ValueType

    entities, sources, views = {}, {}, {}
    for family in entity_families():
        entity, key = family.name, family.key
        entities[entity] = Entity(name=entity, join_keys=[key], value_type=ValueType.INT32,
                                  description=f"{key}: the Int32 {entity} index of the processed tables")
        sources[entity] = FileSource(name=f"{entity}_tables", path=str(Path(offline) / entity),
                                     timestamp_field=EVENT_TIMESTAMP)
        views[entity] = FeatureView(name=view_name(entity), entities=[entities[entity]], source=sources[entity],
                                    ttl=TABLE_TTL, description=f"hm_lib.features {entity} features ({family.description}), "
                                    "one table per cut-off")
    service = FeatureService(name=SERVICE, features=list(views.values()),
                             description="the entity features of the ranker (hm_lib.features.FAMILIES)")
    return Definitions(entities, sources, views, service)


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
        raise MissingOutputError(f"no feature store in {store_dir(work_dir)}: run "
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
    for entity, frame in tables.tables.items():
        table = frame.to_arrow()
        path = offline_path(work_dir, entity, tables.cutoff)
        with atomic_path(path) as tmp:
            pq.write_table(table.cast(pa.schema([pa.field(f.name, _feast_type(f.type)) for f in table.schema])), tmp)
        written[entity] = path
    return written


def cutoffs(cfg: Config, cutoff: dt.date) -> list[dt.date]:
    """``cutoff`` and the cut-offs of the weeks the ranker learns from for it (RankerSettings.weeks)."""
    from hm_lib.ranking.settings import RankerSettings

    return [cutoff, *cfg.settings("ranker", RankerSettings).weeks(cutoff)]


def apply(cfg: Config, ds: Dataset, cutoff: dt.date) -> FeatureStore:
    """Publish the tables of ``cutoff`` and of its training weeks (replacing any other), then register the objects."""
    from feast import FeatureStore

    from hm_lib.ranking.frames import FeatureTables

    days = cutoffs(cfg, cutoff)
    for day in days:
        publish(cfg.work_dir, FeatureTables.build(ds, day))
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
    if not all(offline_path(cfg.work_dir, entity, cutoff).is_file() for entity in KEYS):
        raise MissingOutputError(f"no feature tables for the cut-off {cutoff} in {offline_dir(cfg.work_dir)}: run "
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
        raise MissingOutputError(f"no {entity} feature tables in {folder}: run `hm features apply`")
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


def historical_tables(store: FeatureStore, cutoff: dt.date,
                      rows: pl.DataFrame | Mapping[str, pl.Series]) -> FeatureTables:
    """The feature tables of ``cutoff`` read back through Feast, for the entities of ``rows`` (a frame, or series
    by key column, holding every entity's key): what the ranker trains on. A drop-in for ``FeatureTables.build`` (same columns, types and
    rows) for those keys.
    """
    from hm_lib.ranking.frames import FeatureTables

    def table(entity: str) -> pl.DataFrame:
        keys = rows[KEYS[entity]].unique()
        df = keys.cast(pl.Int32).sort().to_frame().with_columns(
            pl.lit(timestamp(cutoff)).dt.cast_time_unit("us").alias(EVENT_TIMESTAMP))
        return historical_features(store, entity, df).select(list(table_schema(store, entity)))

    return FeatureTables(cutoff, {entity: table(entity) for entity in KEYS})


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


def serve(store: FeatureStore, ranker: Ranker, rows: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """Score candidate rows with the ranker from the online store's features, and say why.

    ``rows``: customer, article_id and the features that belong to neither entity (candidate
    sources, customer x article). Returns what :func:`explain` does.
    """
    if rows.is_empty():
        return rows.select(CUSTOMER, ARTICLE).with_columns(pl.lit(None, pl.Float32).alias(SCORE),
                                                           pl.lit(None, WHY).alias("why"))
    frame = rows
    for entity, key in KEYS.items():
        frame = frame.join(online_table(store, entity, rows[key].unique()), on=key, how="left", maintain_order="left")
    return explain(ranker, frame, top)


def explain(ranker: Ranker, frame: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """The ranker's score of each row of ``frame`` (customer, article_id and every feature it uses), and why.

    Returns customer, article_id, ``score`` (the model's raw score, as in the predictions) and
    ``why``: the ``top`` features with the largest contributions to it, largest first, as {feature,
    contribution, value} (the row's value of the feature; null where missing), from the ranker's
    :meth:`~hm_lib.ranking.base.Ranker.contributions` (for LightGBM: path attribution, exact and as cheap
    as a prediction).
    """
    names = ranker.feature_names
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"the ranker needs features that the rows do not have: {missing}")
    features = lightgbm_input(frame, names)
    base, contrib = ranker.contributions(frame)
    strongest = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :top]
    # the kept values only, widened from the float32 LightGBM reads (not a float64 copy of every feature)
    values = np.take_along_axis(features, strongest, axis=1).ravel().astype(np.float64)
    reasons = pl.DataFrame({_ROW: np.repeat(np.arange(frame.height), strongest.shape[1]),
                            "feature": np.asarray(names)[strongest].ravel(),
                            "contribution": np.take_along_axis(contrib, strongest, axis=1).ravel(),
                            "value": pl.Series(values, nan_to_null=True)})
    why = (reasons.group_by(_ROW, maintain_order=True)
           .agg(pl.struct("feature", "contribution", "value").alias("why")))
    score = pl.Series(SCORE, base + contrib.sum(axis=1), dtype=pl.Float32)
    return frame.select(CUSTOMER, ARTICLE).with_columns(score, why["why"].cast(WHY))

