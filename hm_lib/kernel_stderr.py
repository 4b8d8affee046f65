"""The notebooks' stderr forwarded to the run's terminal, without the native libraries' start-up chatter.

TensorFlow's C++ side logs through absl before absl is initialised, which no environment variable
silences (TensorFlow 2.21 on a CPU with oneDNN prints "oneDNN custom operations are on" even under
``TF_CPP_MIN_LOG_LEVEL=3``). ipykernel captures what a native library writes to the kernel's file
descriptors 1 and 2, sends it as stream messages and echoes it to the descriptor it replaced. So the chain
starts each kernel with both descriptors on a log file (:func:`kernel_manager`: nothing lost, a crash's last
words included), and forwards the stream messages through :class:`QuietStderr`, which drops the native
info and warning lines (errors and fatal lines pass) and passes everything else, progress bars included.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TextIO

from jupyter_client import AsyncKernelManager

# absl / glog's line prefix: severity, MMDD, a time (absl before its initialisation prints 00:00:<epoch seconds>),
# thread id, file:line]
NATIVE_LINE = re.compile(r"^[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
ABSL_PREINIT = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
CPU_HINT = "To enable the following instructions:"  # the second line of TensorFlow's cpu_feature_guard message


def is_chatter(line: str) -> bool:
    """Whether a line is a native library's info or warning log line."""
    return line.startswith((ABSL_PREINIT, CPU_HINT)) or NATIVE_LINE.match(line) is not None


class QuietStderr:
    """A text stream that forwards what is written to ``target`` less the native log lines.

    Papermill writes each stream message of the kernel as it comes; a native log line arrives whole in
    one message (it is one write of the C++ logger), so lines are judged per message without buffering,
    which keeps a progress bar's carriage-return redraws immediate.
    """

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        *whole, last = text.split("\n")  # lines end at newlines only: a bar's "\r" redraws stay in one piece
        kept = "".join(line + "\n" for line in whole if not is_chatter(line)) + ("" if is_chatter(last) else last)
        if kept:
            self.target.write(kept)
        return len(text)

    def flush(self) -> None:
        self.target.flush()


def kernel_manager(log_path: Path) -> type[AsyncKernelManager]:
    """A kernel manager class (nbclient's ``kernel_manager_class``) whose kernels write their own file
    descriptors 1 and 2 to ``log_path`` (rewritten at each start), instead of the terminal of the process that
    starts them (LightGBM's C++ warnings, for one, go to descriptor 1)."""

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "wb") as log:  # noqa: ASYNC230 (once per kernel start; the kernel keeps a copy)
                await super()._async_launch_kernel(kernel_cmd, **{**kw, "stdout": log, "stderr": log})

    return LoggedKernelManager
