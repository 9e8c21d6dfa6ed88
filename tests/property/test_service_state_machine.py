"""``NamespaceService`` against a plain-dict model, on the local and in-memory stores.

Hypothesis drives random sequences of create (with ancestors), replace,
update_properties, delete, exists, get, list_local and children; after every step
the store must hold exactly what the model says. Ids come from a three-letter
alphabet up to three levels deep, so sequences keep hitting the same namespaces,
their parents and their children.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from minari_namespaces import (
    InvalidMetadataError,
    LocalNamespaceRepository,
    NamespaceExistsError,
    NamespaceId,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceRepository,
    NamespaceService,
    PropertiesUpdateSummary,
)
from minari_namespaces.testing import InMemoryNamespaceRepository
from minari_namespaces.testing.strategies import metadata, namespace_ids

IDS = namespace_ids(alphabet="abc", max_depth=3, max_segment_size=1)
#: Keyword names of ``create`` that metadata passed as ``**kwargs`` cannot use.
KEYWORDS = frozenset({"ns", "description", "exist_ok"})
EXTRA = metadata(with_description=False).map(
    lambda data: {key: value for key, value in data.items() if key not in KEYWORDS}
)
DESCRIPTIONS = st.none() | st.text(max_size=12)
KEY_POOL = ["description", "a", "b", ""]

Model = dict[NamespaceId, dict[str, Any]]


class NamespaceServiceMachine(RuleBasedStateMachine):
    """The rules; subclasses choose the store."""

    def __init__(self) -> None:
        super().__init__()
        self.model: Model = {}
        self.service = NamespaceService(self.make_store())

    def make_store(self) -> NamespaceRepository:
        raise NotImplementedError

    def ref(self, ns: NamespaceId, as_text: bool) -> str | NamespaceId:
        return str(ns) if as_text else ns

    def subtree(self, prefix: NamespaceId) -> list[NamespaceId]:
        return sorted(ns for ns in self.model if ns == prefix or prefix.is_ancestor_of(ns))

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def pick_an_existing_namespace(self, data: st.DataObject) -> None:
        ns = data.draw(st.sampled_from(sorted(self.model)))
        assert self.service.exists(ns)
        assert self.service.get(ns).to_dict() == self.model[ns]

    @rule(
        ns=IDS,
        description=DESCRIPTIONS,
        extra=EXTRA,
        exist_ok=st.booleans(),
        as_text=st.booleans(),
    )
    def create(
        self,
        ns: NamespaceId,
        description: str | None,
        extra: dict[str, Any],
        exist_ok: bool,
        as_text: bool,
    ) -> None:
        target = self.ref(ns, as_text)
        if ns in self.model and not exist_ok:
            with pytest.raises(NamespaceExistsError):
                self.service.create(target, description, metadata=extra)
            return
        assert self.service.create(target, description, metadata=extra, exist_ok=exist_ok) == ns
        for ancestor in ns.ancestors():
            self.model.setdefault(ancestor, {})
        expected = dict(extra)
        if description is not None:
            expected["description"] = description
        self.model.setdefault(ns, expected)

    @rule(ns=IDS, description=DESCRIPTIONS, extra=EXTRA, as_text=st.booleans())
    def replace(
        self, ns: NamespaceId, description: str | None, extra: dict[str, Any], as_text: bool
    ) -> None:
        expected = dict(extra)
        if description is not None:
            expected["description"] = description
        if ns not in self.model:
            with pytest.raises(NamespaceNotFoundError):
                self.service.replace(self.ref(ns, as_text), expected)
            return
        self.service.replace(self.ref(ns, as_text), expected)
        self.model[ns] = expected

    @rule(ns=IDS, updates=metadata(), as_text=st.booleans(), data=st.data())
    def update_properties(
        self, ns: NamespaceId, updates: dict[str, Any], as_text: bool, data: st.DataObject
    ) -> None:
        candidates = sorted({*KEY_POOL, *self.model.get(ns, {}), *updates})
        removals = data.draw(st.lists(st.sampled_from(candidates), max_size=4))
        target = self.ref(ns, as_text)
        if set(updates) & set(removals):
            with pytest.raises(InvalidMetadataError):
                self.service.update_properties(target, updates=updates, removals=removals)
            return
        if ns not in self.model:
            with pytest.raises(NamespaceNotFoundError):
                self.service.update_properties(target, updates=updates, removals=removals)
            return
        current = self.model[ns]
        summary = self.service.update_properties(target, updates=updates, removals=removals)
        assert summary == PropertiesUpdateSummary(
            updated=sorted(updates),
            removed=sorted({key for key in removals if key in current}),
            missing=sorted({key for key in removals if key not in current}),
        )
        merged = {key: value for key, value in current.items() if key not in removals}
        merged.update(updates)
        self.model[ns] = merged

    @rule(ns=IDS, as_text=st.booleans())
    def delete(self, ns: NamespaceId, as_text: bool) -> None:
        target = self.ref(ns, as_text)
        if ns not in self.model:
            with pytest.raises(NamespaceNotFoundError):
                self.service.delete(target)
        elif any(ns.is_ancestor_of(other) for other in self.model):
            with pytest.raises(NamespaceNotEmptyError):
                self.service.delete(target)
        else:
            self.service.delete(target)
            del self.model[ns]

    @rule(ns=IDS, as_text=st.booleans())
    def exists_and_get(self, ns: NamespaceId, as_text: bool) -> None:
        target = self.ref(ns, as_text)
        assert self.service.exists(target) == (ns in self.model)
        if ns in self.model:
            assert self.service.get(target).to_dict() == self.model[ns]
        else:
            with pytest.raises(NamespaceNotFoundError):
                self.service.get(target)

    @rule(prefix=IDS, as_text=st.booleans())
    def list_a_subtree(self, prefix: NamespaceId, as_text: bool) -> None:
        assert self.service.list_local(self.ref(prefix, as_text)) == self.subtree(prefix)

    @rule(ns=st.none() | IDS)
    def children(self, ns: NamespaceId | None) -> None:
        expected = sorted(child for child in self.model if child.parent == ns)
        assert self.service.children(ns) == expected

    @invariant()
    def the_store_holds_exactly_the_model(self) -> None:
        listed = self.service.list_local()
        assert listed == sorted(self.model)
        stored = self.service.local.get_many(listed)
        assert {ns: data.to_dict() for ns, data in stored.items()} == self.model

    @invariant()
    def every_namespace_has_its_parent(self) -> None:
        for ns in self.model:
            assert ns.parent is None or ns.parent in self.model


class InMemoryServiceMachine(NamespaceServiceMachine):
    def make_store(self) -> NamespaceRepository:
        return InMemoryNamespaceRepository()


class LocalServiceMachine(NamespaceServiceMachine):
    def make_store(self) -> NamespaceRepository:
        self.folder = tempfile.mkdtemp(prefix="minari-namespaces-machine-")
        return LocalNamespaceRepository(os.path.join(self.folder, "datasets"))

    @invariant()
    def no_temporary_files_are_left(self) -> None:
        for _, _, files in os.walk(self.folder):
            assert not [name for name in files if name.endswith(".tmp")]

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


MACHINE_SETTINGS = settings(max_examples=50, stateful_step_count=40, deadline=None)

TestServiceOnInMemoryStore = InMemoryServiceMachine.TestCase
TestServiceOnInMemoryStore.settings = MACHINE_SETTINGS
TestServiceOnLocalStore = LocalServiceMachine.TestCase
TestServiceOnLocalStore.settings = MACHINE_SETTINGS
