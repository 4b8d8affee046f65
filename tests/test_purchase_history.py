"""The customer tower's purchase histories: dated, so that neither training nor scoring sees a purchase
from on or after the day it stands for; and what they change in the model."""
from __future__ import annotations

import datetime as dt

import keras
import numpy as np
import polars as pl
import pytest

from hm_lib import schema
from hm_lib.ensemble.scorer import MemberTables, RelevanceScorer
from hm_lib.image_model import ImageModelSettings, build_model, model_tables
from hm_lib.image_model import model as model_module
from hm_lib.image_model.history import (
    history_start,
    purchase_history,
    scoring_histories,
    with_purchase_history,
)
from hm_lib.image_model.scoring import ImageRelevanceModel

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
D = dt.date(2020, 9, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_history_is_the_last_distinct_articles_before_the_date() -> None:
    tx = pl.DataFrame({"t_dat": [day(0), day(1), day(1), day(2), day(3), day(5), day(0)],
                       schema.CUSTOMER: [0, 0, 0, 0, 0, 0, 2],
                       schema.ARTICLE: [10, 20, 30, 10, 40, 50, 30]},
                      schema_overrides={schema.CUSTOMER: pl.Int32, schema.ARTICLE: pl.Int32})
    ids = np.array([10, 20, 30, 40, 50])
    history = purchase_history(tx, ids, 3, before=day(5), length=3)
    # customer 0: 40 (day 3), 10 (again on day 2), then 20 / 30 of day 1 (ties by article id); 50 is on the date
    assert history.tolist() == [[3, 0, 1], [-1, -1, -1], [2, -1, -1]]
    assert history.dtype == np.int32
    assert purchase_history(tx, ids, 3, before=day(0), length=3).tolist() == [[-1] * 3] * 3
    assert purchase_history(tx, ids, 3, before=day(9), length=1)[:, 0].tolist() == [4, -1, 2]
    pairs = pl.DataFrame({"day": [day(4), day(2)]})
    assert history_start(pairs) == day(2)
    with pytest.raises(ValueError, match="no training pairs"):
        history_start(pairs.head(0))


@pytest.fixture(scope="module")
def tables(tiny_data):
    settings = ImageModelSettings.for_scale("tiny")
    base = model_tables(tiny_data.articles, tiny_data.customers, settings.article_attributes,
                        settings.customer_attributes)
    return settings, with_purchase_history(base, tiny_data.transactions, tiny_data.end_date, settings)


def test_the_history_moves_a_customer_vector_and_an_empty_history_adds_nothing(tables, tiny_data) -> None:
    settings, t = tables
    assert t.history.shape == (tiny_data.customers.height, settings.history_length)
    assert t.history_image is None  # no image features given: ids and attributes only
    model = build_model("no_image", settings, t)
    model.history_dense.set_weights([w + 0.1 for w in model.history_dense.get_weights()])  # not a fresh layer
    scorer = ImageRelevanceModel(model, settings, t.article_ids, None)
    with_history = np.flatnonzero((t.history >= 0).any(axis=1))[:50]
    own = scorer.customer_table(with_history)
    empty = scorer.customer_table_at(with_history, np.full_like(t.history, -1))
    other = scorer.customer_table_at(with_history, np.roll(t.history, 1, axis=0))
    np.testing.assert_array_equal(scorer.customer_table(with_history), own)  # the model kept its own
    moved = np.abs(own - empty).max(axis=1)
    assert (moved > 0).all()
    assert (np.abs(other - own).max(axis=1) > 0).mean() > 0.9
    without = build_model("no_image", settings.replace(history_length=0), t.with_history(None))
    for layer in ("customer_embedding", "customer_bias", "customer_attribute_0"):
        without.get_layer(layer).set_weights(model.get_layer(layer).get_weights())
    plain = ImageRelevanceModel(without, settings, t.article_ids, None).customer_table(with_history)
    np.testing.assert_allclose(empty, plain, atol=1e-6)


def test_scoring_histories_feed_the_saved_scorer(tables, tiny_data) -> None:
    settings, t = tables
    early = with_purchase_history(t, tiny_data.transactions, tiny_data.end_date - dt.timedelta(days=21), settings)
    late = scoring_histories(early, tiny_data.transactions, tiny_data.end_date)
    np.testing.assert_array_equal(late, t.history)
    assert (late != early.history).any()
    model = build_model("no_image", settings, early)
    model.history_dense.set_weights([w + 0.1 for w in model.history_dense.get_weights()])
    member = MemberTables.of(ImageRelevanceModel(model, settings, early.article_ids, None), late)
    every = np.arange(early.n_customers, dtype=np.int32)
    scorer = ImageRelevanceModel(model, settings, early.article_ids, None)
    np.testing.assert_array_equal(member.customers, scorer.customer_table(every).astype(np.float16))
    np.testing.assert_array_equal(member.scoring_customers, scorer.customer_table_at(every, late).astype(np.float16))
    stacked = RelevanceScorer.from_members(early.article_ids, [member], np.ones(1), 0.0)
    np.testing.assert_array_equal(stacked.customers[0], member.scoring_customers)
    assert scoring_histories(early.with_history(None), tiny_data.transactions, tiny_data.end_date) is None


@pytest.mark.parametrize("table_articles", [10**9, 0], ids=["catalogue-table", "row-by-row"])
def test_history_vector_is_the_projected_mean_of_the_history_items(tables, monkeypatch, table_articles) -> None:
    """The customer tower's history part, computed by hand from the layers' weights, by either lookup."""
    monkeypatch.setattr(model_module, "HISTORY_TABLE_ARTICLES", table_articles)
    settings, t = tables
    model = build_model("no_image", settings, t)
    model.history_dense.set_weights([w + 0.1 for w in model.history_dense.get_weights()])
    customers = np.flatnonzero((t.history >= 0).any(axis=1))[:20].astype(np.int32)
    customers[-1] = np.flatnonzero((t.history < 0).all(axis=1))[0]  # one without a history
    weights = {w.path.split("/", 1)[-1]: np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights}
    items = np.hstack([weights["article_embedding/embeddings"],
                       sum(weights[f"article_attribute_{i}/embeddings"][t.article_codes[:, i]]
                           for i in range(t.article_codes.shape[1]))])
    expected = []
    for c in customers:
        bought = t.history[c][t.history[c] >= 0]
        if bought.size == 0:
            expected.append(np.zeros(settings.k + 1))
            continue
        expected.append(items[bought].mean(axis=0) @ weights["history_vector/kernel"] + weights["history_vector/bias"])
    got = keras.ops.convert_to_numpy(model.history_vectors(customers))
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-4, atol=1e-5)


