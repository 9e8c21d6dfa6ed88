"""The exceptions and warnings that ``minari_namespaces`` raises on purpose.

Every exception derives from :class:`NamespaceError`, and each one also derives
from the builtin that ``minari.namespace`` raised for the same situation, so code
written against Minari (``except ValueError``) keeps catching it::

    NamespaceError
    ├── InvalidIdError             (ValueError)   a string is not a valid identifier
    │   ├── InvalidNamespaceError                 ... of a namespace
    │   └── InvalidDatasetIdError                 ... of a dataset
    ├── InvalidMetadataError       (ValueError)   metadata is not strict JSON
    ├── CorruptMetadataError       (ValueError)   a stored marker (or a dataset's
    │                                             metadata.json) cannot be read
    ├── NamespaceExistsError       (ValueError)   create of an existing namespace
    ├── NamespaceNotFoundError     (LookupError, ValueError)
    ├── DatasetNotFoundError       (LookupError, ValueError)
    ├── NamespaceNotEmptyError     (ValueError)   delete of a non-empty namespace
    ├── NamespaceConflictError     (ValueError)   a dataset, file, link or twin is in the way
    ├── RemoteNotConfiguredError   (ValueError)   a remote call on a service without one
    ├── UnsafeDatasetFileError     (ValueError)   a dataset holds a link, a FIFO, a
    │                                             device or a path outside its folder
    ├── CopyVerificationError      (OSError)      a copied file is not what was read
    └── RemoteError                (OSError)      a storage backend failed

    UserWarning
    └── NamespaceWarning
        ├── SkippedEntryWarning                   a listing skipped invalid entries
        ├── KeptNamespacesWarning                 a transfer kept namespaces that differ
        └── KeptDatasetsWarning                   a transfer kept datasets that differ

This module is a leaf: it imports nothing from the package.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Final, TypeVar

__all__ = [
    "CopyVerificationError",
    "CorruptMetadataError",
    "DatasetNotFoundError",
    "InvalidDatasetIdError",
    "InvalidIdError",
    "InvalidMetadataError",
    "InvalidNamespaceError",
    "KeptDatasetsWarning",
    "KeptNamespacesWarning",
    "NamespaceConflictError",
    "NamespaceError",
    "NamespaceExistsError",
    "NamespaceNotEmptyError",
    "NamespaceNotFoundError",
    "NamespaceWarning",
    "RemoteError",
    "RemoteNotConfiguredError",
    "SkippedEntryWarning",
    "UnsafeDatasetFileError",
]


class NamespaceError(Exception):
    """Base class of every error that the library raises on purpose."""


class InvalidIdError(NamespaceError, ValueError):
    """A string is not a valid identifier: the base of
    :class:`InvalidNamespaceError` and :class:`InvalidDatasetIdError`.

    Attributes:
        reason: Why the identifier was refused, without the identifier itself.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else message


class InvalidNamespaceError(InvalidIdError):
    """A string is not a valid namespace identifier.

    The message always contains ``Malformed namespace`` (Minari's wording), the
    reason, and the offending segment.
    """


class InvalidDatasetIdError(InvalidIdError):
    """A string is not a valid dataset id (``[NAMESPACE/]NAME-vN``).

    The message always contains ``Malformed dataset ID`` (Minari's wording), the
    reason, and the offending text.
    """


class InvalidMetadataError(NamespaceError, ValueError):
    """Metadata is not a strict JSON object, is too large, or an edit is ambiguous.

    Raised before anything is written.
    """


class CorruptMetadataError(NamespaceError, ValueError):
    """A stored ``namespace_metadata.json`` (or a dataset's ``data/metadata.json``)
    cannot be read as a JSON object.

    The message names the file (or remote key) that is corrupt.
    """


class NamespaceExistsError(NamespaceError, ValueError):
    """The namespace already exists where it was to be created."""


class NamespaceNotFoundError(NamespaceError, LookupError, ValueError):
    """The namespace does not exist."""


class DatasetNotFoundError(NamespaceError, LookupError, ValueError):
    """The dataset (or, for a name without version, any version of it) does not
    exist in the store it was to be copied from."""


class NamespaceNotEmptyError(NamespaceError, ValueError):
    """The namespace still holds child namespaces, datasets or other files."""


class NamespaceConflictError(NamespaceError, ValueError):
    """Something else already holds the namespace's path.

    A dataset folder, a plain file, a symbolic link or a case-only twin (for
    example ``D4RL/Door`` beside ``D4RL/door``) is in the way.
    """


class RemoteNotConfiguredError(NamespaceError, ValueError):
    """A remote operation was asked of a service that has no remote."""


class UnsafeDatasetFileError(NamespaceError, ValueError):
    """A dataset holds an entry that is never copied: a symbolic link, a FIFO, a
    device, or a key that would land outside the dataset's folder (``..``, an
    absolute path, a backslash, an empty segment).

    Raised while planning a transfer, before anything of it is written; the
    message names every such entry (the first few of them).
    """


class CopyVerificationError(NamespaceError, OSError):
    """A copied file's size or hash differs from the source's.

    The message names the file; the bad copy has been removed (the dataset is
    not left on the target).
    """


class RemoteError(NamespaceError, OSError):
    """A storage backend failed.

    The message carries the repository URL without credentials and the cause;
    the original exception is chained as ``__cause__``.
    """


class NamespaceWarning(UserWarning):
    """Base class of the warnings the library emits (Minari used ``UserWarning``)."""


class SkippedEntryWarning(NamespaceWarning):
    """A listing skipped folders or keys that are not valid, safe namespace ids."""


class KeptNamespacesWarning(NamespaceWarning):
    """A transfer kept namespaces whose metadata on the target differs from the
    source's, because it was not asked to overwrite them."""


class KeptDatasetsWarning(NamespaceWarning):
    """A transfer kept datasets whose files on the target differ from the
    source's (a dataset version is immutable), because it was not asked to
    overwrite them."""


T = TypeVar("T")
#: The longest entry name a warning shows in full.
_LONGEST_NAME: Final = 200


def first_few(items: Sequence[T], first: int | None) -> tuple[Sequence[T], str]:
    """The first ``first`` of ``items`` (all of them for ``None``) and the words for
    the rest: ``" and 1,234 more"``, or ``""`` when none is left out. The one rule
    by which every message, warning and report shortens a long list of names;
    each caller writes the names its own way and joins them."""
    shown = items if first is None else items[:first]
    left = len(items) - len(shown)
    return shown, f" and {left:,} more" if left else ""


def warn_skipped(entries: list[str], what: str, hint: str, *, kind: str = "namespace") -> None:
    """Emit one :class:`SkippedEntryWarning` naming the first ten ``entries``,
    attributed to the first caller outside this package; ``kind`` says what they
    failed to be (``namespace`` or ``dataset`` ids)."""
    shown, more = first_few(entries, 10)
    names = ", ".join(_cut(entry) for entry in shown)
    warnings.warn(
        f"Skipped {len(entries)} {what} that are not valid {kind} ids: {names}{more}.{hint}",
        SkippedEntryWarning,
        stacklevel=_outside_caller(),
    )


def _cut(name: str) -> str:
    """``name`` quoted, its middle cut out if it is long (a hostile folder name may be
    thousands of characters): the start and the end say which one it is."""
    if len(name) <= _LONGEST_NAME:
        return repr(name)
    start, end = name[: _LONGEST_NAME // 2], name[-_LONGEST_NAME // 4 :]
    return f"{start!r}...{end!r} ({len(name):,} characters)"


def _outside_caller() -> int:
    """The ``stacklevel`` of the nearest frame whose code is not in this package."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level
