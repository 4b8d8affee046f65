"""The ranker contract (hm_lib.ranking.base), once for every ranker: each implementation's test class
inherits :class:`RankerContract`. A small deterministic linear ranker, defined here and registered
as ``ranker__model=linear``, shows that a new ranker is one module and one setting away; hand-made
cases for the frames (labels, positives, top-k, the labelled weeks)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest
from conftest import spawnable_main

from hm_lib import layout, ranking, schema
from hm_lib.cluster import connect, disconnect
from hm_lib.config import Config
from hm_lib.errors import MissingOutputError, SettingError
from hm_lib.io import atomic_path
from hm_lib.ranking import LABEL, Ranker, RankerSettings
from hm_lib.ranking.frames import WEEK, feature_columns, groups, label, top_k, with_positives
from hm_lib.ranking.registry import RANKERS, load_ranker, make_ranker, register, save_ranker

C, A = schema.CUSTOMER, schema.ARTICLE


class LinearRanker(Ranker):
    """Least squares of the label on the standardised features: deterministic, a few lines."""

    name = "linear"

    def __init__(self, settings: RankerSettings, state: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.state = state

    def _fit(self, train: pl.DataFrame, valid: pl.DataFrame | None, columns: list[str]) -> None:
        x = train.select(columns).fill_null(0).to_numpy().astype(np.float64)
        mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-9)
        z = np.column_stack([np.ones(len(x)), (x - mean) / std])
        w = np.linalg.lstsq(z, train[LABEL].to_numpy().astype(np.float64), rcond=None)[0]
        self.state = {"columns": columns, "mean": mean.tolist(), "std": std.tolist(), "w": w.tolist()}

    @property
    def feature_names(self) -> list[str]:
        return list(self.state["columns"])

    def contributions(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = frame.select(self.feature_names).fill_null(0).to_numpy().astype(np.float64)
        w = np.asarray(self.state["w"])
        return np.full(frame.height, w[0]), (x - self.state["mean"]) / self.state["std"] * w[1:]

    def score(self, frame: pl.DataFrame) -> np.ndarray:
        base, parts = self.contributions(frame)
        return base + parts.sum(axis=1)

    def importance(self) -> pl.DataFrame:
        return (pl.DataFrame({"feature": self.feature_names, "gain": np.abs(self.state["w"][1:])})
                .sort("gain", descending=True))

    def summary(self) -> dict[str, Any]:
        return {"weights": len(self.state["w"])}

    def save(self, folder: Path) -> list[Path]:
        path = Path(folder) / "linear.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.state))
        return [path]

    @classmethod
    def load(cls, folder: Path, settings: RankerSettings) -> LinearRanker:
        return cls(settings, json.loads((Path(folder) / "linear.json").read_text()))


@pytest.fixture(autouse=True)
def linear_registered() -> None:
    register(LinearRanker)
    yield
    RANKERS.pop(LinearRanker.name, None)


def frame(customers: int = 60, per: int = 6, seed: int = 0) -> pl.DataFrame:
    """Candidates whose label follows ``signal`` (and a little noise); ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    n = customers * per
    signal = rng.normal(size=n)
    return pl.DataFrame({C: np.repeat(np.arange(customers, dtype=np.int32), per),
                         A: np.tile(np.arange(per, dtype=np.int32), customers) + 100,
                         "signal": signal.astype(np.float32), "noise": rng.normal(size=n).astype(np.float32),
                         LABEL: (signal + 0.3 * rng.normal(size=n) > 1.0).astype(np.int8)})


