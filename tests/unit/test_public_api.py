"""The public surface is exactly what the API reference documents."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import minari_namespaces

API_PAGE = Path(__file__).parents[2] / "docs" / "api.md"
_DIRECTIVE = re.compile(r"\.\. automodule:: (\S+)\n(?:   :members:(.*)\n)?")


def documented() -> dict[str, set[str] | None]:
    """Each module on the API page with the members it lists (``None``: all of ``__all__``)."""
    found: dict[str, set[str] | None] = {}
    for module, members in _DIRECTIVE.findall(API_PAGE.read_text(encoding="utf-8")):
        names = {name.strip() for name in members.split(",") if name.strip()}
        found[module] = names or None
    return found


def test_each_documented_module_exports_exactly_what_the_reference_lists() -> None:
    for module, members in documented().items():
        exported = set(importlib.import_module(module).__all__)
        if members is not None:
            assert exported == members, module


def test_every_name_the_package_exports_is_in_the_reference() -> None:
    names: set[str] = set()
    for module, members in documented().items():
        names |= members if members is not None else set(importlib.import_module(module).__all__)
    assert set(minari_namespaces.__all__) - names == set()
