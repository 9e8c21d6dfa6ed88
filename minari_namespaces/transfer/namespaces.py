"""Transfers between two stores: what to copy, then copying it, parents first.

:class:`Transfer` plans and runs one upload or download for
:class:`~minari_namespaces.service.NamespaceService`: it reads both sides in
batches, creates what the target lacks (create-only, one depth level at a time, so
the target never holds a child without its parent), sorts what existed into
unchanged, kept and replaced, and says so in a :class:`TransferReport`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from minari_namespaces.errors import KeptNamespacesWarning, NamespaceNotFoundError, first_few
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository

__all__ = ["ProgressCallback", "Transfer", "TransferReport"]

#: Called by transfers with (namespaces done, namespaces in all).
ProgressCallback = Callable[[int, int], None]

# The package's name for transfer logs, whichever module of it logs.
_log = logging.getLogger("minari_namespaces.transfer")


@dataclass(frozen=True)
class TransferReport:
    """What an upload or a download did (or, for a dry run, would do), parents first.

    Attributes:
        source: URL of the store copied from.
        target: URL of the store copied to.
        copied: Namespaces written to the target (created, or replaced because they
            differed and ``overwrite`` was given).
        skipped: Namespaces the target already held with different metadata, kept
            because ``overwrite`` was not given.
        unchanged: Namespaces the target already held with the same metadata:
            nothing to do.
        replaced: The namespaces of ``copied`` that replaced different metadata.
        dry_run: Whether nothing was written and the lists say what would be.
    """

    source: str
    target: str
    copied: list[NamespaceId] = field(default_factory=list)
    skipped: list[NamespaceId] = field(default_factory=list)
    unchanged: list[NamespaceId] = field(default_factory=list)
    replaced: list[NamespaceId] = field(default_factory=list)
    dry_run: bool = False

    @property
    def up_to_date(self) -> bool:
        """Whether the target already held everything as the source does."""
        return not (self.copied or self.skipped)


def _warn_kept(kept: list[NamespaceId], target: NamespaceRepository) -> None:
    shown, more = first_few(kept, 10)
    names = ", ".join(f"'{ns}'" for ns in shown)
    warnings.warn(
        f"Kept {len(kept)} existing namespace(s) in {target.url} whose metadata differs "
        f"from the source: {names}{more}. Pass overwrite=True to replace them.",
        KeptNamespacesWarning,
        stacklevel=5,
    )


#: With a progress callback, tree writes go in batches of at least this many
#: namespaces (and at most about 20 batches), so progress can be reported between them.
_PROGRESS_BATCH = 1_000


@dataclass
class _Outcome:
    copied: list[NamespaceId] = field(default_factory=list)
    skipped: list[NamespaceId] = field(default_factory=list)
    unchanged: list[NamespaceId] = field(default_factory=list)
    replaced: list[NamespaceId] = field(default_factory=list)


@dataclass
class Transfer:
    """One transfer from ``source`` to ``target``: what to write, then writing it.

    Attributes:
        source: The store copied from.
        target: The store copied to.
        overwrite: Replace target namespaces whose metadata differs.
        dry_run: Write nothing; the report says what would be written.
        progress: Called with (done, in all) before the first write and after
            each batch of writes.
    """

    source: NamespaceRepository
    target: NamespaceRepository
    overwrite: bool
    dry_run: bool
    progress: ProgressCallback | None

    def one(self, ns: NamespaceId, *, ancestors: bool) -> TransferReport:
        """Copy ``ns`` (and, with ``ancestors``, every ancestor the target lacks).

        Raises:
            NamespaceNotFoundError: If the source lacks ``ns``.
            RemoteError: If a remote store fails.
        """
        levels = list(ns.hierarchy()) if ancestors else [ns]
        source_data = self.source.get_many(levels)
        if ns not in source_data:
            raise NamespaceNotFoundError(f"Namespace '{ns}' does not exist in {self.source.url}.")
        present = self.target.get_many(levels)
        _log.debug(
            "Read '%s' from %s; %s holds %d of its %d level(s)",
            ns,
            self.source.url,
            self.target.url,
            len(present),
            len(levels),
        )
        order = [level for level in levels if level not in present or level == ns]
        return self._run(source_data, order, {ns}, present)

    def tree(self, prefix: NamespaceId | None) -> TransferReport:
        """Copy every namespace under ``prefix`` (all for ``None``), parents first.

        Raises:
            CorruptMetadataError: If source metadata is corrupt.
            RemoteError: If a remote store fails.
        """
        subtree = self.source.list_namespaces(prefix)
        _log.debug(
            "Listed %d namespace(s) under %s in %s",
            len(subtree),
            f"'{prefix}'" if prefix else "the top level",
            self.source.url,
        )
        members = set(subtree)
        # Every ancestor of every member, so a gap in the source (a child without its
        # parent) becomes a parent with {} on the target, never a gap.
        order = sorted(members | {above for ns in subtree for above in ns.ancestors()})
        source_data = self.source.get_many(order)
        _log.debug("Read %d namespace(s) from %s", len(source_data), self.source.url)
        present = self._present(prefix, order) if self.dry_run else {}
        return self._run(source_data, order, members, present)

    def _present(
        self, prefix: NamespaceId | None, order: list[NamespaceId]
    ) -> dict[NamespaceId, NamespaceMetadata]:
        """The target's metadata of ``order``: one listing, then reads of those present."""
        inside = set(self.target.list_namespaces(prefix))
        above = [ns for ns in order if prefix is not None and ns.is_ancestor_of(prefix)]
        return self.target.get_many([ns for ns in order if ns in inside] + above)

    def _run(
        self,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        order: list[NamespaceId],
        members: set[NamespaceId],
        present: Mapping[NamespaceId, NamespaceMetadata],
    ) -> TransferReport:
        outcome = _Outcome()
        if self.dry_run:
            for ns in order:
                self._sort(ns, source_data, present, members, outcome)
        else:
            self._write(source_data, order, members, present, outcome)
        if outcome.skipped and not self.dry_run:
            _warn_kept(outcome.skipped, self.target)
        return _logged(
            TransferReport(
                self.source.url,
                self.target.url,
                outcome.copied,
                outcome.skipped,
                outcome.unchanged,
                outcome.replaced,
                self.dry_run,
            )
        )

    def _write(
        self,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        order: list[NamespaceId],
        members: set[NamespaceId],
        present: Mapping[NamespaceId, NamespaceMetadata],
        outcome: _Outcome,
    ) -> None:
        """Create ``order`` (parents first) on the target in batches; sort out what
        existed (reading the target's copy unless known) and replace what differs
        if asked to."""
        empty = NamespaceMetadata()
        _log.debug("Creating %d namespace(s) in %s, parents first", len(order), self.target.url)
        size = max(len(order), 1)
        if self.progress is not None:
            size = max(_PROGRESS_BATCH, -(-len(order) // 20))
            self.progress(0, len(order))
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            existed = set(self.target.create_many((ns, source_data.get(ns, empty)) for ns in batch))
            unknown = [ns for ns in batch if ns in existed and ns in members and ns not in present]
            current = {**present, **(self.target.get_many(unknown) if unknown else {})}
            for ns in batch:
                if ns not in existed:
                    outcome.copied.append(ns)
                elif ns in members and self._sort(ns, source_data, current, members, outcome):
                    _log.debug("Overwriting '%s' in %s", ns, self.target.url)
                    self.target.replace(ns, source_data.get(ns, empty))
            if self.progress is not None:
                self.progress(start + len(batch), len(order))

    def _sort(
        self,
        ns: NamespaceId,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        current: Mapping[NamespaceId, NamespaceMetadata],
        members: set[NamespaceId],
        outcome: _Outcome,
    ) -> bool:
        """File ``ns`` under what happens to it, given the target's ``current`` data;
        return whether the target's copy is to be replaced."""
        if ns not in current:
            outcome.copied.append(ns)
        elif ns not in members:
            pass  # an existing ancestor is not news
        elif current[ns] == source_data.get(ns, NamespaceMetadata()):
            outcome.unchanged.append(ns)
        elif self.overwrite:
            outcome.copied.append(ns)
            outcome.replaced.append(ns)
            return True
        else:
            if not self.dry_run:
                _log.debug("Keeping '%s' in %s: it differs there", ns, self.target.url)
            outcome.skipped.append(ns)
        return False


def _logged(report: TransferReport) -> TransferReport:
    """``report``, after logging its summary at INFO (a dry run at DEBUG)."""
    _log.log(
        logging.DEBUG if report.dry_run else logging.INFO,
        "Copied %d and kept %d namespace(s) from %s to %s (%d already up to date)",
        len(report.copied),
        len(report.skipped),
        report.source,
        report.target,
        len(report.unchanged),
    )
    return report
