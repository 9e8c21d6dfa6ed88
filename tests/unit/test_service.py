"""``NamespaceService``: the use cases, on every local store, and transfers."""

from __future__ import annotations

import re
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    InvalidMetadataError,
    InvalidNamespaceError,
    KeptNamespacesWarning,
    LocalNamespaceRepository,
    NamespaceExistsError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceRepository,
    NamespaceService,
    NamespaceWarning,
    PropertiesUpdateSummary,
    RemoteNotConfiguredError,
    compat,
)
from minari_namespaces.repository import remote_from_environment
from minari_namespaces.testing import InMemoryNamespaceRepository

STORES: dict[str, Callable[[Path], NamespaceRepository]] = {
    "in-memory": lambda tmp_path: InMemoryNamespaceRepository("local"),
    "local": lambda tmp_path: LocalNamespaceRepository(tmp_path / "datasets"),
}
AS_STR_OR_ID: dict[str, Callable[[str], str | NamespaceId]] = {"str": str, "id": NamespaceId}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> NamespaceRepository:
    return STORES[request.param](tmp_path)


@pytest.fixture
def service(store: NamespaceRepository) -> NamespaceService:
    return NamespaceService(store)


def ids(*texts: str) -> list[NamespaceId]:
    return [NamespaceId(text) for text in texts]


def every_parent_present(store: NamespaceRepository) -> bool:
    listed = set(store.list_namespaces())
    return all(ns.parent is None or ns.parent in listed for ns in listed)


class CreatesThenFails(InMemoryNamespaceRepository):
    """A store whose disk fills up after ``allowed`` creates."""

    def __init__(self, name: str, allowed: int) -> None:
        super().__init__(name)
        self.allowed = allowed

    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        if self.allowed == 0:
            raise OSError(28, "No space left on device")
        self.allowed -= 1
        super()._create_one(ns, payload)


# -- create --------------------------------------------------------------------


def test_create_makes_missing_ancestors_with_empty_metadata(service: NamespaceService) -> None:
    created = service.create("a/b/c", description="C", metadata={"n": 1})
    assert created == NamespaceId("a/b/c")
    assert service.list_local() == ids("a", "a/b", "a/b/c")
    assert service.get("a").to_dict() == {}
    assert service.get("a/b").to_dict() == {}
    assert service.get("a/b/c").to_dict() == {"n": 1, "description": "C"}


def test_create_keeps_existing_ancestors_as_they_are(service: NamespaceService) -> None:
    service.create("a", description="A", metadata={"keep": True})
    service.create("a/b/c")
    assert service.get("a").to_dict() == {"keep": True, "description": "A"}
    assert service.list_local() == ids("a", "a/b", "a/b/c")


@pytest.mark.parametrize("allowed", [0, 1, 2, 3])
def test_create_makes_parents_first_so_a_failure_never_orphans_a_child(allowed: int) -> None:
    store = CreatesThenFails("local", allowed)
    service = NamespaceService(store)
    with pytest.raises(OSError, match="No space"):
        service.create("a/b/c/d")
    assert service.list_local() == ids("a", "a/b", "a/b/c")[:allowed]
    assert every_parent_present(store)


def test_create_without_metadata_stores_an_empty_object(service: NamespaceService) -> None:
    service.create("plain")
    assert service.get("plain").to_dict() == {}
    assert service.get("plain").description is None


def test_creating_an_existing_namespace_raises_and_keeps_it(service: NamespaceService) -> None:
    service.create("a", description="first")
    with pytest.raises(NamespaceExistsError, match="'a' already exists"):
        service.create("a", description="second")
    assert service.get("a").to_dict() == {"description": "first"}


