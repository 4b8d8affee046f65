"""The ground truth of a synthetic world and the oracle built on it.

`save_truth` writes, outside data/raw, everything needed to evaluate the generator's own
choice probabilities for any week: the latent tables of articles and customers, weekly
popularity, topic affinities, basket partners, and the hidden target week's purchases.

`oracle_predictions` ranks, for each customer, the articles by the probability that an item
they buy in that week is that article, given their history before the week. It is the very
mixture the simulation samples from (taste topics x popularity, repurchase, basket partners),
evaluated in closed form; only the dependence between items of one basket is approximated.
Its MAP@12 is the ceiling for every model.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from hm_lib import schema
from hm_lib.evaluation import map_at_k, week_truth
from hm_lib.errors import MissingOutputError
from hm_lib.io import atomic_path, read_json, write_json, write_parquet
from hm_lib.progress import bar
from hm_lib.synthetic.calendar import Calendar
from hm_lib.synthetic.knobs import Knobs
from hm_lib.synthetic.simulate import (HISTORY_WEEKS, World, history_matrix, partner_share, topic_choice,
                                       weekly_purchases)

FORMAT_VERSION = 1


@dataclasses.dataclass
class Truth:
    """What the oracle needs, loaded from the truth folder."""

    cal: Calendar
    knobs: Knobs
    article_ids: np.ndarray       # (A,) int, position -> article_id
    customer_ids: np.ndarray      # (n,) str, position -> hex id (order of customers.csv)
    popularity: np.ndarray        # (weeks + 1, A)
    topic_affinity: np.ndarray    # (K, A)
    cust_topics: np.ndarray
    cust_weights: np.ndarray
    repurchase: np.ndarray        # (n,)
    basket_scale: np.ndarray      # (n,)
    partners: sp.csr_matrix
    siblings: sp.csr_matrix
    style: np.ndarray             # (A,) hidden visual style
    meta: dict


def _save_npy(arr: np.ndarray, path: Path) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, arr)


def _save_npz(m: sp.csr_matrix, path: Path) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        sp.save_npz(tmp, m)


def save_truth(world: World, target_rows: dict[str, np.ndarray], truth_dir: Path, meta: dict) -> None:
    """Write the ground truth; `meta.json` last, so a half-written folder is never taken as complete."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    cat, pop = world.cat, world.pop
    write_parquet(pl.DataFrame({
        "article_id": cat.table["article_id"], "style": cat.style, "launch_week": cat.launch_week,
        "life_weeks": cat.life_weeks, "base_pop": cat.base_pop, "seasonal": cat.seasonal,
        "base_price": cat.base_price, "code_pos": cat.code_pos,
    }), truth_dir / "articles_latent.parquet")
    write_parquet(pl.DataFrame({
        "customer_id": pop.table["customer_id"], "latent_age": pop.latent_age, "activity": pop.activity,
        "join_week": pop.join_week, "leave_week": pop.leave_week, "online": pop.online,
        "basket_scale": pop.basket_scale, "repurchase": pop.repurchase,
        "topics": world.cust_topics, "topic_weights": world.cust_weights,
    }), truth_dir / "customers_latent.parquet")
    _save_npy(world.popularity, truth_dir / "popularity.npy")
    _save_npy(world.topic_affinity, truth_dir / "topic_affinity.npy")
    _save_npz(world.partners, truth_dir / "partners.npz")
    _save_npz(world.siblings, truth_dir / "siblings.npz")
    start = world.cal.start
    target = pl.DataFrame({
        "t_dat": [start + dt.timedelta(days=int(d)) for d in target_rows["day"]],
        "customer_id": pop.table["customer_id"].gather(target_rows["customer"]),
        "customer": target_rows["customer"],
        "article_id": cat.table["article_id"].to_numpy()[target_rows["article"]].astype(np.int32),
        "price": target_rows["price"].astype(np.float32), "sales_channel_id": target_rows["channel"],
    }, schema_overrides={"t_dat": pl.Date})
    write_parquet(target, truth_dir / "target_week.parquet")
    write_json({"format_version": FORMAT_VERSION, "end_date": str(world.cal.end),
                "knobs": dataclasses.asdict(world.knobs), "rate_scale": world.rate_scale, **meta},
               truth_dir / "meta.json")


