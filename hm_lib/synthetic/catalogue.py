"""The synthetic catalogue: product codes, their colour variants, life cycles and prices.

Everything is drawn per product code, then per article, with numpy (no loop per article).
The hidden `style` of a product code is drawn here and recorded only in the ground truth:
the images show it, no metadata column does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.synthetic import vocab
from hm_lib.synthetic.draws import normal_scores
from hm_lib.synthetic.images import N_STYLES
from hm_lib.synthetic.knobs import Knobs

MEAN_ARTICLES_PER_CODE = 2.23
PRICE_MEDIAN = 0.0254  # real median price on the competition's scale
PRICE_SCALE_SEK = 590.0  # prices look like SEK / 590: 29.99 SEK -> 0.0508305...


@dataclass
class Catalogue:
    """Latent and visible attributes of every article, aligned on article position 0..A-1."""

    table: pl.DataFrame          # articles.csv columns (typed) + latent columns
    launch_week: np.ndarray      # int, week index (may be negative: launched before the data)
    life_weeks: np.ndarray       # int, weeks on sale
    base_pop: np.ndarray         # float, relative popularity
    seasonal: np.ndarray         # +1 summer, -1 winter, 0 none
    base_price: np.ndarray       # float64, price on the competition's scale
    style: np.ndarray            # int, hidden visual style
    code_pos: np.ndarray         # int, position of the article's product code (0..codes-1)

    @property
    def size(self) -> int:
        return len(self.launch_week)


def _pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _code_types(rng: np.random.Generator, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and product type of each product code.

    The type is drawn first (its weights give the product groups' real shares of articles),
    then an index among those the type appears in, by index weight.
    """
    types = vocab.PRODUCT_TYPES
    index_codes = [ix.index_code for ix in vocab.INDEXES]
    index_w = np.array([ix.weight for ix in vocab.INDEXES])
    ptype = _pick(rng, np.array([t.weight for t in types]), n_codes)
    index = np.empty(n_codes, dtype=np.int64)
    for t in np.unique(ptype):
        sel = np.flatnonzero(ptype == t)
        w = index_w * np.isin(index_codes, types[t].audiences)
        index[sel] = _pick(rng, w if w.sum() > 0 else index_w, sel.size)
    return index, ptype


def _code_sections(rng: np.random.Generator, index: np.ndarray, ptype: np.ndarray) -> np.ndarray:
    """Section of each code: one of its index's sections that sells the type's product group."""
    group = np.array([t.product_group_name for t in vocab.PRODUCT_TYPES])[ptype]
    section = np.empty(index.size, dtype=np.int64)
    for i, g in sorted({(int(i), str(g)) for i, g in zip(index, group)}):
        code = vocab.INDEXES[i].index_code
        options = [s for s in vocab.SECTIONS if s.index_code == code and g in s.product_groups] or \
                  [s for s in vocab.SECTIONS if s.index_code == code]
        sel = np.flatnonzero((index == i) & (group == g))
        section[sel] = np.array([s.section_no for s in options])[_pick(rng, np.array([s.weight for s in options]), sel.size)]
    return section


