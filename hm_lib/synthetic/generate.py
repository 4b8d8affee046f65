"""`hm generate`: build a synthetic world and write it in the raw competition format."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from hm_lib import schema
from hm_lib.io import read_json
from hm_lib.synthetic import vocab
from hm_lib.synthetic.calendar import REAL_END, Calendar
from hm_lib.synthetic.catalogue import build_catalogue
from hm_lib.synthetic.images import write_images
from hm_lib.synthetic.knobs import SCALES, Knobs
from hm_lib.synthetic.population import build_population
from hm_lib.synthetic.report import write_report
from hm_lib.synthetic.simulate import World, calibrate_rate, siblings_matrix, simulate
from hm_lib.synthetic.tastes import (activity_curve, build_partners, build_topics, customer_topics, limit_stock,
                                     weekly_popularity)
from hm_lib.synthetic.truth import save_truth
from hm_lib.synthetic.writer import write_articles, write_customers, write_transactions

log = logging.getLogger(__name__)


@dataclasses.dataclass
class GenerateReport:
    out_dir: Path
    truth_dir: Path
    customers: int
    articles: int
    transactions: int
    images: int
    seconds: float
    reused: bool = False


def build_world(scale: str, seed: int, end_date: dt.date, knobs: Knobs) -> tuple[World, np.random.SeedSequence]:
    """Draw the catalogue, customers, tastes, popularity and partners of a world."""
    spec = SCALES[scale]
    cal = Calendar(end_date)
    seq = np.random.SeedSequence(seed)
    s_cat, s_pop, s_top, s_popu, s_part, s_rate, s_sim = seq.spawn(7)
    cat = build_catalogue(np.random.default_rng(s_cat), spec.articles, cal.weeks, knobs)
    pop = build_population(np.random.default_rng(s_pop), spec.customers, cal.weeks, knobs)
    rng_t = np.random.default_rng(s_top)
    topics = build_topics(rng_t, cat, knobs)
    ids, weights = customer_topics(rng_t, pop.latent_age, topics, knobs)
    mass = np.bincount(ids.ravel(), weights=(weights * pop.activity[:, None]).ravel(), minlength=topics.affinity.shape[0])
    popularity = limit_stock(weekly_popularity(np.random.default_rng(s_popu), cat, cal, knobs), topics.affinity, mass,
                             knobs.stock_cap)
    world = World(cal=cal, knobs=knobs, cat=cat, pop=pop, popularity=popularity,
                  activity_curve=activity_curve(np.random.default_rng(s_popu.spawn(1)[0]), cal, knobs),
                  topic_affinity=topics.affinity, cust_topics=ids, cust_weights=weights,
                  partners=build_partners(np.random.default_rng(s_part), cat), siblings=siblings_matrix(cat))
    world.rate_scale = calibrate_rate(world, spec.rows, np.random.default_rng(s_rate))
    return world, s_sim


def _image_rows(world: World, skip: np.ndarray) -> pl.DataFrame:
    t = world.cat.table
    types, ga, col = vocab.PRODUCT_TYPES, vocab.GRAPHICAL_APPEARANCES, vocab.COLOURS
    rgb = np.array([c.rgb for c in col])[t["_colour"].to_numpy()]
    return pl.DataFrame({
        "article_id": t["article_id"], "silhouette": np.array([x.silhouette for x in types])[t["_type"].to_numpy()],
        "r": rgb[:, 0], "g": rgb[:, 1], "b": rgb[:, 2],
        "pattern": np.array([g.pattern for g in ga])[t["_graph"].to_numpy()],
        "style": world.cat.style, "seed": t["article_id"],
    }).filter(~pl.Series(skip))


def _transactions_table(world: World, rows: dict[str, np.ndarray]) -> pl.DataFrame:
    """The simulated rows as the processed transactions table (for the world report)."""
    start = (world.cal.start - dt.date(1970, 1, 1)).days
    return pl.DataFrame({
        "t_dat": pl.Series(rows["day"].astype(np.int32) + start).cast(pl.Date),
        "customer": rows["customer"], "article_id": world.cat.table["article_id"].to_numpy()[rows["article"]].astype(np.int32),
        "price": rows["price"].astype(np.float32), "sales_channel_id": rows["channel"],
    })


def _settings(scale: str, seed: int, end_date: dt.date, knobs: Knobs, images: bool, image_size: tuple[int, int]) -> dict:
    return {"scale": scale, "seed": seed, "end_date": str(end_date), "knobs": dataclasses.asdict(knobs),
            "images": images, "image_size": list(image_size)}


def generate(out_dir: str | Path = "data/raw", scale: str = "default", seed: int = 42, images: bool | None = None,
             image_size: tuple[int, int] = (128, 192), end_date: dt.date = REAL_END, knobs: Knobs | None = None,
             truth_dir: str | Path | None = None, force: bool = False, workers: int = 2,
             progress: bool = True) -> GenerateReport:
    """Write articles.csv, customers.csv, transactions_train.csv and images/ to `out_dir`.

    The ground truth (latent tables, the hidden target week) goes to `truth_dir`
    (default: `out_dir/../synthetic_truth`). A world already written with the same settings
    is reused unless `force`. Deterministic: the same arguments give the same bytes.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    t0 = time.perf_counter()
    knobs = knobs or Knobs.for_scale(scale)
    images = SCALES[scale].images if images is None else images
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir else out_dir.parent / "synthetic_truth"
    settings = _settings(scale, seed, end_date, knobs, images, image_size)
    meta_path = truth_dir / "meta.json"
    raw_present = all((out_dir / f).exists() for f in (schema.ARTICLES_FILE, schema.CUSTOMERS_FILE, schema.TRANSACTIONS_FILE))
    if not force and raw_present and meta_path.exists() and read_json(meta_path).get("settings") == settings:
        meta = read_json(meta_path)
        log.info("synthetic world in %s already matches the settings; reusing it", out_dir)
        return GenerateReport(out_dir, truth_dir, **meta["counts"], seconds=time.perf_counter() - t0, reused=True)
    if raw_present and not meta_path.exists() and not force:
        raise FileExistsError(f"{out_dir} already holds raw files that `hm generate` did not write (the real Kaggle "
                              "files?); choose another --out, or --force to overwrite them")
    if meta_path.exists():
        meta_path.unlink()  # the folder is being rewritten: never leave a stale marker
    shutil.rmtree(out_dir / schema.IMAGES_DIR, ignore_errors=True)  # images of the previous world
    world, sim_seed = build_world(scale, seed, end_date, knobs)
    rows, target = simulate(world, int(sim_seed.generate_state(1)[0]), progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_articles(world.cat.table, out_dir)
    write_customers(world.pop.table, out_dir)
    write_transactions(rows, out_dir, world.cal.start, world.pop.table["customer_id"].to_numpy(),
                       world.cat.table["article_id"].to_numpy(), progress=progress)
    n_images = 0
    if images:
        skip = np.random.default_rng(seed + 1).random(world.cat.size) < knobs.missing_image_share
        n_images = write_images(_image_rows(world, skip), out_dir, size=image_size, workers=workers, progress=progress)
    write_report(truth_dir, settings, _transactions_table(world, rows), world.pop.table, world.cat.table,
                 out_dir / schema.IMAGES_DIR if images else None)
    counts = {"customers": world.pop.size, "articles": world.cat.size, "transactions": int(rows["day"].size),
              "images": n_images}
    save_truth(world, target, truth_dir, {"settings": settings, "counts": counts})
    return GenerateReport(out_dir, truth_dir, **counts, seconds=time.perf_counter() - t0)
