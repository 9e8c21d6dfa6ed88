"""The public surface is exactly what the API reference documents."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import minari_namespaces
import minari_namespaces.testing

API_PAGE = Path(__file__).parents[2] / "docs" / "api.md"
_DIRECTIVE = re.compile(r"^\.\. auto(?:class|function|data|exception):: (\S+)$", re.MULTILINE)


def documented() -> dict[str, list[str]]:
    """Each module on the API page with the names documented from it, in page order."""
    found: dict[str, list[str]] = {}
    for path in _DIRECTIVE.findall(API_PAGE.read_text(encoding="utf-8")):
        module, name = path.rsplit(".", 1)
        found.setdefault(module, []).append(name)
    return found


def test_each_documented_module_exports_exactly_what_the_reference_lists() -> None:
    modules = documented()
    assert len(modules) >= 10
    for module, names in modules.items():
        assert len(names) == len(set(names)), module
        assert set(importlib.import_module(module).__all__) == set(names), module


def test_every_name_the_package_exports_is_in_the_reference() -> None:
    objects = [
        getattr(importlib.import_module(module), name)
        for module, names in documented().items()
        for name in names
    ]
    for package in (minari_namespaces, minari_namespaces.testing):
        for name in package.__all__:
            exported = getattr(package, name)
            assert any(exported is obj for obj in objects), f"{package.__name__}.{name}"


def test_the_reference_starts_with_the_service() -> None:
    assert next(iter(documented())) == "minari_namespaces.service"
    assert documented()["minari_namespaces.service"][0] == "NamespaceService"