class RankerContract:
    """What every ranker does; a subclass sets ``model`` (its name) and, if needed, ``overrides``."""

    model: str
    overrides: ClassVar[dict[str, Any]] = {}

    def settings(self) -> RankerSettings:
        return RankerSettings.for_scale("tiny", model=self.model, **self.overrides)

    def fitted(self) -> Ranker:
        return make_ranker(self.settings()).fit(frame(), frame(seed=1))

    def test_it_is_registered_under_its_name(self) -> None:
        ranker = make_ranker(self.settings())
        assert ranker.name == self.model and type(ranker) is RANKERS[self.model]

    def test_it_reads_every_feature_column_and_nothing_else(self) -> None:
        assert sorted(self.fitted().feature_names) == ["noise", "signal"]

    def test_ranks_are_one_to_k_per_customer_best_score_first(self) -> None:
        ranker, rows = self.fitted(), frame(seed=2).drop(LABEL)
        ranked = ranker.rank(rows, k=4)
        assert ranked.columns == [C, A, schema.SCORE, schema.RANK]
        per = ranked.group_by(C, maintain_order=True).agg(pl.col(schema.RANK), pl.col(schema.SCORE))
        assert per.height == 60 and per[schema.RANK].to_list() == [[1, 2, 3, 4]] * 60
        assert all(s == sorted(s, reverse=True) for s in per[schema.SCORE].to_list())

    def test_it_learns_the_signal(self) -> None:
        """The top-ranked candidates are far more often the purchased ones than chance."""
        held = frame(seed=3)
        top = self.fitted().rank(held.drop(LABEL), k=1).join(held, on=[C, A])
        assert top[LABEL].mean() > 2 * held[LABEL].mean()

    def test_scores_are_the_same_in_another_order_and_other_columns_are_ignored(self) -> None:
        ranker, rows = self.fitted(), frame(seed=2)
        shuffled = rows.sample(fraction=1.0, shuffle=True, seed=0)
        extra = shuffled.with_columns(pl.lit(7.0).alias("unrelated")).select(["unrelated", *reversed(rows.columns)])
        np.testing.assert_array_equal(ranker.score(extra), ranker.score(shuffled))
        mine = rows.with_columns(pl.Series("s", ranker.score(rows)))
        theirs = shuffled.with_columns(pl.Series("s", ranker.score(shuffled))).sort(C, A)
        np.testing.assert_array_equal(mine["s"].to_numpy(), theirs["s"].to_numpy())

    def test_contributions_add_up_to_the_score(self) -> None:
        ranker, rows = self.fitted(), frame(seed=2)
        base, parts = ranker.contributions(rows)
        assert parts.shape == (rows.height, len(ranker.feature_names))
        np.testing.assert_allclose(base + parts.sum(axis=1), ranker.score(rows), rtol=1e-5, atol=1e-5)

    def test_importance_names_every_feature_largest_first(self) -> None:
        table = self.fitted().importance()
        assert sorted(table["feature"]) == ["noise", "signal"] and table["gain"].is_sorted(descending=True)
        assert table["feature"][0] == "signal"

    def test_saved_and_loaded_it_scores_the_same(self, tmp_path) -> None:
        ranker, rows = self.fitted(), frame(seed=2)
        files = save_ranker(ranker, tmp_path)
        assert files[-1].name == layout.RANKER_META and all(p.is_file() for p in files)
        again = load_ranker(tmp_path, self.settings())
        assert type(again) is type(ranker) and again.feature_names == ranker.feature_names
        np.testing.assert_allclose(again.score(rows), ranker.score(rows), rtol=1e-6)
        assert isinstance(ranker.summary(), dict) and ranker.summary() == again.summary()

    def test_fitting_again_gives_the_same_scores(self) -> None:
        """Eight fits: on these rows LightGBM's validation MAP ties between iterations, where the order in
        which its threads add up the metric would otherwise decide the best iteration."""
        rows = frame(seed=2)
        first = self.fitted().score(rows)
        for _ in range(7):
            np.testing.assert_array_equal(self.fitted().score(rows), first)

    def test_without_a_purchased_candidate_it_says_so(self) -> None:
        with pytest.raises(ValueError, match="no training customer has a purchased article"):
            make_ranker(self.settings()).fit(frame().with_columns(pl.lit(0, pl.Int8).alias(LABEL)))

    def test_it_fits_without_a_validation_week(self) -> None:
        assert make_ranker(self.settings()).fit(frame(), None).score(frame(seed=2)).shape == (360,)


class TestLightGBMRanker(RankerContract):
    model = "lightgbm"
    overrides: ClassVar[dict[str, Any]] = {"min_child_samples": 5, "n_estimators": 40}


