"""Packages whose exports are imported on first use (hm_lib.lazy): every name resolves to what its module
defines (never to a submodule of the same name), and an unknown name is an AttributeError."""
from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["hm_lib.ranking", "hm_lib.ensemble", "hm_lib.image_model"])
def test_every_export_is_its_modules_object(package: str) -> None:
    pkg = importlib.import_module(package)
    assert pkg.__all__ and sorted(dir(pkg)) == sorted(pkg.__all__)
    for name in pkg.__all__:
        value = getattr(pkg, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
        assert value is getattr(importlib.import_module(f"{package}.{pkg._EXPORTS[name]}"), name)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        pkg.nothing_here  # noqa: B018
