"""Week-by-week simulation of purchases, vectorised over customers and items.

For every week: which customers shop (intensity x season x life time), how many baskets and
items; each item is drawn from the customer's taste topics x the week's popularity, or from
the customer's own recent purchases (repurchase), or as a partner of the previous item of
the basket (bought together). The only Python loops are over weeks and basket positions.

The same mixture, evaluated rather than sampled, gives the oracle (`hm_lib.synthetic.truth`).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hm_lib.progress import bar
from hm_lib.synthetic.calendar import Calendar
from hm_lib.synthetic.catalogue import PRICE_SCALE_SEK, Catalogue
from hm_lib.synthetic.knobs import Knobs
from hm_lib.synthetic.population import Population

HISTORY_WEEKS = 12          # repurchase looks this many weeks back
EXTRA_BASKETS = 0.15        # mean number of extra baskets in an active week
BASKET_R = 0.45              # negative-binomial shape of basket sizes
BASKET_MEAN_EXTRA = 1.9     # mean items beyond the first, times the customer's basket scale
MAX_BASKET = 40
EXTRA_COPY = 0.15           # chance that a multi-unit purchase has a third unit
WEEKDAY = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 0.9])


@dataclass
class World:
    """Everything drawn before the simulation, needed to simulate and to compute the oracle."""

    cal: Calendar
    knobs: Knobs
    cat: Catalogue
    pop: Population
    popularity: np.ndarray      # (weeks + 1, A)
    activity_curve: np.ndarray  # (weeks + 1,)
    topic_affinity: np.ndarray  # (K, A)
    cust_topics: np.ndarray     # (n, m) int
    cust_weights: np.ndarray    # (n, m) float
    partners: sp.csr_matrix     # (A, A) row-stochastic
    siblings: sp.csr_matrix     # (A, A) row-stochastic, other colours of the product code
    rate_scale: float = 1.0

    def expected_items(self) -> np.ndarray:
        """Expected items per active week of each customer."""
        return (1 + EXTRA_BASKETS) * (1 + BASKET_MEAN_EXTRA * self.pop.basket_scale)



def partner_share(knobs: Knobs, basket_scale: np.ndarray) -> np.ndarray:
    """Expected share of a customer's items drawn as partners (positions after the first, x the knob)."""
    return knobs.basket_partner * (1 - 1 / (1 + BASKET_MEAN_EXTRA * basket_scale))


def topic_choice(popularity: np.ndarray, affinity: np.ndarray) -> np.ndarray:
    """(K, A) choice probabilities of each taste topic given a week's popularity (rows sum to 1)."""
    weights = popularity[None, :] * np.exp(affinity - affinity.max())
    sums = weights.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1.0
    return (weights / sums).astype(np.float64)


def history_matrix(weekly: deque, n: int, a: int, knobs: Knobs) -> sp.csr_matrix:
    """Recency-weighted history: sum over the last weeks of decay**age x purchase indicator."""
    if knobs.repurchase_half_life_weeks <= 0 or not weekly:
        return sp.csr_matrix((n, a), dtype=np.float64)
    decay = 0.5 ** (1.0 / knobs.repurchase_half_life_weeks)
    h = sp.csr_matrix((n, a), dtype=np.float64)
    for age, x in enumerate(reversed(weekly)):
        h = h + x * decay ** age
    return h.tocsr()