def test_customer_table_is_the_towers_output_and_each_row_its_own(tables) -> None:
    """The table's history part (projected items, summed in numpy) is the tower's, and a customer's row does not
    depend on which other customers it is computed with."""
    settings, t = tables
    model = build_model("no_image", settings.replace(customer_ids=False), t)
    model.history_dense.set_weights([w + 0.1 for w in model.history_dense.get_weights()])
    scorer = ImageRelevanceModel(model, settings, t.article_ids, None)
    every = np.arange(t.history.shape[0], dtype=np.int32)
    table = scorer.customer_table(every)
    tower = keras.ops.convert_to_numpy(model.customer_vectors(every))
    np.testing.assert_allclose(table, tower, rtol=1e-5, atol=1e-6)
    assert np.abs(table[:, :-1]).max() > 0.01  # the history part is there
    some = np.random.default_rng(0).permutation(every)[:37]
    np.testing.assert_array_equal(scorer.customer_table(some), table[some])


def test_both_history_lookups_give_the_same_rows(tables) -> None:
    settings, t = tables
    model = build_model("no_image", settings, t)
    articles = np.maximum(t.history[:50], 0)
    by_table, by_rows = (keras.ops.convert_to_numpy(model.history_item_rows(articles, flag)) for flag in (True, False))
    assert by_table.shape == (*articles.shape, 2 * settings.id_dim)
    np.testing.assert_array_equal(by_table, by_rows)


def test_without_customer_ids_a_customer_is_their_attributes_and_history(tables) -> None:
    settings, t = tables
    model = build_model("no_image", settings.replace(customer_ids=False), t)
    names = {w.path.split("/")[1] for w in model.weights if w.trainable}
    assert not {"customer_embedding", "customer_bias"} & names and "history_vector" in names
    model.history_dense.set_weights([w + 0.1 for w in model.history_dense.get_weights()])
    scorer = ImageRelevanceModel(model, settings, t.article_ids, None)
    # customers 0 and 1 given customer 0's attribute codes and history: the same vector
    codes, history = t.customer_codes.copy(), t.history.copy()
    codes[1], history[1] = codes[0], history[0]
    model.set_tables(codes, t.article_codes)
    table = scorer.customer_table_at(np.array([0, 1]), history)
    np.testing.assert_array_equal(table[0], table[1])
    with_ids = build_model("no_image", settings, t)
    with_ids.set_tables(codes, t.article_codes)
    ids_table = ImageRelevanceModel(with_ids, settings, t.article_ids, None).customer_table_at(np.array([0, 1]),
                                                                                                history)
    assert not np.array_equal(ids_table[0], ids_table[1])  # their own rows set them apart
