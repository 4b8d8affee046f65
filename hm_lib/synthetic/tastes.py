"""Latent structure linking customers and articles: taste topics, weekly popularity, partners.

- Topics: each of K taste groups has an audience (women, young, men, kids' parents, sport),
  an age centre and affinities for product types, colours, graphical appearances, price level
  and the hidden image style. A customer mixes a few topics chosen by age, so customers who
  share topics share tastes.
- Popularity: article base popularity x life cycle (then a sporadic clearance tail) x yearly season x
  weekly noise.
- Partners: articles bought together: other colours of the same product code (siblings)
  and outfit complements of the same index launched at about the same time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hm_lib.synthetic import vocab
from hm_lib.synthetic.calendar import Calendar
from hm_lib.synthetic.catalogue import Catalogue
from hm_lib.synthetic.draws import allocate, normal_scores
from hm_lib.synthetic.images import N_STYLES
from hm_lib.synthetic.knobs import Knobs

AUDIENCES = ("women", "young", "men", "kids", "sport")
AUDIENCE_SHARE = np.array([0.34, 0.26, 0.16, 0.18, 0.06])
AUDIENCE_AGE = np.array([46.0, 23.0, 36.0, 36.0, 30.0])
AUDIENCE_AGE_SD = np.array([10.0, 3.5, 11.0, 7.0, 9.0])
# Which product groups complete an outfit with which.
OUTFIT = {
    "Garment Upper body": ("Garment Lower body", "Accessories", "Shoes"),
    "Garment Lower body": ("Garment Upper body", "Shoes"),
    "Garment Full body": ("Accessories", "Shoes", "Socks & Tights"),
    "Swimwear": ("Swimwear", "Accessories"),
    "Underwear": ("Underwear", "Socks & Tights"),
    "Nightwear": ("Nightwear",),
    "Shoes": ("Garment Lower body", "Socks & Tights"),
    "Accessories": ("Garment Upper body", "Accessories"),
    "Socks & Tights": ("Garment Full body", "Garment Lower body"),
}
PARTNER_SHARE = 3  # the most articles of a group that take one article as their outfit partner
CLEARANCE_WEEKS = 26  # the shortest clearance: half a year of leftover stock sold online


@dataclass
class Topics:
    audience: np.ndarray   # (K,) int, position in AUDIENCES
    affinity: np.ndarray   # (K, A) float32, log-multiplier of an article's choice probability


def build_topics(rng: np.random.Generator, cat: Catalogue, knobs: Knobs) -> Topics:
    k = max(1, int(knobs.topics))
    # Topics per audience in proportion to its share (every audience has one where k allows).
    audience = np.repeat(np.arange(len(AUDIENCES)), allocate(AUDIENCE_SHARE, k))
    t = cat.table
    index_aud = np.array([AUDIENCES.index(ix.audience) for ix in vocab.INDEXES])[t["_index"].to_numpy()]
    same = (audience[:, None] == index_aud[None, :]).astype(np.float32)
    near = ((audience[:, None] == 0) & (index_aud[None, :] == 1)) | ((audience[:, None] == 1) & (index_aud[None, :] == 0))
    aff = 2.0 * same + 0.8 * near - 1.0
    master = t["perceived_colour_master_id"].to_numpy()
    _, master_pos = np.unique(master, return_inverse=True)
    log_price = np.log(cat.base_price)
    z_price = (log_price - log_price.mean()) / (log_price.std() + 1e-9)
    # Each topic's liking of the levels of an attribute: the same spread in every topic and seed.
    for levels, sd in ((t["_type"].to_numpy(), 0.7), (master_pos, 0.5), (t["_graph"].to_numpy(), 0.4)):
        theta = (sd * normal_scores(rng, k, levels.max() + 1)).astype(np.float32)
        aff += theta[:, levels]
    aff += 0.5 * normal_scores(rng, 1, k).T * z_price[None, :]
    aff *= knobs.taste_strength
    aff += knobs.style_strength * normal_scores(rng, k, N_STYLES)[:, cat.style]
    return Topics(audience=audience, affinity=aff.astype(np.float32))


def customer_topics(rng: np.random.Generator, age: np.ndarray, topics: Topics, knobs: Knobs
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(n, m) topic ids and weights per customer; topics chosen by age (knob age_taste)."""
    n, m = age.size, max(1, int(knobs.topics_per_customer))
    k = topics.audience.size
    aud = topics.audience
    # log P(topic | age) up to a constant: audience share x age fit of the audience.
    z = (age[:, None] - AUDIENCE_AGE[aud][None, :]) / AUDIENCE_AGE_SD[aud][None, :]
    logp = np.log(AUDIENCE_SHARE[aud])[None, :] - 0.5 * knobs.age_taste * z ** 2
    ids = np.empty((n, m), dtype=np.int32)
    for j in range(m):  # Gumbel-max draws, one per slot
        ids[:, j] = np.argmax(logp + rng.gumbel(size=(n, k)), axis=1)
    weights = rng.dirichlet(np.linspace(3.0, 1.0, m), size=n).astype(np.float32)
    weights = -np.sort(-weights, axis=1)
    return ids, weights


