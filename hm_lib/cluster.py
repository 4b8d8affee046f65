"""Scale-out on Dask: the shard loops of the heavy stages as tasks of a ``distributed`` cluster.

Without ``cluster__address`` or ``cluster__workers`` nothing here runs and every stage takes its
single-process path. ``hm run --workers N`` starts a ``LocalCluster`` of N worker processes for the whole
chain and closes it at the end; ``hm run --cluster tcp://HOST:8786`` uses a running ``dask-scheduler``. The
notebooks' kernels connect to the chain's scheduler (its address reaches them as ``cluster__address``), and a
notebook run on its own with ``cluster__workers`` starts its own cluster. The cluster settings change where
work runs, never what it computes: the chain leaves them out of the stages' up-to-date checks.

A task writes its shard itself (atomically, :mod:`hm_lib.io`) to the work folder, so the workers must see that
folder at the same path (one machine, or shared storage). A task whose worker dies is run again on another
(``cluster__retries``); the shard is written once, by the run that finishes.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hm_lib.config import Config, check_settings
from hm_lib.errors import RunError
from hm_lib.progress import bar
from hm_lib.settings_base import StageSettings

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

log = logging.getLogger(__name__)
SECTION = "cluster"


@dataclass(frozen=True)
class ClusterSettings(StageSettings):
    """``address``: a running scheduler; else ``workers`` > 0: a local cluster of that many worker processes
    (one thread each); neither: no cluster.

    At full scale a local cluster of 2 workers is the default: on 2 cores the candidate, labelled-week and
    scoring shards take 0.77 of one process's time (docs/benchmarks.md, "Scale-out on Dask"; same bytes), and a
    worker peaks near 5 GiB there. ``--workers 0`` runs everything in one process.
    """

    SECTION: ClassVar[str] = SECTION
    SCALE_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"full": {"workers": 2}}

    address: str = ""
    workers: int = 0
    retries: int = 2           # runs of a task after the first, when its worker dies
    memory_per_worker: str = "auto"  # a local cluster's memory limit per worker (Dask's syntax, e.g. "6GiB")

    def __post_init__(self) -> None:
        check_settings("ClusterSettings", {"workers must be 0 or more": self.workers >= 0,
                                           "retries must be 0 or more": self.retries >= 0})

    @property
    def wanted(self) -> bool:
        return bool(self.address) or self.workers > 0


def local_cluster(workers: int, memory_per_worker: str = "auto") -> LocalCluster:
    """A cluster of ``workers`` processes on this machine, one thread each, its dashboard on a free port."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        memory_limit=memory_per_worker)


@dataclass(frozen=True)
class Cluster:
    """A connected cluster: its client and how often a task whose worker died is run again."""

    client: Client
    retries: int

    def map(self, fn: Callable[..., Any], items: Sequence[Any], desc: str, **shared: Any) -> list[Any]:
        """``fn(item, **shared)`` for every item as a task; results in the items' order.

        ``shared`` (e.g. fitted models) is sent to every worker once; a task whose worker dies is run again, up
        to ``retries`` more times. Progress counts finished tasks.
        """
        from distributed import as_completed

        sent = {name: self.client.scatter([value], broadcast=True, hash=False)[0] for name, value in shared.items()}
        futures = self.client.map(fn, list(items), retries=self.retries, pure=False, **sent)
        for _ in bar(as_completed(futures, loop=self.client.loop), total=len(futures), desc=desc, unit="task"):
            pass
        return self.client.gather(futures)


    def restart(self) -> None:
        """Restart every worker (their nannies start fresh processes) and wait for them to return: hands back the
        memory a worker keeps after its tasks (allocators hold freed arenas while it idles) before a step in this
        process needs it. Results held on the workers are lost. Best effort: a worker slow to shut down or to
        return is left behind with a warning; the work goes on on those that are back, and only none back within
        ``RESTART_WAIT_S`` is an error."""
        wanted = self.n_workers()
        try:
            self.client.restart(timeout=RESTART_WAIT_S, wait_for_workers=False)
            self.client.wait_for_workers(wanted, timeout=RESTART_WAIT_S)
        except TimeoutError:
            back = self.n_workers()
            if not back:
                raise RunError(f"cluster: no worker came back within {RESTART_WAIT_S} s of a restart; see the "
                               "workers' log, or run without the cluster (--workers 0)") from None
            log.warning("cluster: %d of %d workers back within %d s of a restart; going on with them", back, wanted,
                        RESTART_WAIT_S)
        log.info("cluster: %d workers restarted", self.n_workers())

    def n_workers(self) -> int:
        """How many workers the scheduler knows now."""
        return len(self.client.scheduler_info()["workers"])


RESTART_WAIT_S = 120
_CLIENTS: dict[str, Client] = {}


def connect(cfg: Config) -> Cluster | None:
    """This process's connection to the configured cluster (None without one), made once per address; with
    ``workers`` and no address, a local cluster is started for this process first.

    The client is not made Dask's default: libraries that compute with Dask on their own (Feast's offline
    store) keep running in this process; :func:`active` finds it for the work meant for the cluster.
    """
    settings = cfg.settings(SECTION, ClusterSettings)
    if not settings.wanted:
        return None
    from distributed import Client

    key = settings.address or f"local:{settings.workers}:{settings.memory_per_worker}"
    if key not in _CLIENTS or _CLIENTS[key].status != "running":
        target = settings.address or local_cluster(settings.workers, settings.memory_per_worker)
        _CLIENTS[key] = Client(target, set_as_default=False)
        if settings.workers:  # a task graph split by the workers present must see them all
            _CLIENTS[key].wait_for_workers(settings.workers)
        log.info("cluster: %s, %d workers", _CLIENTS[key].scheduler.address,
                 len(_CLIENTS[key].scheduler_info()["workers"]))
    return Cluster(_CLIENTS[key], settings.retries)


def active() -> Client:
    """The client of the cluster this process works on: the latest :func:`connect` made that is still running,
    else Dask's default client (ValueError when there is neither)."""
    from distributed import default_client

    running = [client for client in _CLIENTS.values() if client.status == "running"]
    return running[-1] if running else default_client()


def disconnect() -> None:
    """Close this process's clients made by :func:`connect` (the clusters they started go with the process)."""
    while _CLIENTS:
        _CLIENTS.popitem()[1].close()


@contextmanager
def chain_cluster(cfg: Config) -> Iterator[Config]:
    """For the whole chain: ``cfg`` with the address its notebooks connect to. With ``workers`` (and no address) a
    local cluster is started here and closed on the way out; otherwise ``cfg`` is returned unchanged."""
    settings = cfg.settings(SECTION, ClusterSettings)
    if settings.address or not settings.workers:
        yield cfg
        return
    with local_cluster(settings.workers, settings.memory_per_worker) as cluster:
        log.info("cluster: a local cluster of %d worker processes at %s", settings.workers, cluster.scheduler_address)
        extra = {k: v for k, v in cfg.extra.items() if k != f"{SECTION}__workers"}
        yield dataclasses.replace(cfg, extra={**extra, f"{SECTION}__address": cluster.scheduler_address})


def is_cluster_setting(key: str) -> bool:
    """Whether an override key belongs to the cluster section (where work runs, not what it computes)."""
    return key.startswith(f"{SECTION}__")
