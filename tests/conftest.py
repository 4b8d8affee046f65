"""Shared fixtures: synthetic worlds made once per test session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hm-hypothesis-"))  # its database and caches: not in the checkout

from hm_lib.config import Config
from hm_lib.data import Dataset, load
from hm_lib.synthetic import Knobs, generate

ROOT = Path(__file__).resolve().parents[1]
REAL_SAMPLE = ROOT.parent / "shared" / "real_sample"
UNWATCHED = {".git", ".venv", "data", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def _tree(folder: Path) -> set[str]:
    """Files under the checkout (the venv, git, data/ and caches left out)."""
    found = set()
    for path in folder.iterdir():
        if path.name in UNWATCHED or path.name.endswith(".egg-info"):
            continue
        found |= _tree(path) if path.is_dir() and not path.is_symlink() else {path.relative_to(ROOT).as_posix()}
    return found


@pytest.fixture(scope="session", autouse=True)
def leaves_the_tree_as_found() -> Iterator[None]:
    """The suite writes only under temporary folders: no file appears in or vanishes from the checkout."""
    before = _tree(ROOT)
    yield
    after = _tree(ROOT)
    assert (sorted(after - before), sorted(before - after)) == ([], []), "tests changed the checkout"


# `make test` runs the suite on two xdist workers (--dist loadgroup): a test goes with the others of its file
# (their module fixtures are made once), except that the users of these session fixtures, which run a whole
# chain, go to one worker per fixture wherever their file is, so no chain runs twice.
SHARED_RUNS = ("tiny_submission", "tiny_demo")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        group = next((name for name in SHARED_RUNS if name in getattr(item, "fixturenames", ())), item.path.name)
        # xdist 3.8 groups the node ids that end in "@group"; it writes that suffix to item._nodeid, which
        # pytest 9.2 no longer reads (the id lives in item._id), so the suffix is written here
        item._id = coerce_node_id(f"{item.nodeid}@{group}")


@dataclass
class WorldDirs:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def truth(self) -> Path:
        return self.root / "synthetic_truth"

    def config(self, **overrides) -> Config:
        settings = {"data_dir": self.raw, "work_dir": self.root, "output_dir": self.root / "outputs", **overrides}
        return Config.for_scale("tiny", **settings)

    def dataset(self) -> Dataset:
        cfg = self.config()
        return load(cfg.data_dir, cfg.processed_dir)


def make_world(root: Path, scale: str = "tiny", seed: int = 3, images: bool = True, **knobs) -> WorldDirs:
    generate(root / "raw", scale=scale, seed=seed, images=images, knobs=replace(Knobs.for_scale(scale), **knobs),
             progress=False)
    return WorldDirs(root)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> WorldDirs:
    """A tiny world with images (500 customers, 300 articles): treat as read-only."""
    return make_world(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_data(tiny_world: WorldDirs) -> Dataset:
    return tiny_world.dataset()


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> WorldDirs:
    """A small world without images (6k customers, 1.5k articles) with the default knobs."""
    return make_world(tmp_path_factory.mktemp("small"), scale="small", images=False)


@pytest.fixture(scope="session")
def tiny_demo(tiny_world: WorldDirs, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    """`hm demo --prepare-only` on the tiny world (it trains the ranker first): treat as read-only."""
    from hm_lib.cli import main
    from hm_lib.layout import demo_dir

    work = tmp_path_factory.mktemp("demo")
    cfg = tiny_world.config(work_dir=work)
    assert main(["demo", "--prepare-only", "--data", str(cfg.data_dir), "--work", str(work), "--scale", "tiny"]) == 0
    return cfg, demo_dir(work)


@dataclass(frozen=True)
class ChainRun:
    """`hm run` (submission mode, no --scale) finished on a copy of the tiny world."""

    world: WorldDirs
    stdout: str
    stderr: str
    submission: bytes  # outputs/submission.csv as that run wrote it


def hm_run_args(world: WorldDirs) -> list[str]:
    """`hm run` on a world as a user types it (without --scale: the chain picks it from the data)."""
    return [sys.executable, "-m", "hm_lib.cli", "run", "--data", str(world.raw), "--work", str(world.root),
            "--outputs", str(world.root / "outputs")]


def copy_world(world: WorldDirs, root: Path) -> WorldDirs:
    shutil.copytree(world.raw, root / "raw")
    shutil.copytree(world.truth, root / "synthetic_truth")
    return WorldDirs(root)


@pytest.fixture(scope="session")
def tiny_submission(tiny_world: WorldDirs, tmp_path_factory: pytest.TempPathFactory) -> ChainRun:
    """The whole chain run once by `hm` in a fresh process (PYTHONHASHSEED=3): treat as read-only."""
    world = copy_world(tiny_world, tmp_path_factory.mktemp("submission"))
    done = subprocess.run(hm_run_args(world), env={**os.environ, "PYTHONHASHSEED": "3"}, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return ChainRun(world, done.stdout, done.stderr, (world.root / "outputs" / "submission.csv").read_bytes())


@contextmanager
def spawnable_main() -> Iterator[None]:
    """A plain ``__main__`` while Dask's worker processes start: they are spawned, and a spawned process runs the
    parent's ``__main__`` file again, which after a Streamlit AppTest in the same pytest worker is the app."""
    import types

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        yield