def build_catalogue(rng: np.random.Generator, n_articles: int, weeks: int, knobs: Knobs) -> Catalogue:
    """Draw `n_articles` articles over `weeks` data weeks (+ the target week)."""
    # Articles per code: half the codes have one, the others 2 + geometric (mean 2.23 overall);
    # draw more codes than needed and cut at exactly n_articles.
    draw = int(n_articles / MEAN_ARTICLES_PER_CODE * 1.3) + 10
    multi = 1 + rng.geometric(1 / (2 * MEAN_ARTICLES_PER_CODE - 2), draw)
    n_var = np.where(rng.random(draw) < 0.5, 1, multi).clip(1, 75)
    total = np.cumsum(n_var)
    n_codes = int(np.searchsorted(total, n_articles)) + 1
    n_var = n_var[:n_codes]
    n_var[-1] -= total[n_codes - 1] - n_articles
    index, ptype = _code_types(rng, n_codes)
    types = vocab.PRODUCT_TYPES
    season_of_type = np.array([{"summer": 1, "winter": -1}.get(t.season, 0) for t in types])
    price_level = np.array([t.price_level for t in types])
    graph = _pick(rng, np.array([g.weight for g in vocab.GRAPHICAL_APPEARANCES]), n_codes)
    style = rng.integers(0, N_STYLES, n_codes)
    section = _code_sections(rng, index, ptype)

    basics = rng.random(n_codes) < knobs.basics_share
    life = np.where(basics, rng.integers(100, 200, n_codes),
                    np.ceil(knobs.life_weeks_median * rng.lognormal(0, 0.9, n_codes))).astype(np.int64)
    # Launches: ~30% of codes are on sale when the data starts, the rest launch week by week
    # (a few in the hidden target week).
    before = rng.random(n_codes) < 0.3
    launch = np.where(before, -np.floor(rng.random(n_codes) * 0.8 * life).astype(np.int64),
                      rng.integers(0, weeks + 1, n_codes))
    code_pop = np.exp(knobs.popularity_tail * normal_scores(rng, 1, n_codes)[0])  # the same spread every seed
    # Kids' and baby clothes are cheaper; price level of the product type, then code noise.
    audience = np.array([vocab.INDEXES[i].audience for i in index])
    kid_discount = np.where(np.isin(audience, ["kids"]), 0.7, 1.0)
    code_price = PRICE_MEDIAN * price_level[ptype] * kid_discount * rng.lognormal(0, 0.35, n_codes)

    # Expand to articles.
    code_pos = np.repeat(np.arange(n_codes), n_var)
    variant = np.arange(code_pos.size) - np.repeat(np.cumsum(n_var) - n_var, n_var)
    a_season = season_of_type[ptype][code_pos]
    perennial = (a_season != 0) & (rng.random(n_codes) < knobs.perennial_share)[code_pos]
    relaunch = perennial & (variant > 0) & (rng.random(code_pos.size) < 0.5) & (launch[code_pos] + 52 < weeks)
    a_launch = launch[code_pos] + rng.integers(0, 3, code_pos.size) + 52 * relaunch
    # Colours that would come after the hidden week launch in a week of their own instead (piling them
    # into the hidden week made twice the never-sold articles there).
    late = a_launch > weeks
    a_launch[late] = rng.integers(0, weeks + 1, int(late.sum()))
    a_life = np.maximum(1, (life[code_pos] * rng.lognormal(0, 0.2, code_pos.size)).astype(np.int64))
    a_pop = code_pop[code_pos] * rng.lognormal(0, 0.4, code_pos.size)
    colours = _variant_colours(rng, code_pos, variant)
    a_price = code_price[code_pos] * rng.lognormal(0, 0.05, code_pos.size)
    a_price = (np.maximum(np.round(a_price * PRICE_SCALE_SEK), 1) - 0.01) / PRICE_SCALE_SEK

    # Product codes grow with the launch date, as in the real catalogue.
    order = np.argsort(launch + rng.normal(0, 8, n_codes), kind="stable")
    code_numbers = np.empty(n_codes, dtype=np.int64)
    code_numbers[order] = np.sort(rng.choice(np.arange(108_775, 959_462), n_codes, replace=False))
    suffix = 1 + variant + rng.integers(0, 20, n_codes)[code_pos]
    article_id = code_numbers[code_pos] * 1000 + suffix

    table = _visible_table(rng, article_id, code_numbers[code_pos], ptype[code_pos], index[code_pos],
                           section[code_pos], graph[code_pos], colours, knobs)
    return Catalogue(table=table, launch_week=a_launch, life_weeks=a_life, base_pop=a_pop,
                     seasonal=a_season, base_price=a_price, style=style[code_pos], code_pos=code_pos)


