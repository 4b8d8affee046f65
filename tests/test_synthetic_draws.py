"""The generator's seed-proof draws: stratified scores, whole-count allocation, the stock limit, partners, life cycles."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp

from hm_lib.synthetic.calendar import Calendar
from hm_lib.synthetic.catalogue import Catalogue, build_catalogue
from hm_lib.synthetic.draws import allocate, normal_scores
from hm_lib.synthetic.knobs import Knobs
from hm_lib.synthetic.simulate import topic_choice
from hm_lib.synthetic.tastes import CLEARANCE_WEEKS, limit_stock, weekly_popularity


def test_normal_scores_give_every_seed_and_row_the_same_values() -> None:
    a = normal_scores(np.random.default_rng(1), 5, 200)
    b = normal_scores(np.random.default_rng(2), 5, 200)
    assert not np.array_equal(a, b)  # the seed decides the order ...
    for row in (*a, *b):  # ... and nothing else
        np.testing.assert_array_equal(np.sort(row), np.sort(a[0]))
    assert abs(a[0].mean()) < 1e-12 and a[0].std() == pytest.approx(1.0, abs=0.01)


def test_allocate_is_proportional_whole_and_leaves_nobody_out() -> None:
    counts = allocate(np.array([0.34, 0.26, 0.16, 0.18, 0.06]), 32)
    assert counts.sum() == 32 and counts.tolist() == [11, 8, 5, 6, 2]
    assert allocate(np.array([0.97, 0.01, 0.01, 0.01]), 8).tolist() == [5, 1, 1, 1]
    assert allocate(np.array([1.0, 1.0]), 5).sum() == 5


def test_limit_stock_holds_each_article_to_the_cap_and_keeps_the_order() -> None:
    rng = np.random.default_rng(0)
    weeks, k, a = 3, 6, 400
    popularity = rng.lognormal(0, 2.0, (weeks, a)).astype(np.float32)
    popularity[:, :50] = 0.0  # not on sale
    affinity = rng.normal(0, 1.5, (k, a)).astype(np.float32)
    mass = rng.random(k)

    def shares(pop: np.ndarray) -> np.ndarray:
        return (mass / mass.sum()) @ topic_choice(pop, affinity)

    capped = limit_stock(popularity, affinity, mass, cap=0.02)  # above four even shares (4 / 350)
    for w in range(weeks):
        before, after = shares(popularity[w]), shares(capped[w])
        assert before.max() > 0.05 and after.max() <= 0.02 * (1 + 1e-5)
        assert np.all(capped[w] <= popularity[w]) and np.all((capped[w] > 0) == (popularity[w] > 0))
        small = before < 0.01  # articles far from the cap only gain what the capped ones gave up
        assert np.all(after[small] >= before[small])
    assert limit_stock(popularity, affinity, mass, cap=1.0) is popularity


def test_limit_stock_cannot_ask_for_less_than_four_even_shares() -> None:
    popularity = np.array([[50.0, 1, 1, 1, 1, 1, 1, 1, 0]], dtype=np.float32)  # 8 articles on sale
    capped = limit_stock(popularity, np.zeros((1, 9), dtype=np.float32), np.ones(1), cap=0.01)
    assert capped[0, 0] / capped[0].sum() == pytest.approx(4 / 8, rel=1e-4)
    np.testing.assert_array_equal(capped[0, 1:], popularity[0, 1:])


def test_no_article_is_everyone_s_outfit_partner(small_world) -> None:
    from hm_lib.synthetic import load_truth

    partners = load_truth(small_world.truth).partners
    weight_in = np.asarray(sp.csr_matrix(partners).sum(axis=0)).ravel()
    # every row sums to 1, so an even spread gives each article about 1; before the partners were shared
    # out by launch quantile, articles at the end of a small group's launch order took 13-16
    assert np.median(weight_in[weight_in > 0]) == pytest.approx(1.0, abs=0.1)
    assert weight_in.max() < 8, np.sort(weight_in)[-10:]


def _life_cycles(**knobs: float) -> tuple[Catalogue, np.ndarray]:
    cal = Calendar(dt.date(2020, 9, 22))
    cat = build_catalogue(np.random.default_rng(3), 2_000, cal.weeks, Knobs(**knobs))
    return cat, weekly_popularity(np.random.default_rng(4), cat, cal, Knobs(**knobs))


def test_an_article_sells_on_sporadically_after_its_main_life() -> None:
    cat, pop = _life_cycles(clearance=0.05)
    age = np.arange(pop.shape[0])[:, None] - cat.launch_week[None, :]
    life = cat.life_weeks[None, :]
    end = life + np.maximum(life, CLEARANCE_WEEKS)
    tail = (age >= life) & (age < end)
    assert tail.any() and np.all(pop[tail] > 0) and np.all(pop[age >= end] == 0)
    # the tail's level is the catalogue's (a low rate for every article), not the article's own popularity
    level = np.median(cat.base_pop) * 0.05
    ratio = (pop / level)[tail]
    assert 0.1 < np.median(ratio) < 10 and np.quantile(ratio, 0.99) < 50
    _, without = _life_cycles(clearance=0.0)
    assert np.all(without[tail] == 0)