def weekly_purchases(cust: np.ndarray, art: np.ndarray, n: int, a: int) -> sp.csr_matrix:
    """Indicator matrix of distinct (customer, article) purchases."""
    m = sp.csr_matrix((np.ones(cust.size), (cust, art)), shape=(n, a))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _sample_rows(m: sp.csr_matrix, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One column per requested row, drawn in proportion to the row's values (row must be non-empty)."""
    cum = np.cumsum(m.data)
    before = np.concatenate([[0.0], cum])[m.indptr[rows]]
    total = before + (np.concatenate([[0.0], cum])[m.indptr[rows + 1]] - before) * u
    pos = np.minimum(np.searchsorted(cum, total, side="right"), m.indptr[rows + 1] - 1)
    return m.indices[pos]


def calibrate_rate(world: World, target_rows: float, rng: np.random.Generator) -> float:
    """Scale of weekly intensity so that the expected number of rows is `target_rows`."""
    pop = world.pop
    n = pop.size
    sample = rng.choice(n, size=min(n, 20_000), replace=False)
    weeks = world.cal.weeks
    w = np.arange(weeks)[None, :]
    alive = (pop.join_week[sample, None] <= w) & (w < pop.leave_week[sample, None])
    base = pop.activity[sample, None] * world.activity_curve[None, :weeks] * alive
    items = world.expected_items()[sample, None] * (1 + world.knobs.quantity * (1 + EXTRA_COPY))

    first = pop.first_week[sample]
    forced = (first >= 0)[:, None] & (w == first[:, None])

    def rows(scale: float) -> float:
        p_active = np.where(forced, 1.0, 1 - np.exp(-scale * base))
        return float((p_active * items).sum() * n / sample.size)

    lo, hi = 1e-6, 50.0
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if rows(mid) < target_rows else (lo, mid)
    return float(np.sqrt(lo * hi))


def simulate_week(world: World, w: int, history: sp.csr_matrix, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """All purchase rows of week w: day index, customer, article position, price, channel."""
    pop, cat, knobs = world.pop, world.cat, world.knobs
    n, a = pop.size, cat.size
    alive = (pop.join_week <= w) & (w < pop.leave_week)
    rate = world.rate_scale * pop.activity * world.activity_curve[w] * alive
    shoppers = np.flatnonzero((rng.random(n) < 1 - np.exp(-rate)) | (pop.first_week == w))
    # Baskets and their items.
    n_baskets = 1 + rng.poisson(EXTRA_BASKETS, shoppers.size)
    b_cust = np.repeat(shoppers, n_baskets)
    mean_extra = BASKET_MEAN_EXTRA * pop.basket_scale[b_cust]
    size = np.minimum(1 + rng.negative_binomial(BASKET_R, BASKET_R / (BASKET_R + mean_extra)), MAX_BASKET)
    first_day = world.cal.week_start_day(w)
    days = np.arange(first_day, first_day + 7)
    p_day = WEEKDAY * (days >= 0)
    b_day = rng.choice(days, size=b_cust.size, p=p_day / p_day.sum())
    b_channel = np.where(rng.random(b_cust.size) < pop.online[b_cust], 2, 1)
    cust = np.repeat(b_cust, size)
    pos = np.arange(cust.size) - np.repeat(np.cumsum(size) - size, size)
    # Base draw: a topic of the customer, then an article of that topic this week.
    choice = topic_choice(world.popularity[w], world.topic_affinity)
    available = world.popularity[w] > 0
    cum_w = np.cumsum(world.cust_weights[cust], axis=1)
    slot = (rng.random(cust.size)[:, None] * cum_w[:, -1:] > cum_w).sum(axis=1)
    topic = world.cust_topics[cust, np.minimum(slot, cum_w.shape[1] - 1)]
    cdf = np.cumsum(choice, axis=1)
    cdf /= cdf[:, -1:]
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    art = np.searchsorted(flat, topic + rng.random(cust.size) * (1 - 1e-12)) % a
    # Repurchase from the customer's recent history (sometimes another colour of the same code).
    has_hist = np.diff(history.indptr)[cust] > 0
    rep = has_hist & (rng.random(cust.size) < pop.repurchase[cust])
    if rep.any():
        old = _sample_rows(history, cust[rep], rng.random(rep.sum()))
        sib = rng.random(old.size) < knobs.repurchase_sibling
        move = sib & (np.diff(world.siblings.indptr)[old] > 0)
        old[move] = _sample_rows(world.siblings, old[move], rng.random(move.sum()))
        art[np.flatnonzero(rep)[available[old]]] = old[available[old]]
    # Bought together: the next item of a basket follows the previous one.
    if knobs.basket_partner > 0:
        has_partner = np.diff(world.partners.indptr) > 0
        for j in range(1, int(pos.max(initial=0)) + 1):
            idx = np.flatnonzero((pos == j) & (rng.random(cust.size) < knobs.basket_partner))
            prev = art[idx - 1]
            idx, prev = idx[has_partner[prev]], prev[has_partner[prev]]
            nxt = _sample_rows(world.partners, prev, rng.random(idx.size))
            art[idx[available[nxt]]] = nxt[available[nxt]]
    # Quantities: repeated identical rows.
    copies = 1 + (rng.random(cust.size) < knobs.quantity) * (1 + (rng.random(cust.size) < EXTRA_COPY))
    basket_of_item = np.repeat(np.arange(b_cust.size), size)
    take = np.repeat(np.arange(cust.size), copies)
    basket_of_item, cust, art = basket_of_item[take], cust[take], art[take]
    price = _prices(world, w, art, rng)
    return {"day": b_day[basket_of_item].astype(np.int16), "customer": cust.astype(np.int32),
            "article": art.astype(np.int32), "price": price,
            "channel": b_channel[basket_of_item].astype(np.int8)}


def siblings_matrix(cat: Catalogue) -> sp.csr_matrix:
    """(A, A) uniform distribution over the other colours of each article's product code."""
    code = cat.code_pos  # sorted: articles of a code are contiguous
    start = np.searchsorted(code, code, side="left")
    count = np.searchsorted(code, code, side="right") - start
    r = np.repeat(np.arange(code.size), count)
    c = np.repeat(start, count) + (np.arange(r.size) - np.repeat(np.cumsum(count) - count, count))
    keep = r != c
    m = sp.csr_matrix((np.ones(keep.sum()), (r[keep], c[keep])), shape=(code.size, code.size))
    norm = np.asarray(m.sum(axis=1)).ravel()
    norm[norm == 0] = 1
    return sp.csr_matrix(sp.diags(1 / norm) @ m)


def _prices(world: World, w: int, art: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Base price, reduced late in the life cycle and in sale weeks, on the .99 SEK grid."""
    cat = world.cat
    age = w - cat.launch_week[art]
    late = age > 0.6 * cat.life_weeks[art]
    sale = world.activity_curve[w] > np.median(world.activity_curve) * 1.5
    cut = (late & (rng.random(art.size) < 0.5)) | (sale & (rng.random(art.size) < 0.3))
    price = cat.base_price[art] * np.where(cut, rng.uniform(0.5, 0.8, art.size), 1.0)
    return (np.maximum(np.round(price * PRICE_SCALE_SEK), 1) - 0.01) / PRICE_SCALE_SEK


def simulate(world: World, seed: int, progress: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Simulate every data week and the hidden target week. Returns (data rows, target-week rows)."""
    n, a = world.pop.size, world.cat.size
    weeks = world.cal.weeks
    seeds = np.random.SeedSequence([seed, 7]).spawn(weeks + 1)
    weekly: deque = deque(maxlen=HISTORY_WEEKS)
    parts = []
    for w in bar(range(weeks + 1), desc="simulating weeks", disable=not progress):
        history = history_matrix(weekly, n, a, world.knobs)
        rows = simulate_week(world, w, history, np.random.default_rng(seeds[w]))
        weekly.append(weekly_purchases(rows["customer"], rows["article"], n, a))
        parts.append(rows)
    data = {k: np.concatenate([p[k] for p in parts[:-1]]) for k in parts[0]}
    keep = data["day"] >= 0
    return {k: v[keep] for k, v in data.items()}, parts[-1]
