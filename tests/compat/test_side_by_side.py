"""``minari_namespaces.compat`` and the real ``minari.namespace``, side by side.

Every function is called on both sides with the same inputs, each in its own
fresh ``MINARI_DATASETS_PATH``; results, files on disk, warnings and errors must
agree (our messages may add detail after Minari's text). Then each tool reads,
changes and deletes trees the other made.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import minari.namespace as minari_namespace
import pytest

from minari_namespaces import compat

pytestmark = pytest.mark.compat

Outcome = tuple[str, Any]

VALID_CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("D4RL", None, {}),
    ("D4RL", "Door tasks", {}),
    ("D4RL", None, {"author": "me", "tags": ["a", "b"]}),
    ("D4RL/door", "Door", {"version": 2, "nested": {"x": None, "y": 1.5}}),
    ("D4RL/door/expert-v1", "Deep", {"ok": True}),
    ("my_ns-2/sub_ns", "", {"empty": {}}),
    ("café/données", "Déscription ✓", {"ünï": "çödé"}),
    ("日本/ロボット", None, {"k": "v"}),
]


class Sides:
    """Runs the same call on Minari and on compat, each in its own store."""

    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.roots = {"minari": base / "minari", "ours": base / "ours"}
        self.modules: dict[str, ModuleType] = {"minari": minari_namespace, "ours": compat}
        self._monkeypatch = monkeypatch

    def on(self, side: str) -> ModuleType:
        self._monkeypatch.setenv("MINARI_DATASETS_PATH", str(self.roots[side]))
        return self.modules[side]

    def call(self, side: str, name: str, *args: Any, **kwargs: Any) -> tuple[Outcome, list[str]]:
        module = self.on(side)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = getattr(module, name)(*args, **kwargs)
                if hasattr(result, "__next__"):
                    result = list(result)
                outcome: Outcome = ("ok", result)
            except Exception as error:
                outcome = ("error", error)
        messages = [
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if issubclass(w.category, UserWarning)
        ]
        return outcome, messages

    def both(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Call ``name`` on both sides and assert they agree."""
        theirs, their_warnings = self.call("minari", name, *args, **kwargs)
        ours, our_warnings = self.call("ours", name, *args, **kwargs)
        assert_same_outcome(theirs, ours, self.roots)
        assert [w.replace(str(self.roots["ours"]), "<root>") for w in our_warnings] == [
            w.replace(str(self.roots["minari"]), "<root>") for w in their_warnings
        ]

    def files(self, side: str) -> dict[str, bytes]:
        root = self.roots[side]
        return {
            str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("namespace_metadata.json"))
        }

    def assert_same_files(self) -> None:
        assert self.files("ours") == self.files("minari")


def assert_same_outcome(theirs: Outcome, ours: Outcome, roots: dict[str, Path]) -> None:
    assert ours[0] == theirs[0], f"Minari gave {theirs!r}, we gave {ours!r}"
    if theirs[0] == "ok":
        assert ours[1] == theirs[1]
        return
    their_error, our_error = theirs[1], ours[1]
    assert isinstance(our_error, type(their_error)), (their_error, our_error)
    their_text = str(their_error).replace(str(roots["minari"]), "<root>")
    our_text = str(our_error).replace(str(roots["ours"]), "<root>")
    assert our_text.startswith(their_text), (their_text, our_text)


@pytest.fixture
def sides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sides:
    return Sides(tmp_path, monkeypatch)


@pytest.mark.parametrize(("namespace", "description", "extra"), VALID_CASES)
def test_create_get_update_delete_agree(
    sides: Sides, namespace: str, description: str | None, extra: dict[str, Any]
) -> None:
    sides.both("create_namespace", namespace, description, **extra)
    sides.assert_same_files()
    sides.both("list_local_namespaces")
    sides.both("get_namespace_metadata", namespace)
    sides.both("create_namespace", namespace, description, **extra)
    sides.both("update_namespace_metadata", namespace, "changed", more=[1, 2])
    sides.assert_same_files()
    sides.both("get_namespace_metadata", namespace)
    sides.both("update_namespace_metadata", namespace)
    sides.assert_same_files()
    sides.both("namespace_hierarchy", namespace)
    if "/" in namespace:
        sides.both("delete_namespace", namespace.split("/", maxsplit=1)[0])
        sides.assert_same_files()
    sides.both("delete_namespace", namespace)
    sides.both("list_local_namespaces")
    sides.assert_same_files()


@pytest.mark.parametrize(
    "call",
    [
        ("get_namespace_metadata", "missing_ns"),
        ("update_namespace_metadata", "missing_ns"),
        ("delete_namespace", "missing_ns"),
        ("get_namespace_metadata", "deep/missing_ns"),
    ],
    ids="-".join,
)
def test_nonexistent_namespaces_agree(sides: Sides, call: tuple[str, str]) -> None:
    sides.both(*call)
    sides.assert_same_files()


