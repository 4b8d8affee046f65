"""The positives of a training window and their negatives, drawn with two strategies.

- ``same_category``: articles of the positive's category, uniformly among the distinct articles that
  sell in the window.
- ``same_day``: purchases of the positive's day and category by *other* customers (distinct
  (customer, article, day) rows, so popular articles come up in proportion to their buyers). Drawing
  from the pool of each positive's category gives a customer's negatives of a day that customer's
  category mix of that day.

Draws are with replacement and vectorised over all positives (offsets into pools sorted by category,
or by day and category). A negative is dropped when the customer bought that article anywhere in the
window, or when the (customer, article) pair was already drawn (each pair appears once: the first draw
wins); what is dropped is redrawn for ``top_up_rounds`` more rounds. A pool that cannot supply enough
distinct articles (a tiny category, a quiet day) leaves its positive with fewer negatives: counted in
:class:`NegativeReport`, never filled with a positive or another strategy's draw.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from hm_lib.negatives.settings import NegativeSettings
from hm_lib.schema import ARTICLE, CUSTOMER

log = logging.getLogger(__name__)

DAY = "day"
LABEL = "label"
STRATEGY = "strategy"
STRATEGIES = ("positive", "same_category", "same_day")
STRATEGY_TYPE = pl.Enum(STRATEGIES)
NEGATIVE_STRATEGIES = STRATEGIES[1:]
PAIR_SCHEMA = pl.Schema({CUSTOMER: pl.Int32(), ARTICLE: pl.Int32(), LABEL: pl.Int8(),
                         STRATEGY: STRATEGY_TYPE, DAY: pl.Date()})
CATEGORY = "category"  # label of an article's category, e.g. "product_type_no=272"
CAT = "cat"  # its dense Int32 code
FALLBACK = "fallback"  # whether the category is the fallback column's value


@dataclass(frozen=True)
class NegativeReport:
    """What a draw produced; ``shortfall`` = ``requested`` - ``negatives``, per strategy."""

    cutoff: dt.date
    window_start: dt.date
    positives: int
    customers: int
    articles: int  # distinct articles selling in the window
    categories: int
    fallback_articles: int  # articles whose category is the fallback column's value
    requested: dict[str, int]
    negatives: dict[str, int]
    shortfall: dict[str, int]
    positives_short: int  # positives with fewer than `ratio` negatives
    rebuilt: bool = True
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, dt.date) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any], **changes: Any) -> NegativeReport:
        dates = {k: dt.date.fromisoformat(data[k]) for k in ("cutoff", "window_start")}
        return cls(**{**data, **dates, **changes})


@dataclass(frozen=True)
class WindowInputs:
    """What a draw depends on: the window's positives (with their ``cat``) and its articles' categories."""

    positives: pl.DataFrame
    categories: pl.DataFrame


def window_positives(transactions: pl.DataFrame, cutoff: dt.date, window_days: int) -> pl.DataFrame:
    """Distinct (customer, article_id, day) bought in [cutoff - window_days, cutoff), sorted."""
    start = cutoff - dt.timedelta(days=window_days)
    return (transactions.lazy().filter(pl.col("t_dat").is_between(start, cutoff, closed="left"))
            .select(CUSTOMER, ARTICLE, pl.col("t_dat").alias(DAY)).unique()
            .sort(CUSTOMER, DAY, ARTICLE).collect())


def article_categories(articles: pl.DataFrame, sold: pl.Series, settings: NegativeSettings) -> pl.DataFrame:
    """article_id, category label, its code, and whether it fell back, for the ``sold`` articles.

    A ``settings.category`` value with fewer than ``min_category_articles`` sold articles is replaced
    by the article's ``fallback_category`` value (which may be small too: it is kept).
    """
    fine, coarse = settings.category, settings.fallback_category

    def label(column: str) -> pl.Expr:
        return pl.concat_str(pl.lit(f"{column}="), pl.col(column).cast(pl.Utf8).fill_null("(missing)"))

    small = pl.len().over(fine) < settings.min_category_articles
    columns = dict.fromkeys((ARTICLE, fine, coarse))  # the two columns may be one
    table = articles.select(*columns).filter(pl.col(ARTICLE).is_in(sold.implode()))
    return (table.select(ARTICLE, pl.when(small).then(label(coarse)).otherwise(label(fine)).alias(CATEGORY),
                         small.alias(FALLBACK))
            .with_columns((pl.col(CATEGORY).rank("dense") - 1).cast(pl.Int32).alias(CAT))
            .sort(ARTICLE))


def window_inputs(transactions: pl.DataFrame, articles: pl.DataFrame, cutoff: dt.date,
                  settings: NegativeSettings) -> WindowInputs:
    """The window's positives and the categories of the articles they hold."""
    positives = window_positives(transactions, cutoff, settings.window_days)
    categories = article_categories(articles, positives[ARTICLE].unique(), settings)
    positives = positives.join(categories.select(ARTICLE, CAT), on=ARTICLE, how="left", maintain_order="left")
    return WindowInputs(positives, categories)