class TestLightGBMBlend(RankerContract):
    model = "lightgbm_blend"
    overrides: ClassVar[dict[str, Any]] = {"min_child_samples": 5, "n_estimators": 40, "blend_members": 3}

    def test_it_scores_with_the_mean_of_its_members(self) -> None:
        blend, rows = self.fitted(), frame(seed=2)
        single = make_ranker(dataclasses.replace(self.settings(), model="lightgbm", seed=self.settings().seed + 1))
        np.testing.assert_allclose(blend.members[1].score(rows), single.fit(frame(), frame(seed=1)).score(rows))
        np.testing.assert_allclose(blend.score(rows), np.mean([m.score(rows) for m in blend.members], axis=0))
        assert len(blend.summary()["member_trees"]) == 3

    def test_a_smaller_blend_saved_over_a_larger_one_loads_as_itself(self, tmp_path) -> None:
        save_ranker(self.fitted(), tmp_path)
        two = make_ranker(dataclasses.replace(self.settings(), blend_members=2)).fit(frame(), frame(seed=1))
        save_ranker(two, tmp_path)
        assert len(load_ranker(tmp_path, self.settings()).members) == 2


@pytest.mark.cluster
class TestDaskLightGBMRanker(RankerContract):
    """Trained on a two-worker LocalCluster (the process's default Dask client)."""

    model = "lightgbm_dask"
    overrides: ClassVar[dict[str, Any]] = {"min_child_samples": 5, "n_estimators": 40}

    @pytest.fixture(autouse=True, scope="class")
    def cluster(self):
        from distributed import LocalCluster

        with spawnable_main(), LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as local:
            # as the chain connects: a client of hm_lib.cluster, not Dask's default one
            connected = connect(Config.for_scale("tiny", cluster__address=local.scheduler_address))
            connected.client.wait_for_workers(2)  # the partitions follow the workers present
            yield
            disconnect()

    def test_fitting_again_gives_the_same_scores(self) -> None:
        """Not the same bytes: lightgbm.dask computes its training parts where the scheduler chooses, and the
        trees depend on which LightGBM machine holds which rows (hm_lib.ranking.lightgbm_dask). Two fits rank
        alike instead: both find the purchased candidate far more often than chance, by about as much."""
        held = frame(seed=3)
        rates = [self.fitted().rank(held.drop(LABEL), k=1).join(held, on=[C, A])[LABEL].mean() for _ in range(2)]
        assert min(rates) > 2 * held[LABEL].mean() and abs(rates[0] - rates[1]) < 0.1


def test_the_dask_rankers_partitions_hold_whole_customers_and_its_map_is_lightgbms() -> None:
    from hm_lib.ranking.lightgbm_dask import map_at_k, partitions

    sizes = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    assert partitions(sizes, 2) == [(0, 5), (5, 8)] and partitions(sizes, 1) == [(0, 8)]
    assert partitions(np.array([10]), 2) == [(0, 1)]
    labels, score = np.array([0, 1, 1, 1, 0, 0]), np.array([3.0, 2.0, 1.0, 5.0, 4.0, 6.0])
    # group 1: hits at ranks 2 and 3 -> (1/2 + 2/3) / 2; group 2 (one positive, ranked 2nd) -> 1/2
    assert map_at_k(np.array([3, 3]), labels, score) == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 / 2) / 2)
    assert map_at_k(np.array([3, 3]), labels, score, k=2) == pytest.approx((1 / 2 / 2 + 1 / 2) / 2)
    assert map_at_k(np.array([3, 3]), np.zeros(6), score) == 0.0


def test_the_dask_ranker_without_a_cluster_says_how_to_get_one() -> None:
    with pytest.raises(SettingError, match="--workers N or --cluster ADDRESS"):
        make_ranker(RankerSettings.for_scale("tiny", model="lightgbm_dask")).fit(frame(), frame(seed=1))


class TestLinearRanker(RankerContract):
    model = "linear"


def test_an_unknown_ranker_or_a_folder_without_one_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SettingError, match="unknown ranker model 'catboost'; the rankers are lightgbm"):
        make_ranker(RankerSettings(model="catboost"))
    with pytest.raises(MissingOutputError, match="06_ranking"):
        load_ranker(tmp_path, RankerSettings())


def test_the_stage_runs_with_another_ranker_by_one_setting(tiny_world, tiny_data, tmp_path) -> None:
    cfg = tiny_world.config(work_dir=tmp_path, output_dir=tmp_path / "outputs", validate=True,
                            ranker__model="linear", ranker__train_weeks=1)
    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    result = ranking.run(cfg, tiny_data, cutoff)
    assert isinstance(result.model, LinearRanker) and result.predictions.height > 0
    assert isinstance(load_ranker(layout.ranker_dir(cfg.work_dir, cutoff), RankerSettings()), LinearRanker)
    assert ranking.validation_figures(cfg, tiny_data, result)["ranker"]["weights"] == 1 + len(result.model.feature_names)


