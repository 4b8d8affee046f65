"""Scale-out on Dask: the same candidates on a two-worker LocalCluster as in one process, a worker killed in the
middle of a task, and the chain's cluster settings (deselect with ``-m "not cluster"``)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from conftest import spawnable_main

from hm_lib import schema
from hm_lib.candidates import CandidateSettings, Past, write_candidates
from hm_lib.cluster import (
    Cluster,
    ClusterSettings,
    active,
    chain_cluster,
    connect,
    disconnect,
    is_cluster_setting,
)
from hm_lib.config import Config
from hm_lib.data import Dataset
from hm_lib.errors import RunError
from hm_lib.io import write_json

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    from distributed import Client, LocalCluster

    with (spawnable_main(), LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as local,
          Client(local, set_as_default=False) as client):  # as connect() makes them: not Dask's default
        yield Cluster(client, retries=2)
        disconnect()  # the tests' connect() clients of this cluster's scheduler


def test_candidates_on_the_cluster_are_the_bytes_of_one_process(cluster: Cluster, tiny_data: Dataset,
                                                                tmp_path: Path) -> None:
    past = Past.from_dataset(tiny_data, tiny_data.end_date)
    settings = CandidateSettings.for_scale("tiny")
    here = write_candidates(past, tiny_data.customers, settings, tmp_path / "here", 120, progress=False)
    there = write_candidates(past, tiny_data.customers, settings, tmp_path / "there", 120, progress=False,
                             cluster=cluster)
    assert (here.shards, there.written) == (5, 5)
    parts = sorted(p.name for p in there.path.iterdir())
    assert parts == sorted(p.name for p in here.path.iterdir())  # no temporary file left behind
    for name in parts:
        assert (there.path / name).read_bytes() == (here.path / name).read_bytes(), name
    (there.path / "part-0003.parquet").unlink()
    again = write_candidates(past, tiny_data.customers, settings, tmp_path / "there", 120, progress=False,
                             cluster=cluster)
    assert (again.written, again.reused) == (1, 4)
    assert (there.path / "part-0003.parquet").read_bytes() == (here.path / "part-0003.parquet").read_bytes()


def _dies_once(item: int, folder: Path) -> int:
    """Kill this worker process the first time item 1 runs; otherwise write the item's file."""
    marker = folder / "died"
    if item == 1 and not marker.exists():
        marker.touch()
        os._exit(1)
    write_json({"item": item}, folder / f"{item}.json")
    return item * 10


def test_a_task_whose_worker_dies_runs_again_and_writes_once(cluster: Cluster, tmp_path: Path) -> None:
    assert cluster.map(_dies_once, [0, 1, 2, 3], desc="tasks", folder=tmp_path) == [0, 10, 20, 30]
    assert (tmp_path / "died").exists()  # a worker did die
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.json", "1.json", "2.json", "3.json", "died"]


def test_the_chain_starts_one_cluster_and_leaves_it_out_of_the_up_to_date_checks(tiny_world) -> None:
    plain = tiny_world.config()
    assert connect(plain) is None
    with chain_cluster(plain) as same:
        assert same is plain
    cfg = tiny_world.config(cluster__workers=1)
    with spawnable_main(), chain_cluster(cfg) as run_cfg:
        address = run_cfg.extra["cluster__address"]
        assert address.startswith("tcp://") and "cluster__workers" not in run_cfg.extra
        connected = connect(run_cfg)
        assert connected is not None and connected.client.scheduler.address == address
        assert connected.map(abs, [-1, 2], desc="tasks") == [1, 2]
        assert active() is connected.client  # for the Dask ranker; not Dask's default client (Feast computes locally)
        assert _default_client() is not connected.client
        disconnect()
    assert is_cluster_setting("cluster__address") and not is_cluster_setting("ranker__seed")
    with pytest.raises(ValueError, match="workers must be 0 or more"):
        Config.for_scale("tiny", cluster__workers=-1).settings("cluster", ClusterSettings)


