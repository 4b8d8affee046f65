"""`hm run`: the numbered notebooks executed in order with papermill.

Each notebook gets its parameters (data folder, scale, seed, validation mode) through its
`parameters` cell; the executed copy goes to outputs/notebooks/. A stage is skipped when its
stamp records the same digest of its inputs: the notebook, the parameters, the library
code, the raw data's fingerprint and the digests of the stages before it.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hm_lib.archive import raw_folder
from hm_lib.cluster import chain_cluster, is_cluster_setting
from hm_lib.config import Config, check_overrides
from hm_lib.digest import digest
from hm_lib.errors import RunError
from hm_lib.io import read_json
from hm_lib.kernel_stderr import QuietStderr, kernel_manager
from hm_lib.progress import TEXT_ENV
from hm_lib.run_report import INDEX_FILE, StageRow, notebook_html, write_index
from hm_lib.stamp import Stamp

log = logging.getLogger(__name__)
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
LIB_DIR = Path(__file__).resolve().parent
# the kernel's own start-up chatter (e.g. "running over TCP without encryption") stays out of the terminal
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
# The first stage that reads each settings section (hm_lib.config.SECTIONS; 02 reads the image settings for the
# photo sources, 05 the ranker's for its relevance cut-off): an override enters the stale check of that stage
# and, through it, of every later one, so `--set ranker__...` reruns 05-07, not the image model before them.
# An override of a section not named here, or whose reader is not in the run, enters every stage's check.
FIRST_READER = {"candidates": "02_candidates", "image": "02_candidates", "negatives": "03_negatives",
                "ensemble": "05_ensemble", "ranker": "05_ensemble"}


class ChainError(RunError):
    """A notebook of the chain failed; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Stage:
    name: str
    path: Path