# --- the frames, by hand -------------------------------------------------------------------------

def test_a_candidate_is_positive_when_bought_in_the_week_from_the_cutoff() -> None:
    day = dt.date(2020, 9, 1)
    candidates = pl.DataFrame({C: [0, 0, 1, 1], A: [10, 11, 10, 12]}, schema={C: pl.Int32, A: pl.Int32})
    tx = pl.DataFrame({"t_dat": [day - dt.timedelta(days=1), day, day + dt.timedelta(days=6),
                                 day + dt.timedelta(days=7), day + dt.timedelta(days=3)],
                       C: [0, 0, 1, 1, 1], A: [11, 10, 12, 10, 12]}, schema_overrides={C: pl.Int32, A: pl.Int32})
    labelled = label(candidates, tx, day).sort(C, A)
    # (0, 11) was bought the day before the week; (1, 10) the day after it; (1, 12) twice within it
    assert labelled[LABEL].to_list() == [1, 0, 0, 1]


def test_customers_without_a_positive_are_left_out_and_rows_sorted() -> None:
    rows = pl.DataFrame({C: [2, 1, 1, 0, 2], A: [5, 3, 4, 9, 1], LABEL: [0, 0, 0, 1, 1]})
    kept = with_positives(rows)
    assert kept.select(C, A).rows() == [(0, 9), (2, 1), (2, 5)]


def test_rows_already_sorted_with_positives_are_kept_without_a_copy() -> None:
    """Two weeks of one customer, concatenated and sorted, are one frame the fit reads as it is; one row out of
    order or a customer without a positive and it is sorted and filtered again."""
    rows = pl.DataFrame({C: [0, 0, 0, 1, 1], A: [3, 3, 8, 2, 9], LABEL: [1, 0, 0, 0, 1]})
    assert with_positives(rows) is rows
    swapped = rows.with_columns(pl.Series(A, [3, 8, 3, 2, 9]))
    assert with_positives(swapped).select(C, A).rows() == [(0, 3), (0, 3), (0, 8), (1, 2), (1, 9)]
    assert with_positives(rows.with_columns(pl.Series(LABEL, [1, 0, 0, 0, 0])))[C].unique().to_list() == [0]


def test_training_rows_are_grouped_by_week_and_customer() -> None:
    """A customer's candidates of two weeks are two groups; a week in which they bought none of theirs goes."""
    d1, d2 = dt.date(2020, 9, 1), dt.date(2020, 9, 8)
    rows = pl.DataFrame({WEEK: [d1, d1, d1, d2, d2, d2, d2], C: [0, 0, 1, 0, 0, 1, 1], A: [3, 8, 2, 3, 5, 2, 4],
                         LABEL: [1, 0, 1, 0, 1, 0, 0]})
    kept = with_positives(rows)
    assert kept.select(WEEK, C).rows() == [(d1, 0), (d1, 0), (d1, 1), (d2, 0), (d2, 0)]
    assert groups(kept).tolist() == [2, 1, 2]
    assert with_positives(kept) is kept
    assert with_positives(kept.reverse()).equals(kept)
    assert WEEK not in feature_columns(kept.with_columns(pl.lit(0.5).alias("f")))


def test_top_k_breaks_ties_by_the_smaller_article() -> None:
    rows = pl.DataFrame({C: [0, 0, 0, 1], A: [7, 3, 5, 2]})
    ranked = top_k(rows, np.array([0.5, 0.5, 0.9, 0.1]), k=2)
    assert ranked.select(C, A, schema.RANK).rows() == [(0, 5, 1), (0, 3, 2), (1, 2, 1)]


def test_the_labelled_weeks_are_the_early_stopping_week_then_the_training_weeks() -> None:
    weeks = RankerSettings(train_weeks=2).weeks(dt.date(2020, 9, 22))
    assert weeks == [dt.date(2020, 9, 15), dt.date(2020, 9, 8), dt.date(2020, 9, 1)]
    with pytest.raises(SettingError, match="train_weeks"):
        RankerSettings(train_weeks=0)


def test_importing_the_ranking_stage_loads_no_tensorflow() -> None:
    code = ("import sys, hm_lib.ranking as r; r.run; r.LightGBMRanker; import hm_lib.feature_store, hm_lib.demo; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
