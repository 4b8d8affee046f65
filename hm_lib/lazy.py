"""Package exports imported on first use (PEP 562), so that importing a package costs only what is used.

``import hm_lib.ranking`` must not load TensorFlow through ``hm_lib.ensemble``, nor the demo
LightGBM: a package's ``__init__`` names its exports and their modules, and each module is imported
when one of its names is first read.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose names live in the submodules ``exports`` maps
    them to (name -> module under the package)."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