def test_an_existing_namespace_is_reported_without_an_internal_chained_error(
    service: NamespaceService,
) -> None:
    """Issue 13, point 11: the traceback showed the temporary file of the losing write."""
    service.create("D4RL/door")
    with pytest.raises(NamespaceExistsError) as caught:
        service.create("D4RL/door")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    printed = "".join(traceback.format_exception(caught.value))
    # No temporary file's name (``.namespace_metadata.json.<pid>.<hex>.tmp``), and
    # no second exception, wherever the checkout or the store lives.
    assert ".namespace_metadata.json." not in printed
    assert not re.search(r"\.tmp\b", printed), printed
    assert "FileExistsError" not in printed
    assert "During handling" not in printed
    assert "direct cause" not in printed


def test_exist_ok_leaves_an_existing_namespace_untouched(service: NamespaceService) -> None:
    service.create("a/b", description="first")
    assert service.create("a/b", description="second", exist_ok=True) == NamespaceId("a/b")
    assert service.get("a/b").to_dict() == {"description": "first"}
    assert service.list_local() == ids("a", "a/b")


def test_exist_ok_still_creates_a_missing_namespace(service: NamespaceService) -> None:
    service.create("a/b", description="new", exist_ok=True)
    assert service.get("a/b").description == "new"


def test_an_existing_ancestor_is_not_an_error(service: NamespaceService) -> None:
    service.create("a/b")
    service.create("a/b/c")
    service.create("a/x")
    assert service.list_local() == ids("a", "a/b", "a/b/c", "a/x")


def test_invalid_ids_are_refused_before_anything_is_written(service: NamespaceService) -> None:
    for bad in ["a//b", "a/data", "a/b c", "", "a/.."]:
        with pytest.raises(InvalidNamespaceError, match="Malformed namespace"):
            service.create(bad)
    with pytest.raises(TypeError):
        service.create(None)  # type: ignore[arg-type]
    assert service.list_local() == []


def test_a_decomposed_id_names_the_same_namespace(service: NamespaceService) -> None:
    service.create("cafe\u0301/door", description="d")
    assert service.exists("café/door")
    assert service.list_local() == ids("café", "café/door")
    assert service.get("caf\u00e9/door").description == "d"


@pytest.mark.parametrize("convert", AS_STR_OR_ID.values(), ids=AS_STR_OR_ID.keys())
def test_every_method_accepts_a_string_or_an_id(
    service: NamespaceService, convert: Callable[[str], str | NamespaceId]
) -> None:
    assert service.create(convert("a/b"), description="d") == NamespaceId("a/b")
    assert service.exists(convert("a/b"))
    assert service.get(convert("a/b")).description == "d"
    service.replace(convert("a/b"), {"description": "e"})
    service.update_properties(convert("a/b"), updates={"n": 1})
    assert service.get(convert("a/b")).to_dict() == {"description": "e", "n": 1}
    assert service.list_local(convert("a")) == ids("a", "a/b")
    assert service.children(convert("a")) == ids("a/b")
    service.delete(convert("a/b"))
    assert not service.exists(convert("a/b"))


# -- get, exists, replace --------------------------------------------------------


def test_get_and_exists_of_a_missing_namespace(service: NamespaceService) -> None:
    assert not service.exists("missing")
    with pytest.raises(NamespaceNotFoundError, match="'missing'"):
        service.get("missing")


def test_replace_replaces_all_metadata(service: NamespaceService) -> None:
    service.create("a", description="old", metadata={"keep": "no", "n": 1})
    service.replace("a", {"other": 2})
    assert service.get("a").to_dict() == {"other": 2}
    service.replace("a", {"description": "new"})
    assert service.get("a").to_dict() == {"description": "new"}
    service.replace("a", {})
    assert service.get("a").to_dict() == {}


def test_replace_of_a_missing_namespace_creates_nothing(service: NamespaceService) -> None:
    with pytest.raises(NamespaceNotFoundError):
        service.replace("a/b", {"description": "x"})
    assert service.list_local() == []


def test_replace_validates_metadata_first(service: NamespaceService) -> None:
    service.create("a", description="kept")
    with pytest.raises(InvalidMetadataError):
        service.replace("a", {"score": float("nan")})
    assert service.get("a").to_dict() == {"description": "kept"}


# -- update_properties ---------------------------------------------------------------


