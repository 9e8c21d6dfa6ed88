"""Hostile local trees, generated (issue 10, beyond the list).

Hypothesis lays out a dataset folder with what an attacker or an unlucky user can
leave there — FIFOs, symbolic links out of the root and in loops, names that are not
UTF-8 or not NFC, junk files, files where folders belong, over-deep and over-long
paths, corrupt, oversized and Minari-style markers — then runs every reading and
transferring operation over it, each under a time limit. Nothing may hang, nothing
but a ``NamespaceError`` (or a warning of the library) may escape, and nothing
outside the two roots may change.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from minari_namespaces import (
    NamespaceError,
    NamespaceId,
    NamespaceService,
    NamespaceWarning,
)
from tests.support.deadline import within

MARKER = "namespace_metadata.json"
NAMES = ["a", "b", "D4RL", "door", "data", "café", "cafe\u0301", ".hidden", "x" * 200]
KINDS = [
    "folder",
    "marker",
    "minari-marker",
    "corrupt-marker",
    "oversized-marker",
    "surrogate-marker",
    "fifo-marker",
    "folder-marker",
    "link-out",
    "link-marker-out",
    "link-loop",
    "junk",
    "file-as-folder",
    "not-utf8",
    "deep",
]

entries = st.lists(
    st.tuples(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4), st.sampled_from(KINDS)),
    min_size=1,
    max_size=12,
)


def put(path: Path, data: str | bytes) -> None:
    """Write a file without blocking on a FIFO an earlier entry left there (no
    reader: ``ENXIO``) and without following a link an earlier entry made."""
    raw = data.encode() if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_NOFOLLOW
    descriptor = os.open(path, flags, 0o644)
    try:
        os.write(descriptor, raw)
    finally:
        os.close(descriptor)


def lay_out(root: Path, outside: Path, parts: list[str], kind: str) -> None:
    """Make one hostile entry at ``root/parts``; clashes with earlier ones are fine."""
    folder = root.joinpath(*parts)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if kind == "marker":
            put(marker, json.dumps({"description": "/".join(parts)}))
        elif kind == "minari-marker":
            put(marker, '{"description": 5, "deep": ' + "[" * 80 + "]" * 80 + "}")
        elif kind == "corrupt-marker":
            put(marker, b"\xff{not json")
        elif kind == "oversized-marker":
            put(marker, json.dumps({"x": "y" * (1024 * 1024 + 10)}))
        elif kind == "surrogate-marker":
            put(marker, b'{"x": "\\ud800"}')
        elif kind == "fifo-marker":
            os.mkfifo(marker)
        elif kind == "folder-marker":
            marker.mkdir()
        elif kind == "link-out":
            (folder / "escape").symlink_to(outside, target_is_directory=True)
        elif kind == "link-marker-out":
            marker.symlink_to(outside / "secret.json")
        elif kind == "link-loop":
            (folder / "loop").symlink_to(folder, target_is_directory=True)
        elif kind == "junk":
            put(folder / ".DS_Store", b"\0junk")
        elif kind == "file-as-folder":
            put(folder / "child", "not a folder")
        elif kind == "not-utf8":
            os.mkdir(os.path.join(os.fsencode(folder), b"bad\xff"))
        elif kind == "deep":
            deep = folder.joinpath(*(f"l{i}" for i in range(18)))
            deep.mkdir(parents=True, exist_ok=True)
            put(deep / MARKER, "{}")
    except OSError:
        pass  # e.g. a path through a file made by an earlier entry


def snapshot(folder: Path) -> dict[str, str]:
    """What every entry under ``folder`` is (links as their targets, files by hash)."""
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            seen[str(path)] = f"link:{os.readlink(path)}"
        elif path.is_file():
            seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[str(path)] = "folder"
    return seen


def only_library_outcomes(call: Callable[[], object]) -> None:
    """Run ``call``: success, a ``NamespaceError`` and the library's warnings only."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with within(10):
                call()
        except NamespaceError:
            pass
    strangers = [w for w in caught if not issubclass(w.category, NamespaceWarning)]
    assert strangers == [], [str(w.message) for w in strangers]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(layout=entries)
@example(layout=[(["a", "data", "café"], "fifo-marker"), (["a", "data", "café"], "marker")])
def test_no_hostile_tree_hangs_crashes_or_reaches_outside(
    layout: list[tuple[list[str], str]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="minari-hostile-") as scratch:
        base = Path(scratch)
        outside = base / "outside"
        outside.mkdir()
        (outside / "secret.json").write_text('{"secret": true}')
        root = base / "datasets"
        root.mkdir()
        for parts, kind in layout:
            lay_out(root, outside, parts, kind)
        before = snapshot(outside)
        remote = (base / "remote").as_uri()
        service = NamespaceService.from_urls(root, remote)
        listed: list[NamespaceId] = []

        def list_local() -> None:
            listed.extend(service.list_local())

        only_library_outcomes(list_local)
        only_library_outcomes(service.children)
        for ns in listed[:8]:
            only_library_outcomes(partial(service.children, ns))
        only_library_outcomes(lambda: service.local.get_many(listed))
        only_library_outcomes(service.upload_tree)
        fresh = NamespaceService.from_urls(base / "fresh", remote)
        only_library_outcomes(fresh.download_tree)
        only_library_outcomes(fresh.diff)
        assert snapshot(outside) == before
        assert {p.name for p in base.iterdir()} <= {"outside", "datasets", "remote", "fresh"}