def _variant_colours(rng: np.random.Generator, code_pos: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Colour position of each article; variants of one code avoid repeating a colour."""
    weights = np.array([c.weight for c in vocab.COLOURS])
    colour = _pick(rng, weights, code_pos.size)
    for _ in range(4):  # redraw colours that repeat within their product code
        key = code_pos * 1000 + colour
        _, first = np.unique(key, return_index=True)
        dup = np.ones(key.size, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        colour[dup] = _pick(rng, weights, int(dup.sum()))
    return colour


def _visible_table(rng: np.random.Generator, article_id: np.ndarray, product_code: np.ndarray,
                   ptype: np.ndarray, index: np.ndarray, section_no: np.ndarray, graph: np.ndarray,
                   colour: np.ndarray, knobs: Knobs) -> pl.DataFrame:
    """The 25 columns of articles.csv (typed), ordered as in the real file."""
    types = vocab.PRODUCT_TYPES
    gg = {g.garment_group_no: g.garment_group_name for g in vocab.GARMENT_GROUPS}
    sec_name = {s.section_no: s.section_name for s in vocab.SECTIONS}
    t_name = np.array([t.product_type_name for t in types])[ptype]
    t_group = np.array([t.product_group_name for t in types])[ptype]
    g_no = np.array([vocab.garment_group(t, g, i) for t, g, i in zip(
        np.array([t.product_type_no for t in types])[ptype], np.array([g.graphical_appearance_name for g in vocab.GRAPHICAL_APPEARANCES])[graph],
        np.array([i.index_code for i in vocab.INDEXES])[index])])
    combos = {(int(s), str(g), int(n)) for s, g, n in zip(section_no, t_group, g_no)}
    dept = {c: vocab.department(*c) for c in combos}
    dept_no = np.array([dept[(int(s), str(g), int(n))][0] for s, g, n in zip(section_no, t_group, g_no)])
    dept_name = np.array([dept[(int(s), str(g), int(n))][1] for s, g, n in zip(section_no, t_group, g_no)])
    ga = vocab.GRAPHICAL_APPEARANCES
    col = vocab.COLOURS
    ix = vocab.INDEXES
    # Names and descriptions are drawn per product code and shared by its colour variants.
    codes, first = np.unique(product_code, return_index=True)
    where = np.searchsorted(codes, product_code)
    names = np.array(vocab.product_names(rng, t_name[first]), dtype=object)[where]
    descs = np.array(vocab.detail_descs(rng, t_name[first], np.array([col[c].colour_group_name
                                                                       for c in colour[first]]),
                                        np.array([ga[g].graphical_appearance_name for g in graph[first]])),
                     dtype=object)[where]
    descs[rng.random(descs.size) < knobs.missing_desc_share] = None
    return pl.DataFrame({
        "article_id": article_id,
        "product_code": product_code,
        "prod_name": names,
        "product_type_no": np.array([t.product_type_no for t in types])[ptype],
        "product_type_name": t_name,
        "product_group_name": t_group,
        "graphical_appearance_no": np.array([g.graphical_appearance_no for g in ga])[graph],
        "graphical_appearance_name": np.array([g.graphical_appearance_name for g in ga])[graph],
        "colour_group_code": np.array([c.colour_group_code for c in col])[colour],
        "colour_group_name": np.array([c.colour_group_name for c in col])[colour],
        "perceived_colour_value_id": np.array([c.perceived_colour_value_id for c in col])[colour],
        "perceived_colour_value_name": np.array([c.perceived_colour_value_name for c in col])[colour],
        "perceived_colour_master_id": np.array([c.perceived_colour_master_id for c in col])[colour],
        "perceived_colour_master_name": np.array([c.perceived_colour_master_name for c in col])[colour],
        "department_no": dept_no,
        "department_name": dept_name,
        "index_code": np.array([i.index_code for i in ix])[index],
        "index_name": np.array([i.index_name for i in ix])[index],
        "index_group_no": np.array([i.index_group_no for i in ix])[index],
        "index_group_name": np.array([i.index_group_name for i in ix])[index],
        "section_no": section_no,
        "section_name": np.array([sec_name[s] for s in section_no]),
        "garment_group_no": g_no,
        "garment_group_name": np.array([gg[g] for g in g_no]),
        "detail_desc": pl.Series(descs.tolist(), dtype=pl.Utf8),
    }).with_columns(
        # Latent helpers for the simulation and the images (never written to articles.csv).
        pl.Series("_type", ptype), pl.Series("_index", index), pl.Series("_graph", graph),
        pl.Series("_colour", colour),
    )