def stages(notebook_dir: Path = NOTEBOOK_DIR) -> list[Stage]:
    """The numbered notebooks (NN_name.ipynb), in order."""
    found = sorted(p for p in notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    return [Stage(p.stem, p) for p in found]


def notebook_parameters(cfg: Config) -> dict:
    """What every notebook's `parameters` cell receives; `overrides` carries the stage settings."""
    return {"data_dir": str(cfg.data_dir.resolve()), "work_dir": str(cfg.work_dir.resolve()),
            "output_dir": str(cfg.output_dir.resolve()), "scale": cfg.scale, "seed": cfg.seed,
            "validate": cfg.validate, "overrides": dict(cfg.extra)}


def _library_digest() -> str:
    return digest(*(p.read_bytes() for p in sorted(LIB_DIR.rglob("*.py"))))


def _data_fingerprint(data_dir: Path) -> str:
    """Size and modification time of every raw file (cheap; a changed file changes it)."""
    files = sorted(p for p in data_dir.glob("*.csv"))
    return digest(*(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def summary(cfg: Config) -> list[str]:
    """What a finished run produced, in a few lines: the scores when validating, else the submission."""
    from hm_lib.schema import SUBMISSION_FILE
    from hm_lib.submission import kaggle_command
    from hm_lib.validation import VALIDATION_FILE, loss_lines

    report = f"report: {cfg.output_dir / INDEX_FILE} (every notebook as a page)"
    if cfg.validate:
        path = cfg.output_dir / VALIDATION_FILE
        scores = read_json(path) if path.is_file() else {}
        names = [n for n in ("ranker", "baseline_popular", "baseline_decayed_repurchase", "oracle") if n in scores]
        figures = ", ".join(f"{name} {scores[name]['map@12']:.4f}" for name in names)
        head = f"MAP@12 on the {scores.get('days', cfg.holdout_days)} days from {scores.get('cutoff')}"
        return [f"{head} ({scores.get('buyers', 0):,} buyers): {figures}", *loss_lines(scores),
                f"all figures: {path}", report]
    path = cfg.output_dir / SUBMISSION_FILE
    if not path.is_file():
        return [f"no submission in {cfg.output_dir}"]
    with path.open("rb") as f:
        rows = sum(1 for _ in f) - 1
    return [f"submission: {path} ({rows:,} customers; {path.name}.gz beside it)",
            f"upload: {kaggle_command(path.with_name(path.name + '.gz'), 'hm-fashion-recsys ranker')}", report]


def _run_files(out_dir: Path, name: str, mode: str) -> tuple[Path, Path]:
    """A stage's executed notebook and its stamp in ``out_dir`` for ``mode`` ("submit" or "validate")."""
    notebook = out_dir / (f"{name}.ipynb" if mode == "submit" else f"{name}.validate.ipynb")
    return notebook, out_dir / f".{name}.{mode}.stamp.json"


def stage_rows(names: list[str], out_dir: Path, mode: str) -> list[StageRow]:
    """The stages' executed notebooks and seconds (from their stamps; None: not run) for the run's index."""
    rows = []
    for name in names:
        notebook, stamp = _run_files(out_dir, name, mode)
        seconds = read_json(stamp).get("seconds") if stamp.is_file() and notebook.is_file() else None
        rows.append(StageRow(name, notebook, seconds))
    return rows


@contextmanager
def _text_progress() -> Iterator[None]:
    """The notebooks' kernels (started meanwhile, inheriting the environment) draw text progress bars."""
    before = os.environ.get(TEXT_ENV)
    os.environ[TEXT_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TEXT_ENV, None)
        else:
            os.environ[TEXT_ENV] = before


def run_chain(cfg: Config, from_stage: str | None = None, force: bool = False,
              notebook_dir: Path = NOTEBOOK_DIR) -> list[str]:
    """Run the chain; returns the names of the stages that were executed (not skipped)."""
    check_overrides(cfg.extra)  # a misspelt section or field would otherwise be ignored
    if not log.isEnabledFor(logging.DEBUG):
        logging.getLogger("papermill").setLevel(logging.WARNING)  # its notebook paths: the step lines say enough
    cfg = cfg.replace(data_dir=raw_folder(cfg.data_dir, cfg.work_dir))
    all_stages = stages(notebook_dir)
    if not all_stages:
        raise ChainError(f"no numbered notebooks in {notebook_dir}")
    names = [s.name for s in all_stages]
    if from_stage is not None:
        match = [n for n in names if n == from_stage or n.split("_", 1)[0] == from_stage or n.endswith(from_stage)]
        if not match:
            raise ChainError(f"unknown stage {from_stage!r}; stages: {', '.join(names)}")
        start = names.index(match[0])
    else:
        start = 0
    if not (cfg.data_dir / "transactions_train.csv").exists():
        raise ChainError(f"no transactions_train.csv in {cfg.data_dir}: put the Kaggle files there, "
                         "or run `hm generate` (or `make run`, which generates the default synthetic data)")
    out_dir, mode = cfg.output_dir / "notebooks", "validate" if cfg.validate else "submit"
    with chain_cluster(cfg) as run_cfg:  # --workers: one local cluster for every notebook of the run
        executed = _run_stages(run_cfg, all_stages, start, from_stage, force, out_dir, mode)
    title = f"hm run{' --validate' if cfg.validate else ''}: {cfg.scale} scale, data {cfg.data_dir}"
    write_index(cfg.output_dir, title, stage_rows(names, out_dir, mode), summary(cfg))
    return executed


def overrides_by_stage(overrides: dict[str, object], names: list[str]) -> list[dict[str, object]]:
    """The overrides that enter each stage's stale check, in the order of ``names``: each at the first reader of its
    section (:data:`FIRST_READER`), else at the first stage."""
    entering: list[dict[str, object]] = [{} for _ in names]
    for key, value in overrides.items():
        reader = FIRST_READER.get(key.partition("__")[0])
        entering[names.index(reader) if reader in names else 0][key] = value
    return entering


def _run_stages(cfg: Config, all_stages: list[Stage], start: int, from_stage: str | None, force: bool,
                out_dir: Path, mode: str) -> list[str]:
    """Execute the stages from ``start`` that are stale (or all, with ``force`` or ``from_stage``), writing the
    executed notebooks to ``out_dir``; their names."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    params = notebook_parameters(cfg)
    verbose = log.isEnabledFor(logging.DEBUG)  # -v: every line of the kernels, native ones included
    stderr = sys.stderr if verbose else QuietStderr(sys.stderr)
    # where the work runs (the cluster settings) does not change what it computes: left out of the check
    overrides = {k: v for k, v in cfg.extra.items() if not is_cluster_setting(k)}
    common = {k: v for k, v in params.items() if k != "overrides"}
    upstream = digest(json.dumps(common, sort_keys=True), _library_digest(), _data_fingerprint(cfg.data_dir))
    entering = overrides_by_stage(overrides, [stage.name for stage in all_stages])
    executed = []
    for i, stage in enumerate(all_stages):
        inputs = digest(upstream, stage.path.read_bytes(), json.dumps(entering[i], sort_keys=True))
        output, stamp_path = _run_files(out_dir, stage.name, mode)
        stamp = Stamp(stamp_path)
        up_to_date = output.exists() and stamp.current(inputs) is not None
        # --from reruns that stage and all after it; otherwise a stage reruns when stale or forced.
        step = f"[{i + 1}/{len(all_stages)}] {stage.name}"
        if i < start or (up_to_date and not force and from_stage is None):
            if i >= start:
                log.info("%s is up to date; skipped (use --force to rerun)", step)
            upstream = inputs
            continue
        log.info("%s ...", step)
        stamp.invalidate()
        t0 = time.perf_counter()
        kernel_log = {} if verbose else {"kernel_manager_class": kernel_manager(output.with_suffix(".kernel.log"))}
        try:
            with _text_progress():  # the kernel's stderr (progress, log lines) also goes to this terminal
                pm.execute_notebook(str(stage.path), str(output), parameters=params, kernel_name="python3",
                                    cwd=str(Path.cwd()), progress_bar=False, log_output=False,
                                    stderr_file=stderr, extra_arguments=KERNEL_ARGUMENTS, **kernel_log)
        except pm.PapermillExecutionError as err:
            if output.is_file():  # the failed cell's traceback, readable without JupyterLab
                notebook_html(output)
            raise ChainError(f"{stage.path.name} failed in cell {err.cell_index} (execution count {err.exec_count}): "
                             f"{err.ename}: {err.evalue}; the executed copy is {output}") from err
        seconds = time.perf_counter() - t0
        notebook_html(output)
        stamp.write(inputs, seconds=round(seconds, 1), parameters=params)
        log.info("%s ... %s", step, _duration(seconds))
        executed.append(stage.name)
        upstream = inputs
    return executed
