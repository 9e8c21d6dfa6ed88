"""The direction of imports inside the package, as docs/decisions.md draws it: each
module imports only from its own layer or the layers below it, and nothing but the
demo imports the testing helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import minari_namespaces

PACKAGE = Path(minari_namespaces.__file__).parent

#: The layers, top first; a module belongs to the longest prefix that names it.
LAYERS: list[tuple[str, ...]] = [
    (
        "minari_namespaces",
        "minari_namespaces.__main__",
        "minari_namespaces.cli",
        "minari_namespaces.compat",
        "minari_namespaces.demo",
    ),
    ("minari_namespaces.service",),
    ("minari_namespaces.transfer", "minari_namespaces.catalog"),
    ("minari_namespaces.repository",),
    (
        "minari_namespaces.stores",
        "minari_namespaces.stores.local",
        "minari_namespaces.stores.fsspec",
    ),
    ("minari_namespaces.stores.drivers",),
    # What every store and driver shares: the rules of a store's layout, the walk
    # of a folder tree, dataset folders written whole, and credentials in URLs.
    (
        "minari_namespaces.stores.base",
        "minari_namespaces.stores.dataset_base",
        "minari_namespaces.stores.folders",
        "minari_namespaces.stores.dataset_folders",
        "minari_namespaces.stores.credentials",
    ),
    (
        "minari_namespaces.identifier",
        "minari_namespaces.metadata",
        "minari_namespaces.datasets",
        "minari_namespaces.dataset_files",
        "minari_namespaces.errors",
        "minari_namespaces.values",
        "minari_namespaces.atomic",
    ),
]
TESTING = "minari_namespaces.testing"
#: The only module of the library that may start the testing helpers (the stand-in Hub).
USES_TESTING = {"minari_namespaces.demo"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(f"{prefix}.")


def depth(name: str) -> int | None:
    """The layer of ``name`` (0 is the top), ``None`` for the testing helpers."""
    if within(name, TESTING):
        return None
    matches = [
        (len(prefix), index)
        for index, layer in enumerate(LAYERS)
        for prefix in layer
        if within(name, prefix)
    ]
    assert matches, f"{name} is in no layer: add it to LAYERS and to docs/decisions.md"
    return max(matches)[1]


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports (lazy and TYPE_CHECKING ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return {name for name in found if within(name, "minari_namespaces")}


def test_every_module_of_the_library_has_a_layer() -> None:
    for name in modules():
        depth(name)


def test_no_import_runs_up_a_layer() -> None:
    found = modules()
    upward = []
    for name, path in found.items():
        own = depth(name)
        if own is None:
            continue  # the testing helpers may import anything
        for target in imports_of(path, set(found)):
            theirs = depth(target)
            if theirs is not None and theirs < own:
                upward.append(f"{name} imports {target}")
    assert upward == []


def test_only_the_demo_imports_the_testing_helpers() -> None:
    found = modules()
    users = {
        name
        for name, path in found.items()
        if not within(name, TESTING)
        and any(within(target, TESTING) for target in imports_of(path, set(found)))
    }
    assert users == USES_TESTING


def test_the_layers_name_only_modules_that_exist() -> None:
    found = set(modules())
    assert [prefix for layer in LAYERS for prefix in layer if prefix not in found] == []
