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
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

from minari_namespaces.datasets import DatasetId, DatasetName
from minari_namespaces.errors import (
    DatasetNotFoundError,
    KeptNamespacesWarning,
    NamespaceNotFoundError,
    first_few,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.transfer.datasets import (
    DEFAULT_JOBS,
    DatasetPlan,
    DatasetTransfer,
    TransferProgress,
)

__all__ = ["DatasetPlan", "ProgressCallback", "Transfer", "TransferProgress", "TransferReport"]

#: Called by transfers with how far they got.
ProgressCallback = Callable[[TransferProgress], None]

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
        datasets_copied: Datasets written whole (new, or replaced with
            ``overwrite``), sorted.
        datasets_unchanged: Datasets the target held with the same files, sorted.
        datasets_skipped: Datasets the target held with different files, kept
            because ``overwrite`` was not given, sorted.
        files_copied: Dataset files written.
        bytes_copied: Bytes of dataset files written.
        datasets_planned: What happened (or would) to each dataset, sorted.
    """

    source: str
    target: str
    copied: list[NamespaceId] = field(default_factory=list)
    skipped: list[NamespaceId] = field(default_factory=list)
    unchanged: list[NamespaceId] = field(default_factory=list)
    replaced: list[NamespaceId] = field(default_factory=list)
    dry_run: bool = False
    datasets_copied: list[DatasetId] = field(default_factory=list)
    datasets_unchanged: list[DatasetId] = field(default_factory=list)
    datasets_skipped: list[DatasetId] = field(default_factory=list)
    files_copied: int = 0
    bytes_copied: int = 0
    datasets_planned: list[DatasetPlan] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        """Whether the target already held everything as the source does."""
        return not (self.copied or self.skipped or self.datasets_copied or self.datasets_skipped)


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
        overwrite: Replace target namespaces whose metadata differs (and
            datasets whose files differ).
        dry_run: Write nothing; the report says what would be written.
        progress: Called before the first write and after each batch of writes
            (and, for datasets, as files and bytes move).
        datasets: Move the datasets in the namespaces too.
        jobs: Dataset files copied at once (``None``: the default, 4).
    """

    source: NamespaceRepository
    target: NamespaceRepository
    overwrite: bool
    dry_run: bool
    progress: ProgressCallback | None
    datasets: bool = False
    jobs: int | None = None
    _namespaces: tuple[int, int] = (0, 0)
    _totals: tuple[int, int] = (0, 0)

    def one(self, ns: NamespaceId, *, ancestors: bool) -> TransferReport:
        """Copy ``ns`` (and, with ``ancestors``, every ancestor the target lacks).
        With datasets, a folder without a marker that holds datasets counts, as in
        :meth:`tree`: the target gets it with ``{}`` where it lacks it.

        Raises:
            NamespaceNotFoundError: If the source lacks ``ns`` (and, with datasets,
                holds no dataset directly in it).
            RemoteError: If a remote store fails.
        """
        levels = list(ns.hierarchy()) if ancestors else [ns]
        source_data = self.source.get_many(levels)
        inside: list[DatasetId] = []
        if self.datasets:
            inside = [d for d in self.source.list_tree(ns).datasets if d.namespace == ns]
        if ns not in source_data and not inside:
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
        # A folder of datasets without a marker is a holder, as in the tree form: never
        # a member whose metadata ({}) would be compared with the target's.
        members = {ns} if ns in source_data else set()
        return self._run(source_data, order, members, present, inside)

    def dataset(self, wanted: DatasetId | DatasetName) -> TransferReport:
        """Copy one dataset (the latest version of a name) and the namespaces above
        it that the target lacks.

        Raises:
            DatasetNotFoundError: If the source lacks it.
            RemoteError: If a remote store fails.
        """
        found = self.source.list_datasets(wanted.namespace)
        chosen = wanted.latest(found) if isinstance(wanted, DatasetName) else wanted
        if chosen is None or chosen not in found:
            raise DatasetNotFoundError(
                f"Dataset '{wanted}' does not exist in {self.source.url}. List the datasets "
                "there to check the name and version."
            )
        levels = [] if chosen.namespace is None else list(chosen.namespace.hierarchy())
        present = self.target.get_many(levels)
        order = [level for level in levels if level not in present]
        return self._run(self.source.get_many(order), order, set(), present, [chosen])

    def tree(self, prefix: NamespaceId | None) -> TransferReport:
        """Copy every namespace under ``prefix`` (all for ``None``), parents first.

        Raises:
            CorruptMetadataError: If source metadata is corrupt.
            RemoteError: If a remote store fails.
        """
        inside: list[DatasetId] = []
        if self.datasets:
            listing = self.source.list_tree(prefix)
            subtree, inside = listing.namespaces, listing.datasets
        else:
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
        holders = {d.namespace for d in inside if d.namespace is not None}
        order = sorted(
            members | holders | {above for ns in members | holders for above in ns.ancestors()}
        )
        source_data = self.source.get_many(order)
        _log.debug("Read %d namespace(s) from %s", len(source_data), self.source.url)
        present = self._present(prefix, order) if self.dry_run else {}
        return self._run(source_data, order, members, present, inside)

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
        datasets: Sequence[DatasetId] = (),
    ) -> TransferReport:
        """Plan the datasets, write the namespaces (parents first), then the datasets."""
        engine = DatasetTransfer(
            self.source, self.target, self.overwrite, self.jobs or DEFAULT_JOBS, self._files_moved
        )
        plans = engine.plan(datasets) if datasets else []
        moving = [plan for plan in plans if plan.moves]
        self._totals = (sum(plan.files for plan in moving), sum(plan.bytes for plan in moving))
        outcome = _Outcome()
        if self.dry_run:
            for ns in order:
                self._sort(ns, source_data, present, members, outcome)
            copied = [plan.id for plan in moving]
        else:
            # The Hub commits the namespaces and datasets of a repository together
            # (namespaces alone land at once: which existed is then exact under races).
            batch = self.target.write_batch() if moving else nullcontext()
            with batch:
                self._write(source_data, order, members, present, outcome)
                copied = engine.copy(plans)
        if outcome.skipped and not self.dry_run:
            _warn_kept(outcome.skipped, self.target)
        done = set(copied)
        return _logged(
            TransferReport(
                self.source.url,
                self.target.url,
                outcome.copied,
                outcome.skipped,
                outcome.unchanged,
                outcome.replaced,
                self.dry_run,
                datasets_copied=copied,
                datasets_unchanged=[p.id for p in plans if p.action == "unchanged"],
                datasets_skipped=[p.id for p in plans if p.action == "kept"],
                files_copied=sum(p.files for p in moving if p.id in done),
                bytes_copied=sum(p.bytes for p in moving if p.id in done),
                datasets_planned=plans,
            )
        )

    def _report_namespaces(self, done: int, total: int) -> None:
        self._namespaces = (done, total)
        if self.progress is not None:
            self.progress(TransferProgress(done, total, 0, self._totals[0], 0, self._totals[1]))

    def _files_moved(self, files: int, size: int) -> None:
        if self.progress is not None:
            self.progress(
                TransferProgress(*self._namespaces, files, self._totals[0], size, self._totals[1])
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
            self._report_namespaces(0, len(order))
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
                self._report_namespaces(start + len(batch), len(order))

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
