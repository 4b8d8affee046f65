"""Progress bars and log lines: widgets or terminal bars by default, plain text inside `hm run`."""
from __future__ import annotations

import logging

import pytest
from tqdm.std import tqdm as text_tqdm

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