def pair_key(customer: pl.Expr, article: pl.Expr) -> pl.Expr:
    """One Int64 per (customer, article) pair (both ids are non-negative Int32)."""
    return customer.cast(pl.Int64) * (1 << 32) + article.cast(pl.Int64)


@dataclass(frozen=True)
class Pools:
    """The two pools, and per positive where its draws come from and how many candidates it has."""

    articles: np.ndarray  # same_category pool: distinct window articles sorted by category
    cat_start: np.ndarray  # per positive: first slot of its category in `articles`
    cat_size: np.ndarray
    day_articles: np.ndarray  # same_day pool: the positives sorted by day, category, customer
    day_start: np.ndarray  # per positive: first slot of its (day, category) in `day_articles`
    day_size: np.ndarray
    own_start: np.ndarray  # per positive: first slot of its customer's own rows in that group
    own_size: np.ndarray
    cat_supply: np.ndarray  # per positive: articles of the category the customer did not buy
    day_supply: np.ndarray  # per positive: other customers' rows of its (day, category)


def build_pools(positives: pl.DataFrame, categories: pl.DataFrame) -> Pools:
    """The pools and each positive's offsets into them; ``positives`` carries a ``cat`` column."""
    pool = categories.sort(CAT, ARTICLE)
    counts = np.bincount(pool[CAT].to_numpy(), minlength=categories.height)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cat = positives[CAT].to_numpy()
    own_in_cat = positives.select(pl.col(ARTICLE).n_unique().over(CUSTOMER, CAT)).to_series().to_numpy()
    group = (positives.with_row_index("i").sort(DAY, CAT, CUSTOMER, ARTICLE).with_row_index("slot")
             .with_columns(day_start=pl.col("slot").min().over(DAY, CAT), day_size=pl.len().over(DAY, CAT),
                           own_start=pl.col("slot").min().over(DAY, CAT, CUSTOMER),
                           own_size=pl.len().over(DAY, CAT, CUSTOMER)))
    by_positive = group.sort("i")
    offsets = {c: by_positive[c].to_numpy().astype(np.int64)
               for c in ("day_start", "day_size", "own_start", "own_size")}
    return Pools(articles=pool[ARTICLE].to_numpy(), cat_start=starts[cat], cat_size=counts[cat],
                 day_articles=group[ARTICLE].to_numpy(), **offsets, cat_supply=counts[cat] - own_in_cat,
                 day_supply=offsets["day_size"] - offsets["own_size"])