@pytest.mark.parametrize(
    "namespace",
    ["/", "./", "../", "/namespace", "namespace/", "", "a b", "a.b", "a\\b", "..", "x/../y"],
)
@pytest.mark.parametrize(
    "function",
    ["validate_namespace", "create_namespace", "get_namespace_metadata", "delete_namespace"],
)
def test_invalid_ids_agree(sides: Sides, function: str, namespace: str) -> None:
    sides.both(function, namespace)
    sides.assert_same_files()


def test_none_is_a_type_error_on_both_sides(sides: Sides) -> None:
    sides.both("validate_namespace", None)
    sides.both("namespace_hierarchy", None)


def test_a_nested_create_makes_the_same_parents(sides: Sides) -> None:
    sides.both("create_namespace", "nested/nested/nested/namespace", "deep")
    sides.assert_same_files()
    sides.both("list_local_namespaces")
    sides.both("create_namespace", "nested/other", z=1)
    sides.assert_same_files()
    sides.both("list_local_namespaces")


def test_deleting_a_parent_with_children_fails_the_same_way(sides: Sides) -> None:
    sides.both("create_namespace", "parent/child")
    sides.both("delete_namespace", "parent")
    sides.assert_same_files()


def test_string_order_of_listings_agrees(sides: Sides) -> None:
    # Case-only twins (ab beside Ab) are refused by design, so none here.
    for name in ["Ab", "a-b", "Ab/cd", "a0", "a_b", "zz", "Zz0", "zz/Q"]:
        sides.both("create_namespace", name)
    sides.both("list_local_namespaces")


# -- one tool's tree, the other tool's hands ------------------------------------


def _use(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))


@pytest.mark.parametrize(
    ("writer", "reader"),
    [(minari_namespace, compat), (compat, minari_namespace)],
    ids=["minari-writes", "compat-writes"],
)
def test_each_tool_reads_changes_and_deletes_the_others_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: ModuleType, reader: ModuleType
) -> None:
    _use(monkeypatch, tmp_path)
    for namespace, description, extra in VALID_CASES:
        if namespace not in writer.list_local_namespaces():
            writer.create_namespace(namespace, description, **extra)
    expected = writer.list_local_namespaces()
    assert reader.list_local_namespaces() == expected
    for namespace in expected:
        assert reader.get_namespace_metadata(namespace) == writer.get_namespace_metadata(namespace)

    reader.update_namespace_metadata("D4RL/door", "by the other tool", owner="x")
    assert writer.get_namespace_metadata("D4RL/door") == {
        "owner": "x",
        "description": "by the other tool",
    }
    reader.delete_namespace("D4RL/door/expert-v1")
    reader.delete_namespace("日本/ロボット")
    assert "D4RL/door/expert-v1" not in writer.list_local_namespaces()
    assert "日本/ロボット" not in writer.list_local_namespaces()
    writer.delete_namespace("D4RL/door")
    assert reader.list_local_namespaces() == writer.list_local_namespaces()


def test_minari_reads_bytes_we_wrote_exactly_as_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, tmp_path / "ours")
    compat.create_namespace("x2", "Déscription ✓", zeta=1, alpha=[1, 2], nested={"b": None})
    ours = (tmp_path / "ours" / "x2" / "namespace_metadata.json").read_bytes()
    _use(monkeypatch, tmp_path / "theirs")
    minari_namespace.create_namespace(
        "x2", "Déscription ✓", zeta=1, alpha=[1, 2], nested={"b": None}
    )
    theirs = (tmp_path / "theirs" / "x2" / "namespace_metadata.json").read_bytes()
    assert ours == theirs


def test_decomposed_unicode_is_malformed_for_minari_and_the_nfc_id_for_us(sides: Sides) -> None:
    """Issue 10, defect 17: the migrating page said Minari took ``cafe`` + U+0301 as
    another name; Minari 0.5.4 rejects it, and we read it as ``café``."""
    decomposed = "cafe\u0301"
    (minari, _), _ = sides.call("minari", "validate_namespace", decomposed)
    assert minari == "error"
    (ours, _), _ = sides.call("ours", "validate_namespace", decomposed)
    assert ours == "ok"
    sides.call("ours", "create_namespace", decomposed)
    (_, listed), _ = sides.call("ours", "list_local_namespaces")
    assert listed == ["caf\u00e9"]


def test_metadata_keys_named_like_keywords_are_stored_as_minari_stores_them(
    sides: Sides,
) -> None:
    """Issue 10, defect 4: ``exist_ok`` (and any other key) is metadata, as in Minari."""
    stored = {}
    for side in ("minari", "ours"):
        (outcome, _), _ = sides.call(side, "create_namespace", "ab", exist_ok=True, ns="x")
        assert outcome == "ok", side
        (_, stored[side]), _ = sides.call(side, "get_namespace_metadata", "ab")
        (outcome, error), _ = sides.call(side, "create_namespace", "ab", exist_ok=True)
        assert outcome == "error", side
        assert isinstance(error, ValueError), side
    assert stored["ours"] == stored["minari"]
    assert stored["ours"]["exist_ok"] is True
    assert sides.roots["minari"].joinpath("ab", "namespace_metadata.json").read_bytes() == (
        sides.roots["ours"].joinpath("ab", "namespace_metadata.json").read_bytes()
    )