def test_update_properties_merges_and_reports_what_it_did(service: NamespaceService) -> None:
    service.create("a", description="d", metadata={"keep": 1, "change": 2, "drop": 3})
    summary = service.update_properties(
        "a", updates={"new": 4, "change": 20}, removals=["drop", "ghost"]
    )
    assert summary == PropertiesUpdateSummary(
        updated=["change", "new"], removed=["drop"], missing=["ghost"]
    )
    assert service.get("a").to_dict() == {"description": "d", "keep": 1, "change": 20, "new": 4}


def test_update_properties_with_nothing_changes_nothing(service: NamespaceService) -> None:
    service.create("a", description="d", metadata={"n": 1})
    assert service.update_properties("a") == PropertiesUpdateSummary()
    assert service.get("a").to_dict() == {"n": 1, "description": "d"}


def test_update_properties_can_remove_the_description(service: NamespaceService) -> None:
    service.create("a", description="d", metadata={"n": 1})
    summary = service.update_properties("a", removals=["description", "description"])
    assert summary == PropertiesUpdateSummary(removed=["description"])
    assert service.get("a").to_dict() == {"n": 1}


def test_update_properties_reports_every_missing_removal(service: NamespaceService) -> None:
    service.create("a")
    summary = service.update_properties("a", removals=["y", "x"])
    assert summary == PropertiesUpdateSummary(missing=["x", "y"])
    assert service.get("a").to_dict() == {}


def test_overlapping_updates_and_removals_are_refused_and_change_nothing(
    service: NamespaceService,
) -> None:
    service.create("a", description="d", metadata={"x": 1, "y": 2})
    with pytest.raises(InvalidMetadataError, match=r"\['x'\]"):
        service.update_properties("a", updates={"x": 10, "z": 3}, removals=["x", "y"])
    assert service.get("a").to_dict() == {"x": 1, "y": 2, "description": "d"}


def test_update_properties_refuses_non_json_values_and_changes_nothing(
    service: NamespaceService,
) -> None:
    service.create("a", metadata={"x": 1})
    bad_updates: list[dict[str, Any]] = [
        {"y": float("inf")},
        {"y": {1, 2}},
        {"y": b"x"},
        {"y": {"z": {(1,): 2}}},
    ]
    for bad in bad_updates:
        with pytest.raises(InvalidMetadataError):
            service.update_properties("a", updates=bad, removals=["x"])
    assert service.get("a").to_dict() == {"x": 1}


def test_update_properties_of_a_missing_namespace_creates_nothing(
    service: NamespaceService,
) -> None:
    with pytest.raises(NamespaceNotFoundError):
        service.update_properties("a", updates={"x": 1})
    assert service.list_local() == []


# -- delete ---------------------------------------------------------------------------


def test_delete_removes_an_empty_namespace_only(service: NamespaceService) -> None:
    service.create("a/b/c")
    with pytest.raises(NamespaceNotEmptyError):
        service.delete("a")
    with pytest.raises(NamespaceNotEmptyError):
        service.delete("a/b")
    service.delete("a/b/c")
    service.delete("a/b")
    assert service.list_local() == ids("a")
    service.delete("a")
    assert service.list_local() == []