def draw(pools: Pools, strategy: str, need: np.ndarray,
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``need[i]`` draws for positive ``i`` (none where its pool is empty): positive indexes, articles."""
    supply = pools.cat_supply if strategy == "same_category" else pools.day_supply
    rep = np.repeat(np.arange(need.size), np.where(supply > 0, need, 0))
    u = rng.random(rep.size)
    if strategy == "same_category":
        slot = pools.cat_start[rep] + (u * pools.cat_size[rep]).astype(np.int64)
        return rep, pools.articles[slot]
    # An offset among the others' rows of the (day, category) group, stepping over the customer's own block.
    offset = (u * pools.day_supply[rep]).astype(np.int64)
    offset += pools.own_size[rep] * (offset >= pools.own_start[rep] - pools.day_start[rep])
    return rep, pools.day_articles[pools.day_start[rep] + offset]


def quotas(n: int, settings: NegativeSettings, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Negatives requested per positive and strategy; each positive asks for ``ratio`` in all."""
    exact = settings.ratio * settings.same_day_share
    same_day = np.floor(exact).astype(np.int64) + (rng.random(n) < exact - np.floor(exact))
    return {"same_category": settings.ratio - same_day, "same_day": same_day}


def sample_negatives(positives: pl.DataFrame, pools: Pools, wanted: dict[str, np.ndarray], rounds: int,
                     rng: np.random.Generator) -> pl.DataFrame:
    """Draw, drop collisions with the window's purchases and repeated pairs, redraw what was lost.

    Returns ``rep`` (the index of the positive a negative was drawn for), customer, article_id, strategy.
    """
    pair = pair_key(pl.col(CUSTOMER), pl.col(ARTICLE))
    bought = positives.select(pair.unique()).to_series().implode()
    customers = positives[CUSTOMER].to_numpy()
    kept = pl.DataFrame(schema={"rep": pl.Int64, CUSTOMER: pl.Int32, ARTICLE: pl.Int32,
                                STRATEGY: STRATEGY_TYPE})
    need = dict(wanted)
    for round_no in range(1 + rounds):
        batches = [_batch(strategy, *draw(pools, strategy, need[strategy], rng), customers)
                   for strategy in NEGATIVE_STRATEGIES if need[strategy].any()]
        if not batches:
            break
        new = pl.concat(batches).filter(~pair.is_in(bought))
        kept = pl.concat([kept, new]).filter(pair.is_first_distinct())
        need = {s: wanted[s] - _count(kept, s, positives.height) for s in NEGATIVE_STRATEGIES}
        log.info("negatives: round %d drew %d, kept %d, still missing %d", round_no + 1,
                 sum(b.height for b in batches), kept.height, sum(int(v.sum()) for v in need.values()))
    return kept


def _batch(strategy: str, rep: np.ndarray, articles: np.ndarray, customers: np.ndarray) -> pl.DataFrame:
    frame = pl.DataFrame({"rep": rep, CUSTOMER: customers[rep], ARTICLE: articles.astype(np.int32)})
    return frame.with_columns(pl.lit(strategy, STRATEGY_TYPE).alias(STRATEGY))


def _count(kept: pl.DataFrame, strategy: str, n: int) -> np.ndarray:
    """Negatives kept per positive for one strategy."""
    return np.bincount(kept.filter(pl.col(STRATEGY) == strategy)["rep"].to_numpy(), minlength=n)


def assemble(positives: pl.DataFrame, negatives: pl.DataFrame) -> pl.DataFrame:
    """Positives and negatives as one :data:`PAIR_SCHEMA` frame sorted by customer, day, strategy, article."""
    negative_rows = negatives.select(CUSTOMER, ARTICLE, pl.lit(0, pl.Int8).alias(LABEL), STRATEGY,
                                     positives[DAY].gather(negatives["rep"]))
    positive_rows = positives.select(CUSTOMER, ARTICLE, pl.lit(1, pl.Int8).alias(LABEL),
                                     pl.lit("positive", STRATEGY_TYPE).alias(STRATEGY), DAY)
    return pl.concat([positive_rows, negative_rows]).sort(CUSTOMER, DAY, STRATEGY, ARTICLE)


def draw_pairs(inputs: WindowInputs, cutoff: dt.date, settings: NegativeSettings,
               seed: int) -> tuple[pl.DataFrame, NegativeReport]:
    """The labelled pairs (:data:`PAIR_SCHEMA`) of prepared inputs, and their report."""
    positives, categories = inputs.positives, inputs.categories
    rng = np.random.default_rng(seed)
    wanted = quotas(positives.height, settings, rng)
    log.info("negatives: %d positives of %d customers, %d articles in %d categories; drawing %d negatives",
             positives.height, positives[CUSTOMER].n_unique(), categories.height, categories[CAT].n_unique(),
             settings.ratio * positives.height)
    pools = build_pools(positives, categories)
    negatives = sample_negatives(positives, pools, wanted, settings.top_up_rounds, rng)
    return assemble(positives, negatives), _report(inputs, negatives, wanted, cutoff, settings)


def sample_pairs(transactions: pl.DataFrame, articles: pl.DataFrame, cutoff: dt.date,
                 settings: NegativeSettings, seed: int) -> tuple[pl.DataFrame, NegativeReport]:
    """The labelled pairs of the window before ``cutoff`` (:data:`PAIR_SCHEMA`) and their report."""
    return draw_pairs(window_inputs(transactions, articles, cutoff, settings), cutoff, settings, seed)


def _report(inputs: WindowInputs, negatives: pl.DataFrame, wanted: dict[str, np.ndarray], cutoff: dt.date,
            settings: NegativeSettings) -> NegativeReport:
    positives, categories = inputs.positives, inputs.categories
    got = {s: _count(negatives, s, positives.height) for s in NEGATIVE_STRATEGIES}
    requested = {s: int(wanted[s].sum()) for s in NEGATIVE_STRATEGIES}
    produced = {s: int(got[s].sum()) for s in NEGATIVE_STRATEGIES}
    per_positive = sum(got.values(), np.zeros(positives.height, dtype=np.int64))
    return NegativeReport(
        cutoff=cutoff, window_start=cutoff - dt.timedelta(days=settings.window_days),
        positives=positives.height, customers=positives[CUSTOMER].n_unique(), articles=categories.height,
        categories=categories[CAT].n_unique(), fallback_articles=int(categories[FALLBACK].sum()),
        requested=requested, negatives=produced, shortfall={s: requested[s] - produced[s] for s in requested},
        positives_short=int((per_positive < settings.ratio).sum()),
    )