def load_truth(truth_dir: Path) -> Truth:
    truth_dir = Path(truth_dir)
    meta_path = truth_dir / "meta.json"
    if not meta_path.exists():
        raise MissingOutputError(f"no synthetic ground truth in {truth_dir} (meta.json missing): "
                                 "the oracle exists only for data made by `hm generate`")
    meta = read_json(meta_path)
    arts = pl.read_parquet(truth_dir / "articles_latent.parquet")
    cust = pl.read_parquet(truth_dir / "customers_latent.parquet")
    return Truth(
        cal=Calendar(dt.date.fromisoformat(meta["end_date"])), knobs=Knobs.from_dict(meta["knobs"]),
        article_ids=arts["article_id"].to_numpy(), customer_ids=cust["customer_id"].to_numpy(),
        popularity=np.load(truth_dir / "popularity.npy"), topic_affinity=np.load(truth_dir / "topic_affinity.npy"),
        cust_topics=np.stack(cust["topics"].to_numpy()), cust_weights=np.stack(cust["topic_weights"].to_numpy()),
        repurchase=cust["repurchase"].to_numpy(), basket_scale=cust["basket_scale"].to_numpy(),
        partners=sp.load_npz(truth_dir / "partners.npz").tocsr(), siblings=sp.load_npz(truth_dir / "siblings.npz").tocsr(),
        style=arts["style"].to_numpy(), meta=meta,
    )


def target_week(truth_dir: Path) -> pl.DataFrame:
    """The hidden week after the data ends (t_dat, customer_id, customer, article_id, price, channel)."""
    return pl.read_parquet(Path(truth_dir) / "target_week.parquet")