def test_has_datasets_tells_which_namespace_holds_a_dataset_and_cannot_be_deleted(
    local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    service = NamespaceService(local, remote)
    service.create("a/b")
    local.add_dataset(NamespaceId("a/b"), "door-v0")
    assert service.has_datasets("a/b")
    assert not service.has_datasets("a")
    assert not service.has_datasets("a/b", remote=True)
    with pytest.raises(NamespaceNotEmptyError, match="door-v0"):
        service.delete("a/b")


def test_delete_of_a_missing_namespace_raises_not_found(service: NamespaceService) -> None:
    service.create("a")
    with pytest.raises(NamespaceNotFoundError):
        service.delete("a/b")
    with pytest.raises(NamespaceNotFoundError):
        service.delete("b")
    assert service.list_local() == ids("a")


def test_delete_of_a_parent_that_is_not_a_namespace_raises_not_found(
    store: NamespaceRepository,
) -> None:
    store.create(NamespaceId("p/c"), NamespaceMetadata())
    service = NamespaceService(store)
    with pytest.raises(NamespaceNotFoundError):
        service.delete("p")
    assert service.list_local() == ids("p/c")


# -- listing ----------------------------------------------------------------------------


def test_list_local_is_the_whole_tree_in_tree_order(service: NamespaceService) -> None:
    for text in ["b", "a-b", "a/z", "a/b/c", "ab"]:
        service.create(text)
    assert service.list_local() == ids("a", "a/b", "a/b/c", "a/z", "a-b", "ab", "b")


def test_list_local_with_a_prefix_is_that_subtree_only(service: NamespaceService) -> None:
    for text in ["a/b/c", "a/bc", "a-b/c", "ab"]:
        service.create(text)
    assert service.list_local("a") == ids("a", "a/b", "a/b/c", "a/bc")
    assert service.list_local("a/b") == ids("a/b", "a/b/c")
    assert service.list_local("a/b/c") == ids("a/b/c")
    assert service.list_local("a-b") == ids("a-b", "a-b/c")
    assert service.list_local("missing") == []
    with pytest.raises(InvalidNamespaceError):
        service.list_local("a/")


def test_children_are_the_direct_children_only(service: NamespaceService) -> None:
    for text in ["a/b/c", "a/d", "e"]:
        service.create(text)
    assert service.children() == ids("a", "e")
    assert service.children(None) == ids("a", "e")
    assert service.children("a") == ids("a/b", "a/d")
    assert service.children("a/b") == ids("a/b/c")
    assert service.children("a/b/c") == []
    assert service.children("missing") == []


def test_remote_operations_need_a_remote(service: NamespaceService) -> None:
    service.create("a")
    with pytest.raises(RemoteNotConfiguredError, match="no remote"):
        service.list_remote()
    with pytest.raises(RemoteNotConfiguredError):
        service.children(remote=True)
    with pytest.raises(RemoteNotConfiguredError):
        service.upload("a")
    with pytest.raises(RemoteNotConfiguredError):
        service.download("a")
    with pytest.raises(RemoteNotConfiguredError):
        service.diff()


# -- transfers between two stores ------------------------------------------------------------


@pytest.fixture
def local() -> InMemoryNamespaceRepository:
    return InMemoryNamespaceRepository("local")


@pytest.fixture
def remote() -> InMemoryNamespaceRepository:
    return InMemoryNamespaceRepository("remote")


@pytest.fixture
def both(
    local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> NamespaceService:
    return NamespaceService(local, remote)


def contents(store: NamespaceRepository) -> dict[str, dict[str, object]]:
    return {str(ns): store.get(ns).to_dict() for ns in store.list_namespaces()}


def put(store: NamespaceRepository, text: str, **metadata: object) -> None:
    store.create(NamespaceId(text), NamespaceMetadata.from_dict(metadata))


def test_upload_copies_the_namespace_and_its_missing_ancestors(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a", description="A")
    both.create("a/b/c", description="C")
    both.create("a/other")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = both.upload("a/b/c")
    assert report.copied == ids("a", "a/b", "a/b/c")
    assert report.skipped == []
    assert report.source == local.url
    assert report.target == remote.url
    assert contents(remote) == {"a": {"description": "A"}, "a/b": {}, "a/b/c": {"description": "C"}}
    assert both.list_remote() == ids("a", "a/b", "a/b/c")


def test_upload_keeps_ancestors_the_remote_already_has(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    put(remote, "a", description="remote A")
    both.create("a/b", description="B")
    report = both.upload("a/b")
    assert report.copied == ids("a/b")
    assert report.skipped == []
    assert contents(remote) == {"a": {"description": "remote A"}, "a/b": {"description": "B"}}


def test_upload_gives_the_remote_an_ancestor_that_is_missing_locally(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    put(local, "p/c", description="C")
    report = both.upload("p/c")
    assert report.copied == ids("p", "p/c")
    assert contents(remote) == {"p": {}, "p/c": {"description": "C"}}


def test_upload_keeps_an_existing_target_with_a_warning(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a", description="local")
    put(remote, "a", description="remote")
    with pytest.warns(NamespaceWarning, match="'a'.*overwrite=True"):
        report = both.upload("a")
    assert report.copied == []
    assert report.skipped == ids("a")
    assert contents(remote) == {"a": {"description": "remote"}}


def test_upload_with_overwrite_replaces_the_target_silently(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a/b", description="local")
    put(remote, "a", description="remote A")
    put(remote, "a/b", description="remote B")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = both.upload("a/b", overwrite=True)
    assert report.copied == ids("a/b")
    assert report.skipped == []
    assert contents(remote) == {"a": {"description": "remote A"}, "a/b": {"description": "local"}}


def test_upload_of_a_missing_namespace_changes_nothing(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a")
    with pytest.raises(NamespaceNotFoundError, match="'a/b'"):
        both.upload("a/b")
    assert remote.list_namespaces() == []


def test_download_copies_the_namespace_and_its_missing_ancestors(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    put(remote, "D4RL", description="D4RL")
    put(remote, "D4RL/door", description="Door", n=1)
    put(remote, "D4RL/pen")
    report = both.download("D4RL/door")
    assert report.copied == ids("D4RL", "D4RL/door")
    assert report.source == remote.url
    assert report.target == local.url
    assert contents(local) == {
        "D4RL": {"description": "D4RL"},
        "D4RL/door": {"description": "Door", "n": 1},
    }


def test_download_keeps_an_existing_local_namespace_unless_overwrite(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    put(remote, "a", description="remote")
    both.create("a", description="local")
    with pytest.warns(NamespaceWarning, match="Kept 1"):
        report = both.download("a")
    assert report.skipped == ids("a")
    assert both.get("a").description == "local"
    report = both.download("a", overwrite=True)
    assert report.copied == ids("a")
    assert both.get("a").description == "remote"


def test_download_of_a_missing_namespace_changes_nothing(
    both: NamespaceService, local: InMemoryNamespaceRepository
) -> None:
    with pytest.raises(NamespaceNotFoundError):
        both.download("nowhere")
    assert local.list_namespaces() == []


@pytest.mark.parametrize("allowed", [0, 1, 2])
def test_a_transfer_that_dies_midway_never_leaves_a_child_without_its_parent(
    local: InMemoryNamespaceRepository, allowed: int
) -> None:
    remote = CreatesThenFails("remote", allowed)
    service = NamespaceService(local, remote)
    service.create("a/b/c")
    with pytest.raises(OSError, match="No space"):
        service.upload("a/b/c")
    assert remote.list_namespaces() == ids("a", "a/b", "a/b/c")[:allowed]
    remote.allowed = 100  # space freed: the rerun completes the transfer
    assert service.upload("a/b/c").copied == ids("a", "a/b", "a/b/c")[allowed:]
    assert every_parent_present(remote)


def test_upload_tree_copies_the_subtree_parents_first(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a/b/c", "a/b/d", "a/bc", "x"]:
        both.create(text, description=text)
    report = both.upload_tree("a/b")
    assert report.copied == ids("a", "a/b", "a/b/c", "a/b/d")
    assert report.skipped == []
    assert contents(remote) == {
        "a": {},
        "a/b": {},
        "a/b/c": {"description": "a/b/c"},
        "a/b/d": {"description": "a/b/d"},
    }


def test_upload_tree_without_a_prefix_copies_everything(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a/b", "c", "d/e/f"]:
        both.create(text, metadata={"n": text})
    report = both.upload_tree()
    assert report.copied == local.list_namespaces()
    assert contents(remote) == contents(local)
    assert both.diff().in_sync


def test_upload_tree_keeps_existing_targets_with_one_warning(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a", "a/b", "a/c"]:
        both.create(text, description="local")
    put(remote, "a", description="remote")
    put(remote, "a/b", description="remote")
    with pytest.warns(NamespaceWarning) as record:
        report = both.upload_tree("a")
    assert len(record) == 1
    assert "'a'" in str(record[0].message)
    assert "'a/b'" in str(record[0].message)
    assert report.copied == ids("a/c")
    assert report.skipped == ids("a", "a/b")
    assert contents(remote) == {
        "a": {"description": "remote"},
        "a/b": {"description": "remote"},
        "a/c": {"description": "local"},
    }


def test_upload_tree_with_overwrite_replaces_the_subtree_but_not_outer_ancestors(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a", "a/b", "a/b/c"]:
        both.create(text, description="local")
    put(remote, "a", description="remote")
    put(remote, "a/b", description="remote")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = both.upload_tree("a/b", overwrite=True)
    assert report.copied == ids("a/b", "a/b/c")
    assert contents(remote) == {
        "a": {"description": "remote"},
        "a/b": {"description": "local"},
        "a/b/c": {"description": "local"},
    }


def test_a_tree_transfer_of_nothing_reports_nothing(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = both.upload_tree("missing")
    assert report.copied == []
    assert report.skipped == []
    assert remote.list_namespaces() == []


def test_download_tree_copies_the_remote_subtree(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["D4RL", "D4RL/door", "D4RL/door/v2", "D4RL/pen", "other"]:
        put(remote, text, description=text)
    both.create("D4RL", description="local")
    with pytest.warns(NamespaceWarning, match="'D4RL'"):
        report = both.download_tree("D4RL")
    assert report.copied == ids("D4RL/door", "D4RL/door/v2", "D4RL/pen")
    assert report.skipped == ids("D4RL")
    assert contents(local) == {
        "D4RL": {"description": "local"},
        "D4RL/door": {"description": "D4RL/door"},
        "D4RL/door/v2": {"description": "D4RL/door/v2"},
        "D4RL/pen": {"description": "D4RL/pen"},
    }
    report = both.download_tree("D4RL", overwrite=True)
    assert both.get("D4RL").description == "D4RL"
    assert both.diff("D4RL").in_sync
    assert not both.diff().in_sync


def test_diff_compares_both_sides_and_writes_nothing(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a", description="same")
    both.create("a/local-only")
    both.create("b", description="local")
    put(remote, "a", description="same")
    put(remote, "a/remote-only")
    put(remote, "b", description="remote")
    before = (contents(local), contents(remote))
    diff = both.diff()
    assert diff.only_local == ids("a/local-only")
    assert diff.only_remote == ids("a/remote-only")
    assert diff.different == ids("b")
    assert diff.same == ids("a")
    assert not diff.in_sync
    assert (contents(local), contents(remote)) == before


def test_diff_with_a_prefix_looks_at_that_subtree_only(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a/b", description="x")
    both.create("z", description="local only")
    put(remote, "a")
    put(remote, "a/b", description="x")
    assert both.diff("a").in_sync
    assert both.diff("a").same == ids("a", "a/b")
    assert both.diff("z").only_local == ids("z")
    assert both.diff().only_local == ids("z")


def test_after_an_upload_tree_both_sides_are_in_sync(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a/b/c", description="c")
    both.create("d", metadata={"n": [1, 2]})
    put(remote, "e")
    both.upload_tree()
    diff = both.diff()
    assert diff.only_local == []
    assert diff.different == []
    assert diff.only_remote == ids("e")
    assert diff.same == ids("a", "a/b", "a/b/c", "d")


def test_from_urls_refuses_storage_options_without_a_remote(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no remote"):
        NamespaceService.from_urls(tmp_path, key="id", secret="hidden")


# -- what a transfer reports: unchanged, different, replaced; dry runs; progress ---------


def test_a_namespace_the_target_holds_identically_is_unchanged_not_kept(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a", description="same")
    both.create("a/b", description="local")
    put(remote, "a", description="same")
    put(remote, "a/b", description="remote")
    with pytest.warns(KeptNamespacesWarning) as record:
        report = both.upload_tree()
    assert len(record) == 1
    assert "'a/b'" in str(record[0].message)
    assert "'a'" not in str(record[0].message)
    assert (report.copied, report.unchanged, report.skipped) == ([], ids("a"), ids("a/b"))
    assert not report.up_to_date


def test_overwrite_replaces_only_what_differs(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a", "a/b", "a/c"]:
        both.create(text, description=text)
    put(remote, "a", description="a")
    put(remote, "a/b", description="old")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = both.upload_tree(overwrite=True)
    assert report.copied == ids("a/b", "a/c")
    assert report.replaced == ids("a/b")
    assert report.unchanged == ids("a")
    assert both.diff().in_sync


def test_a_dry_run_reports_what_a_real_run_does_and_writes_nothing(
    both: NamespaceService, local: InMemoryNamespaceRepository, remote: InMemoryNamespaceRepository
) -> None:
    for text in ["a", "a/b", "a/c", "d/e"]:
        both.create(text, description=text)
    put(remote, "a", description="a")
    put(remote, "a/b", description="old")
    for overwrite in (False, True):
        before = contents(remote)
        planned = both.upload_tree(overwrite=overwrite, dry_run=True)
        assert contents(remote) == before
        assert planned.dry_run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KeptNamespacesWarning)
            done = both.upload_tree(overwrite=overwrite)
        assert not done.dry_run
        fields = ("copied", "skipped", "unchanged", "replaced")
        assert [getattr(planned, f) for f in fields] == [getattr(done, f) for f in fields]
        remote.delete(NamespaceId("d/e"))
        remote.delete(NamespaceId("d"))
        remote.replace(NamespaceId("a/b"), NamespaceMetadata.from_dict({"description": "old"}))
    assert both.download("a/b", dry_run=True, overwrite=True).replaced == ids("a/b")
    assert contents(local)["a/b"] == {"description": "a/b"}


def test_a_dry_run_of_one_namespace_lists_the_missing_ancestors(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    both.create("a/b/c")
    report = both.upload("a/b/c", dry_run=True)
    assert report.copied == ids("a", "a/b", "a/b/c")
    assert remote.list_namespaces() == []


def test_progress_is_reported_from_zero_to_the_total(
    both: NamespaceService, remote: InMemoryNamespaceRepository
) -> None:
    names = ["t"] + [f"t/n{number:04}" for number in range(1_500)]
    for name in names:
        put(both.local, name)
    calls: list[tuple[int, int]] = []
    report = both.upload_tree(
        progress=lambda p: calls.append((p.namespaces_done, p.namespaces_total))
    )
    assert len(report.copied) == 1_501
    assert calls[0] == (0, 1_501)
    assert calls[-1] == (1_501, 1_501)
    assert len(calls) > 2  # more than one batch, so a bar can move
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert both.diff().in_sync
    calls.clear()
    both.create("t/new/leaf")
    both.upload(
        "t/new/leaf", progress=lambda p: calls.append((p.namespaces_done, p.namespaces_total))
    )
    assert calls == [(0, 2), (2, 2)]


def test_minari_remote_is_read_in_one_place_with_each_callers_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19, point 2: unset or empty means no remote for the service (compat then
    takes Minari's default); set, the service and compat open that URL."""
    for unset in (None, ""):
        if unset is None:
            monkeypatch.delenv("MINARI_REMOTE", raising=False)
        else:
            monkeypatch.setenv("MINARI_REMOTE", unset)
        assert remote_from_environment() is None
        with pytest.raises(RemoteNotConfiguredError):
            NamespaceService.from_urls(tmp_path / "local").remote  # noqa: B018
    remote = (tmp_path / "remote").as_uri()
    monkeypatch.setenv("MINARI_REMOTE", remote)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "local"))
    assert remote_from_environment() == remote
    service = NamespaceService.from_urls(tmp_path / "local")
    service.create("D4RL/door")
    service.upload("D4RL/door")
    assert compat.list_remote_namespaces() == ["D4RL", "D4RL/door"]