def weekly_popularity(rng: np.random.Generator, cat: Catalogue, cal: Calendar, knobs: Knobs) -> np.ndarray:
    """(weeks + 1, A) float32 popularity of each article in each data week and the target week."""
    weeks = cal.weeks + 1
    w = np.arange(weeks)[:, None]
    age = w - cat.launch_week[None, :]
    life = cat.life_weeks[None, :]
    # After its main life an article sells on from the stock left (clearance) for as long again, at least
    # CLEARANCE_WEEKS, at `clearance` of the catalogue's median popularity whatever its own: the sporadic
    # sales of the real catalogue's long tail.
    main = (age >= 0) & (age < life)
    alive = main | ((age >= life) & (age < life + np.maximum(life, CLEARANCE_WEEKS)) & (knobs.clearance > 0))
    ramp = np.minimum(1.0, (age + 1) / 2.0)
    tail = knobs.clearance * np.median(cat.base_pop) / cat.base_pop[None, :]
    decay = np.where(main, np.exp(-np.maximum(age, 0) / np.maximum(life * 0.6, 1.0)), tail)
    woy = np.array([cal.week_of_year(i) for i in range(weeks)])[:, None]
    # Summer types peak late June, winter types early January.
    summer = np.cos(2 * np.pi * (woy - 0.48))
    season = np.exp(knobs.seasonality * 1.2 * cat.seasonal[None, :] * summer)
    noise = rng.lognormal(0, 0.25, (weeks, cat.size))
    pop = np.where(alive, cat.base_pop[None, :] * ramp * decay * season * noise, 0.0)
    return pop.astype(np.float32)


def limit_stock(popularity: np.ndarray, affinity: np.ndarray, topic_mass: np.ndarray, cap: float) -> np.ndarray:
    """The weekly popularity with each article's share of a week's purchases held to at most `cap`.

    A best-seller's stock runs out: where the taste groups' choice (`topic_mass`-weighted) would give
    an article more than `cap` of the week, its popularity is lowered until it takes `cap`. A week with
    too few articles on sale for the cap is held to four times an even share instead.
    """
    if cap >= 1:
        return popularity
    out = popularity.astype(np.float64)
    mass = topic_mass / topic_mass.sum()
    taste = np.exp(affinity - affinity.max()).astype(np.float64)
    for w in range(out.shape[0]):
        limit = max(cap, 4 / max(int((out[w] > 0).sum()), 1))
        for _ in range(20):  # lowering some articles lifts the others a little: repeat until none is over
            weights = out[w][None, :] * taste
            totals = weights.sum(axis=1, keepdims=True)
            over = np.flatnonzero(mass @ (weights / np.where(totals > 0, totals, 1.0)) > limit * (1 + 1e-6))
            if over.size == 0:
                break
            x = weights[:, over]
            rest = totals - x
            lo, hi = np.zeros(over.size), np.ones(over.size)
            for _ in range(50):  # bisection on each article's scale: its share rises with it
                mid = (lo + hi) / 2
                share = mass @ (mid * x / (mid * x + rest))
                lo, hi = np.where(share > limit, lo, mid), np.where(share > limit, mid, hi)
            out[w, over] *= lo
    return out.astype(popularity.dtype)


def build_partners(rng: np.random.Generator, cat: Catalogue) -> sp.csr_matrix:
    """(A, A) row-stochastic matrix: the chance that article j follows article i in a basket."""
    t = cat.table
    n = cat.size
    rows, cols, vals = [], [], []
    # Siblings: other colours of the same product code.
    code = cat.code_pos
    start = np.searchsorted(code, code, side="left")
    count = np.searchsorted(code, code, side="right") - start
    has_sib = count > 1
    for _ in range(2):
        off = rng.integers(1, np.maximum(count, 2))
        sib = start + (np.arange(n) - start + off) % np.maximum(count, 1)
        rows.append(np.flatnonzero(has_sib))
        cols.append(sib[has_sib])
        vals.append(np.full(has_sib.sum(), 0.4))
    # Outfits: complementary product group, same index, launched near the same week.
    group = t["product_group_name"].to_numpy()
    index = t["_index"].to_numpy()
    for g, comps in OUTFIT.items():
        for comp in comps:
            for ix in np.unique(index):
                src = np.flatnonzero((group == g) & (index == ix))
                dst = np.flatnonzero((group == comp) & (index == ix))
                if src.size == 0 or dst.size == 0:
                    continue
                # The same launch quantile in both groups (about the same launch week), each partner
                # shared by at most PARTNER_SHARE articles: a small group completes only some outfits.
                dst = dst[np.lexsort((rng.random(dst.size), cat.launch_week[dst]))]
                rank = np.empty(src.size, dtype=np.int64)
                rank[np.lexsort((rng.random(src.size), cat.launch_week[src]))] = np.arange(src.size)
                pick = ((rank + rng.random(src.size)) * (dst.size / src.size)).astype(np.int64)
                ok = (dst[pick] != src) & (rng.random(src.size) < PARTNER_SHARE * dst.size / src.size)
                rows.append(src[ok])
                cols.append(dst[pick][ok])
                vals.append(np.full(ok.sum(), 1.0 / len(comps)))
    m = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    m.sum_duplicates()
    norm = np.asarray(m.sum(axis=1)).ravel()
    norm[norm == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norm) @ m)


def activity_curve(rng: np.random.Generator, cal: Calendar, knobs: Knobs) -> np.ndarray:
    """(weeks + 1,) overall activity multiplier: June peak, December low, sale spikes, noise."""
    weeks = cal.weeks + 1
    woy = np.array([cal.week_of_year(i) for i in range(weeks)])
    curve = np.exp(knobs.activity_seasonality * np.cos(2 * np.pi * (woy - 0.47)))
    sale = (np.abs(woy - 0.49) < 0.012) | (np.abs(woy - 0.905) < 0.01)  # summer sale, Black Friday
    curve *= np.where(sale, 1.0 + 0.9 * knobs.activity_seasonality / 0.35, 1.0)
    trend = np.exp(-0.7 * np.arange(weeks) / weeks)  # a slowly shrinking customer base
    noise = rng.lognormal(0, 0.18, weeks)
    # The last data week and the hidden week, which every score reads, keep the calendar's level:
    # how many (and so which) customers shop then is set by the knobs, not by a seed's noise.
    noise[-2:] = 1.0
    return curve * trend * noise