def test_full_scale_runs_its_shards_on_two_local_workers_unless_told_otherwise() -> None:
    assert Config.for_scale("full").settings("cluster", ClusterSettings).workers == 2
    assert Config.for_scale("default").settings("cluster", ClusterSettings).workers == 0
    assert Config.for_scale("full", cluster__workers=0).settings("cluster", ClusterSettings).wanted is False


def _default_client():
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def test_hm_run_takes_workers_or_a_scheduler_address(capsys) -> None:
    from hm_lib.cli import build_parser

    assert build_parser().parse_args(["run", "--workers", "2"]).workers == 2
    assert build_parser().parse_args(["run"]).workers is None  # the scale's default
    assert build_parser().parse_args(["run", "--cluster", "tcp://10.0.0.5:8786"]).cluster == "tcp://10.0.0.5:8786"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--workers", "2", "--cluster", "tcp://10.0.0.5:8786"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_scoring_shards_on_the_cluster_give_the_lists_of_one_process(cluster: Cluster, tiny_world, tiny_data: Dataset,
                                                                      tmp_path: Path) -> None:
    from hm_lib import ranking

    cfg = tiny_world.config(work_dir=tmp_path, output_dir=tmp_path / "outputs", ranker__rank_shard_customers=150)
    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    result = ranking.run(cfg, tiny_data, cutoff)
    on = tiny_world.config(work_dir=tmp_path, output_dir=tmp_path / "outputs", ranker__rank_shard_customers=150,
                           cluster__address=cluster.client.scheduler.address)
    there = ranking.predict(on, tiny_data, {"ranker": result.model}, cutoff)["ranker"]
    assert there[schema.CUSTOMER].n_unique() == tiny_data.customers.height
    here = ranking.predict(cfg, tiny_data, {"ranker": result.model}, cutoff)["ranker"]
    assert there.equals(here)


def test_labelled_weeks_on_the_cluster_are_those_of_one_process(cluster: Cluster, tiny_world, tiny_data: Dataset,
                                                                 tmp_path: Path) -> None:
    from hm_lib import ranking

    cutoff = tiny_data.end_date - dt.timedelta(days=6)
    here = ranking.training_frames(tiny_world.config(work_dir=tmp_path), tiny_data, cutoff)
    on = tiny_world.config(work_dir=tmp_path, cluster__address=cluster.client.scheduler.address)
    there = ranking.training_frames(on, tiny_data, cutoff)
    assert there[0].height > 0 and all(a.equals(b) for a, b in zip(there, here, strict=True))


def _pid(_: int) -> int:
    return os.getpid()


def test_a_restart_gives_fresh_worker_processes_that_take_tasks(cluster: Cluster) -> None:
    before = set(cluster.map(_pid, range(4), desc="pids"))
    cluster.restart()
    after = set(cluster.map(_pid, range(4), desc="pids"))
    assert after and not after & before
    assert cluster.n_workers() >= 1  # a worker slow to return is left behind (restart is best effort)


class _SlowClient:
    """A client whose workers do not all come back from a restart in time."""

    def __init__(self, back: int) -> None:
        self.workers = {"a": {}, "b": {}}
        self.back = back

    def restart(self, timeout: float, wait_for_workers: bool) -> None:
        self.workers = {str(i): {} for i in range(self.back)}

    def wait_for_workers(self, n_workers: int, timeout: float) -> None:
        if len(self.workers) < n_workers:
            raise TimeoutError

    def scheduler_info(self) -> dict:
        return {"workers": self.workers}


def test_a_restart_goes_on_with_the_workers_that_came_back(caplog) -> None:
    with caplog.at_level("WARNING", logger="hm_lib.cluster"):
        Cluster(_SlowClient(back=1), retries=0).restart()
    assert "1 of 2 workers back" in caplog.text


def test_a_restart_with_no_worker_back_is_a_one_line_error() -> None:
    with pytest.raises(RunError, match="no worker came back .*--workers 0"):
        Cluster(_SlowClient(back=0), retries=0).restart()
