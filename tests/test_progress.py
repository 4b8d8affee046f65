"""Progress bars and log lines: widgets or terminal bars by default, plain text inside `hm run`."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from tqdm.std import tqdm as text_tqdm

from hm_lib.kernel_stderr import QuietStderr, kernel_manager
from hm_lib.progress import HANDLER_NAME, TEXT_ENV, bar, show_progress, text_mode


def test_a_bar_is_plain_text_on_stderr_inside_the_chain(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(TEXT_ENV, "1")
    assert text_mode()
    for _ in bar(range(5), desc="shards", unit="shard"):
        pass
    err = capsys.readouterr().err
    assert "shards: 100%" in err and "5/5" in err  # drawn although stderr is not a terminal
    monkeypatch.delenv(TEXT_ENV)
    assert not text_mode()
    with bar(total=2, desc="quiet", disable=True) as hidden:
        hidden.update(2)
    assert "quiet" not in capsys.readouterr().err


def test_show_progress_adds_one_handler_and_lines_go_around_a_bar(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("hm_lib")
    before = list(logger.handlers), logger.level
    try:
        monkeypatch.setenv(TEXT_ENV, "1")
        show_progress()
        show_progress()
        assert [h.get_name() for h in logger.handlers].count(HANDLER_NAME) == 1
        with bar(total=2, desc="members") as progress:
            progress.update(1)
            logging.getLogger("hm_lib.ensemble").info("member 1 trained")
            progress.update(1)
        err = capsys.readouterr().err
        assert "member 1 trained\n" in err and "members: 100%" in err
        assert isinstance(progress, text_tqdm)
    finally:
        logger.handlers[:] = before[0]
        logger.setLevel(before[1])


def test_the_kernels_stderr_reaches_the_terminal_without_native_log_chatter() -> None:
    terminal = io.StringIO()
    quiet = QuietStderr(terminal)
    quiet.write("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                "I0000 00:00:1796249334.699889    5391 port.cc:153] oneDNN custom operations are on.\n")
    quiet.write("W0000 00:00:1796249334.7    5391 cpu_feature_guard.cc:210] AVX512F\nepoch 1/2 done\n")
    quiet.write("E0000 00:00:1796249334.7    5391 kernel.cc:9] out of memory\n")
    quiet.write("To enable the following instructions: AVX2 AVX512F, rebuild TensorFlow\n")
    quiet.write("\rshards:  50%|#####     | 1/2")
    assert terminal.getvalue() == ("epoch 1/2 done\nE0000 00:00:1796249334.7    5391 kernel.cc:9] out of memory\n"
                                   "\rshards:  50%|#####     | 1/2")


def test_a_kernels_native_stderr_goes_to_its_log_not_to_the_terminal(capfd, tmp_path: Path) -> None:
    """ipykernel echoes what is written to the kernel's descriptor 2 to the descriptor it inherited: with the
    chain's kernel manager that is a log file, and the stream copy alone reaches the terminal, filtered."""
    import nbformat
    import papermill as pm

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import os, sys, time\n"
        "os.write(2, b'I0000 00:00:1796249334.699889    5391 port.cc:153] native chatter\\n')\n"
        "os.write(1, b'[LightGBM] [Warning] native stdout\\n')\n"
        "time.sleep(0.2)\n"
        "print('a python line', file=sys.stderr)")]
    nbformat.write(notebook, tmp_path / "in.ipynb")
    terminal = io.StringIO()
    pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                        progress_bar=False, log_output=False, stderr_file=QuietStderr(terminal),
                        kernel_manager_class=kernel_manager(tmp_path / "out.kernel.log"))
    assert "native chatter" in (log := (tmp_path / "out.kernel.log").read_text()) and "native stdout" in log
    echoed = capfd.readouterr()
    assert "native chatter" not in echoed.err and "native stdout" not in echoed.out
    assert terminal.getvalue() == "a python line\n"
