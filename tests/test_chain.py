"""The notebook chain, executed by papermill on tiny data."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ChainRun, WorldDirs, copy_world
from hm_lib.chain import FIRST_READER, ChainError, overrides_by_stage, run_chain, stages
from hm_lib.io import read_json
from hm_lib.submission import validate_submission

FIGURE_CALL = re.compile(r"\b(plot_\w+|\w+_chart|\w+_gallery)\(")

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def chain_world(tiny_world: WorldDirs, tmp_path_factory: pytest.TempPathFactory) -> WorldDirs:
    """A copy of the tiny world, so the chain's outputs stay out of the shared one."""
    return copy_world(tiny_world, tmp_path_factory.mktemp("chain"))


def test_every_notebook_has_a_parameters_cell() -> None:
    names = [s.name for s in stages()]
    assert names == ["01_eda", "02_candidates", "03_negatives", "04_image_model", "05_ensemble",
                     "06_ranking", "07_submission"]
    for stage in stages():
        nb = nbformat.read(stage.path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, stage.name
        assert "data_dir" in tagged[0].source and "validate" in tagged[0].source
        # the project's kernel, which `make venv` registers, so any JupyterLab opens them with this venv
        assert nb.metadata.kernelspec == {"display_name": "Python (hm-fashion-recsys)", "language": "python",
                                          "name": "hm-fashion-recsys"}, stage.name
    install = Path("Makefile").read_text()
    assert '--name hm-fashion-recsys --display-name "Python (hm-fashion-recsys)"' in install
    assert "lab: venv\n\t$(VENV)/bin/jupyter lab --notebook-dir=notebooks" in install


def test_validate_mode_scores_baselines_and_oracle(chain_world: WorldDirs) -> None:
    cfg = chain_world.config(validate=True)
    executed = run_chain(cfg)
    assert executed == [s.name for s in stages()]
    scores = read_json(cfg.output_dir / "validation.json")
    assert scores["days"] == 7
    maps = {model: scores[model]["map@12"] for model in ("baseline_popular", "baseline_decayed_repurchase",
                                                          "ranker", "ranker_without_image_score", "oracle")}
    assert min(maps.values()) > 0 and maps["oracle"] > maps["baseline_popular"], maps
    # the oracle is best in expectation; on a tiny week's few buyers another list may beat it by chance, by
    # no more than the sampling error of a mean of APs in [0, 1] (standard deviation at most 1/2 each)
    assert maps["oracle"] >= max(maps.values()) - 1 / scores["buyers"] ** 0.5, (maps, scores["buyers"])
    # the candidates' ceilings: no ordering of them beats the buyers' own picks first, the ranker's included
    perfect, within = scores["perfect_within_candidates"]["map@12"], scores["oracle_within_candidates"]["map@12"]
    assert maps["ranker"] <= perfect + 1e-12 and 0 < within <= perfect + 1e-12, (maps, perfect, within)
    assert scores["shares"]["ranker_of_oracle_within_candidates"] == pytest.approx(maps["ranker"] / within)
    # the week by article slice: the slices split its purchases, each scored for the ranker and the oracle
    slices = scores["slices"]
    assert set(slices) == {"new", "rare", "established"}
    assert sum(s["share"] for s in slices.values()) == pytest.approx(1.0)
    for s in slices.values():
        if s["pairs"]:
            assert 0 <= s["ranker"]["recall@12"] <= s["candidate_recall"]["union"] + 1e-12
            assert "oracle" in s and "ranker_without_image_score" in s
    # the ranker uses the ensemble's score; the same ranker without it is scored beside it
    assert scores["ranker"]["image_score"] is True
    models = [row["model"] for row in scores["ensemble"]["comparison"]]
    assert models[-3:] == ["members' mean", "stacker", "class-weighted single"]
    # the run's report: every notebook as a page with its plots, and an index of stages and scores
    for stage in stages():
        page = (cfg.output_dir / "notebooks" / f"{stage.name}.validate.html").read_text()
        assert f"{stage.name}.validate.ipynb" in (cfg.output_dir / "index.html").read_text()
        assert f"<title>{stage.name}.validate</title>" in page, stage.name
    for name in ("01_eda", "06_ranking"):  # their plots are inside the page
        assert "data:image/png;base64" in (cfg.output_dir / "notebooks" / f"{name}.validate.html").read_text()
    for stage in stages():  # every cell that draws a figure shows it (a bare matplotlib Figure would not)
        cells = nbformat.read(cfg.output_dir / "notebooks" / f"{stage.name}.validate.ipynb", as_version=4).cells
        for cell in cells:
            if cell.cell_type == "code" and FIGURE_CALL.search(cell.source):
                assert any("image/png" in o.get("data", {}) for o in cell.outputs), (stage.name, cell.source)
    index = (cfg.output_dir / "index.html").read_text()
    assert "hm run --validate: tiny scale" in index and f"ranker {maps['ranker']:.4f}" in index
    assert f"the ranker takes {maps['ranker'] / within:.0%} of what its candidates allow" in index
    assert index.count("not run") == 0 and index.count('">report</a>') == len(stages())


def test_submit_mode_writes_a_valid_submission_and_skips_when_up_to_date(tiny_submission: ChainRun) -> None:
    cfg = tiny_submission.world.config()  # the library finds the stages `hm run` finished up to date
    ds = tiny_submission.world.dataset()
    report = validate_submission(cfg.output_dir / "submission.csv", ds.customers, ds.articles)
    assert report.rows == ds.customers.height
    assert (cfg.output_dir / "submission.csv.gz").exists()
    assert run_chain(cfg) == []  # nothing changed: every stage skipped
    index = (cfg.output_dir / "index.html").read_text()  # rewritten; it still lists every stage's time
    assert index.count('">report</a>') == len(stages()) and "not run" not in index
    assert "submission: " in index and "kaggle competitions submit" in index
    assert run_chain(cfg, from_stage="07") == ["07_submission"]


def write_notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data_dir = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(source) for source in sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_force_reruns_every_stage_and_a_changed_stage_reruns_those_after_it(chain_world: WorldDirs,
                                                                              tmp_path: Path) -> None:
    for name in ("01_first", "02_second", "03_third"):
        write_notebook(tmp_path / f"{name}.ipynb", f"x = {name!r}")
    cfg, names = chain_world.config(output_dir=tmp_path / "out"), ["01_first", "02_second", "03_third"]
    assert run_chain(cfg, notebook_dir=tmp_path) == names
    assert run_chain(cfg, notebook_dir=tmp_path) == []
    assert run_chain(cfg, notebook_dir=tmp_path, force=True) == names
    write_notebook(tmp_path / "02_second.ipynb", "x = 'changed'")
    assert run_chain(cfg, notebook_dir=tmp_path) == names[1:]


def test_an_override_reruns_the_first_stage_that_reads_its_section_and_those_after(chain_world: WorldDirs,
                                                                                   tmp_path: Path) -> None:
    names = ["01_eda", "02_candidates", "04_image_model", "05_ensemble", "06_ranking"]
    for name in names:
        write_notebook(tmp_path / f"{name}.ipynb", f"x = {name!r}")
    cfg = chain_world.config(output_dir=tmp_path / "out")
    assert run_chain(cfg, notebook_dir=tmp_path) == names
    assert run_chain(cfg.replace(ranker__n_estimators="10"), notebook_dir=tmp_path) == names[3:]
    assert run_chain(cfg.replace(ranker__n_estimators="10"), notebook_dir=tmp_path) == []
    assert run_chain(cfg.replace(ranker__n_estimators="10", candidates__cap="50"), notebook_dir=tmp_path) == names[1:]
    assert run_chain(cfg.replace(ranker__n_estimators="10", candidates__cap="50", cluster__workers="0"),
                     notebook_dir=tmp_path) == []  # where the work runs changes nothing it computes
    assert overrides_by_stage({"ranker__seed": 1, "negatives__ratio": 5}, names) == [
        {"negatives__ratio": 5}, {}, {}, {"ranker__seed": 1}, {}]  # 03_negatives is not in this run


def test_no_stage_reads_a_section_first_read_by_a_later_stage() -> None:
    """The sections each notebook reads by name (``settings('ranker', ...)``) are first read by it or before it,
    else an override of them would not rerun it (FIRST_READER)."""
    names = [stage.name for stage in stages()]
    for stage in stages():
        source = "".join("".join(c.source) for c in nbformat.read(stage.path, as_version=4).cells)
        for section in set(re.findall(r"settings\(['\"](\w+)['\"]", source)):
            reader = FIRST_READER.get(section, names[0])
            assert names.index(reader) <= names.index(stage.name), (stage.name, section)


def test_progress_inside_a_notebook_reaches_the_terminal_and_the_executed_copy(
        chain_world: WorldDirs, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    write_notebook(tmp_path / "01_long.ipynb", "import logging\nfrom hm_lib.progress import bar, show_progress",
                   "show_progress()\nshow_progress()\nlogging.getLogger('hm_lib.long').info('epoch 1/1 done')",
                   "for _ in bar(range(3), desc='shards'):\n    pass")
    cfg = chain_world.config(output_dir=tmp_path / "out")
    run_chain(cfg, notebook_dir=tmp_path)
    terminal = capfd.readouterr().err
    assert terminal.count("epoch 1/1 done") == 1  # one handler however often show_progress runs
    assert "shards: 100%" in terminal and "3/3" in terminal  # a text bar under `hm run`, not a widget
    cells = nbformat.read(tmp_path / "out" / "notebooks" / "01_long.ipynb", as_version=4).cells
    streams = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr")
    assert "epoch 1/1 done" in streams and "shards: 100%" in streams


def test_a_failing_notebook_is_named_with_its_cell(chain_world: WorldDirs, tmp_path: Path) -> None:
    write_notebook(tmp_path / "01_broken.ipynb", "x = 1", "raise ValueError('boom')")
    cfg = chain_world.config(output_dir=tmp_path / "out")
    with pytest.raises(ChainError, match=r"01_broken\.ipynb failed in cell .*ValueError: boom"):
        run_chain(cfg, notebook_dir=tmp_path)
    assert "boom" in (tmp_path / "out" / "notebooks" / "01_broken.html").read_text()  # readable in a browser


def test_missing_data_and_unknown_stage_are_clear_errors(chain_world: WorldDirs, tmp_path: Path) -> None:
    with pytest.raises(ChainError, match="no transactions_train.csv"):
        run_chain(chain_world.config(data_dir=tmp_path / "empty"))
    with pytest.raises(ChainError, match="unknown stage"):
        run_chain(chain_world.config(), from_stage="99_nothing")