def _history_at(truth: Truth, transactions: pl.DataFrame, week: int) -> sp.csr_matrix:
    """The repurchase history the simulation used at the start of `week`, rebuilt from the rows."""
    n, a = truth.customer_ids.size, truth.article_ids.size
    pos_of = pl.DataFrame({"article_id": truth.article_ids.astype(np.int32), "_pos": np.arange(a, dtype=np.int32)})
    first = truth.cal.week_start(max(week - HISTORY_WEEKS, 0))
    day = (pl.col("t_dat") - pl.lit(truth.cal.start)).dt.total_days()
    rows = (transactions.lazy().filter((pl.col("t_dat") >= first) & (pl.col("t_dat") < truth.cal.week_start(week)))
            .select(((day - truth.cal.week_start_day(0)) // 7).alias("wk"), "customer",
                    pl.col("article_id").cast(pl.Int32))
            .join(pos_of.lazy(), on="article_id").collect())
    wk = rows["wk"].to_numpy()
    weekly: deque = deque(maxlen=HISTORY_WEEKS)
    for w in range(max(week - HISTORY_WEEKS, 0), week):
        sel = wk == w
        weekly.append(weekly_purchases(rows["customer"].to_numpy()[sel], rows["_pos"].to_numpy()[sel], n, a))
    return history_matrix(weekly, n, a, truth.knobs)


def choice_probabilities(truth: Truth, week: int, customers: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
    """(len(customers), A) probability that an item bought by the customer in `week` is each article."""
    choice = topic_choice(truth.popularity[week], truth.topic_affinity).astype(np.float32)
    available = truth.popularity[week] > 0
    weights, topics = truth.cust_weights[customers], truth.cust_topics[customers]
    base = sum(weights[:, j, None] * choice[topics[:, j]] for j in range(topics.shape[1]))
    h = history[customers]
    has = np.diff(h.indptr) > 0
    norm = np.asarray(h.sum(axis=1)).ravel()
    norm[norm == 0] = 1
    h = sp.diags(1 / norm) @ h
    sib_ok = (np.diff(truth.siblings.indptr) > 0).astype(float)
    s = truth.knobs.repurchase_sibling
    hist = (h @ sp.diags(1 - s * sib_ok) + s * (h @ sp.diags(sib_ok) @ truth.siblings)).toarray() * available
    rho = (truth.repurchase[customers] * has)[:, None]
    m = (1 - rho) * base + rho * (hist + (1 - hist.sum(axis=1, keepdims=True)) * base)
    if truth.knobs.basket_partner > 0:
        pa = (truth.partners @ sp.diags(available.astype(float))).tocsr()
        follow = np.asarray((pa.T @ m.T).T)
        share = partner_share(truth.knobs, truth.basket_scale[customers])
        m = m + share[:, None] * (follow - follow.sum(axis=1, keepdims=True) * m)
    return m


def oracle_predictions(truth_dir: Path, transactions: pl.DataFrame, week_start: dt.date,
                       customers: np.ndarray | None = None, k: int = schema.K, progress: bool = True,
                       allowed: pl.DataFrame | None = None, truth: Truth | None = None) -> pl.DataFrame:
    """The k most probable articles per customer for the week starting `week_start`.

    `transactions` has t_dat, customer (position in customers.csv) and article_id; only rows
    before `week_start` are read. `customers` defaults to everyone. `allowed` (customer, article_id
    pairs, e.g. a candidate set): a customer's list is drawn from their allowed articles only, so it may
    be shorter than k. `truth`: the loaded truth folder, or a changed copy of it (e.g. another week's
    popularity, benchmarks/bench_oracle_knowable.py). Returns the long predictions frame (customer,
    article_id, rank, score).
    """
    truth = load_truth(truth_dir) if truth is None else truth
    week = truth.cal.week_of(week_start)
    if truth.cal.week_start(week) != week_start or not 0 <= week <= truth.cal.weeks:
        starts = f"{truth.cal.week_start(truth.cal.weeks - 1)} (last data week) or {truth.cal.week_start(truth.cal.weeks)} (target week)"
        raise ValueError(f"week_start {week_start} is not the first day of a simulated week; weeks start on "
                         f"the same weekday as {starts}")
    history = _history_at(truth, transactions, week)
    customers = np.arange(truth.customer_ids.size) if customers is None else np.asarray(customers)
    mask = None if allowed is None else _allowed_matrix(truth.article_ids, customers, allowed)
    shard = max(1, 16_000_000 // truth.article_ids.size)  # dense (shard x articles) blocks of ~64 MB
    parts = []
    for lo in bar(range(0, customers.size, shard), desc="oracle", disable=not progress):
        cs = customers[lo: lo + shard]
        p = choice_probabilities(truth, week, cs, history)
        if mask is not None:
            p = np.where(mask[lo: lo + shard].toarray(), p, -1.0)
        top = np.argpartition(-p, min(k, p.shape[1] - 1), axis=1)[:, :k]
        score = np.take_along_axis(p, top, axis=1)
        order = np.argsort(-score, axis=1, kind="stable")
        top, score = np.take_along_axis(top, order, axis=1), np.take_along_axis(score, order, axis=1)
        frame = pl.DataFrame({
            schema.CUSTOMER: np.repeat(cs, top.shape[1]).astype(np.int32),
            schema.ARTICLE: truth.article_ids[top.ravel()].astype(np.int32),
            schema.RANK: np.tile(np.arange(1, top.shape[1] + 1, dtype=np.int32), cs.size),
            schema.SCORE: score.ravel().astype(np.float32),
        })
        parts.append(frame if mask is None else frame.filter(pl.col(schema.SCORE) >= 0))
    return pl.concat(parts) if parts else pl.DataFrame(schema={schema.CUSTOMER: pl.Int32, schema.ARTICLE: pl.Int32,
                                                              schema.RANK: pl.Int32, schema.SCORE: pl.Float32})


def _allowed_matrix(article_ids: np.ndarray, customers: np.ndarray, allowed: pl.DataFrame) -> sp.csr_matrix:
    """(customers x articles) boolean CSR: which articles each of ``customers`` (in that order) may be given."""
    rows = pl.DataFrame({schema.CUSTOMER: customers.astype(np.int32), "_row": np.arange(customers.size, dtype=np.int32)})
    cols = pl.DataFrame({schema.ARTICLE: article_ids.astype(np.int32), "_col": np.arange(article_ids.size, dtype=np.int32)})
    pairs = (allowed.select(pl.col(schema.CUSTOMER).cast(pl.Int32), pl.col(schema.ARTICLE).cast(pl.Int32))
             .join(rows, on=schema.CUSTOMER).join(cols, on=schema.ARTICLE))
    return sp.csr_matrix((np.ones(pairs.height, dtype=bool), (pairs["_row"].to_numpy(), pairs["_col"].to_numpy())),
                         shape=(customers.size, article_ids.size))


def oracle_last_week_map(truth_dir: Path, transactions: pl.DataFrame, progress: bool = False) -> float:
    """The oracle's MAP@12 on the data's last week (the seven days up to its last date), over that week's buyers."""
    start = transactions["t_dat"].max() - dt.timedelta(days=6)
    truth = week_truth(transactions, start, 7)
    predictions = oracle_predictions(truth_dir, transactions, start, customers=truth[schema.CUSTOMER].unique().to_numpy(),
                                     progress=progress)
    return map_at_k(predictions, truth)
