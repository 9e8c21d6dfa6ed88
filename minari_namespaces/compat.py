"""A drop-in for ``minari.namespace`` (Minari 0.5.4).

Replace ``from minari.namespace import ...`` by
``from minari_namespaces.compat import ...``: the functions keep Minari's names,
signatures, return values, warnings and error texts, and each one is a thin call
into :class:`~minari_namespaces.service.NamespaceService`.

- The local store is ``$MINARI_DATASETS_PATH`` (else ``~/.minari/datasets``),
  read at each call as Minari does.
- The remote is ``$MINARI_REMOTE``: any fsspec URL (``s3://bucket/prefix``,
  ``gs://bucket``, ``file:///path``, ...) or Minari's ``gcp://bucket``. Backend
  settings come from the environment, as the backend reads them
  (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``FSSPEC_S3_*``, ...).

Where Minari is unsafe we differ on purpose (stricter ids, atomic writes, no
symbolic link followed, ``data`` reserved, no crash on a dataset-like folder);
the documentation page "Migrating from minari.namespace" lists every difference.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Iterable
from typing import Any

from minari_namespaces.errors import (
    InvalidNamespaceError,
    NamespaceError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    RemoteNotConfiguredError,
)
from minari_namespaces.identifier import ID_PATTERN, NamespaceId
from minari_namespaces.metadata import METADATA_FILENAME
from minari_namespaces.repository import (
    NamespaceRepository,
    open_repository,
    remote_from_environment,
)
from minari_namespaces.service import NamespaceService

__all__ = [
    "DEFAULT_REMOTE",
    "NAMESPACE_METADATA_FILENAME",
    "NAMESPACE_REGEX",
    "create_namespace",
    "delete_namespace",
    "download_namespace_metadata",
    "get_namespace_metadata",
    "list_local_namespaces",
    "list_remote_namespaces",
    "namespace_hierarchy",
    "update_namespace_metadata",
    "upload_namespace",
    "validate_namespace",
]

#: Minari's name for the marker file of a namespace (``namespace_metadata.json``).
NAMESPACE_METADATA_FILENAME = METADATA_FILENAME
#: Our identifier rules as one expression (apply it with ``fullmatch``); unlike
#: Minari's it does not check NFC or the 512-byte limit: use ``validate_namespace``.
NAMESPACE_REGEX = re.compile(ID_PATTERN)

#: Minari's default remote, used when ``MINARI_REMOTE`` is unset (as in Minari).
DEFAULT_REMOTE = "hf://farama-minari"
_URL_FORMS = (
    "'hf://ORG' (the Hugging Face Hub, Minari's default) or any fsspec URL such as "
    "'s3://bucket/prefix', 'gs://bucket', 'file:///path' or 'memory://name', or "
    "Minari's 'gcp://bucket'"
)


def _remote_url() -> str:
    url = remote_from_environment() or DEFAULT_REMOTE
    if "://" not in url:
        raise RemoteNotConfiguredError(f"MINARI_REMOTE={url!r} is not a URL. Use {_URL_FORMS}.")
    return url


def _service(*, remote: bool = False, token: str | None = None) -> NamespaceService:
    """A service on Minari's store, read from the environment now (as Minari)."""
    if not remote:
        where = (os.environ.get("MINARI_DATASETS_PATH"), os.environ.get("HOME"), os.getcwd())
        return NamespaceService(_local_store(*where))
    options = {} if token is None else {"token": token}
    return NamespaceService.from_urls(local=None, remote=_remote_url(), **options)


@functools.lru_cache(maxsize=16)
def _local_store(configured: str | None, home: str | None, cwd: str) -> NamespaceRepository:
    """The local store that these settings name. Opening one resolves its root's
    path (an ``lstat`` per folder), which cost a plain ``get`` as much again; the
    settings are still read on every call, as Minari reads them."""
    return open_repository(None)


def _parse(namespace: str | None) -> NamespaceId:
    validate_namespace(namespace)
    assert namespace is not None
    return NamespaceId(namespace)


def validate_namespace(namespace: str | None) -> None:
    """Validate a namespace identifier.

    Raises:
        TypeError: If ``namespace`` is ``None`` (``Namespace cannot be None``)
            or not a string.
        InvalidNamespaceError: A ``ValueError`` starting ``Malformed namespace:``.
    """
    if namespace is None:
        raise TypeError("Namespace cannot be None")
    try:
        NamespaceId(namespace)
    except InvalidNamespaceError as error:
        raise InvalidNamespaceError(
            f"Malformed namespace: {namespace} ({error.reason})", error.reason
        ) from None


def namespace_hierarchy(namespace: str | None) -> Iterable[str]:
    """Yield ``namespace`` and its parents as strings, root first (a generator).

    Raises:
        InvalidNamespaceError: On iteration, if ``namespace`` is malformed.
    """
    if namespace is None:
        return
    for level in _parse(namespace).hierarchy():
        yield str(level)


def create_namespace(namespace: str, description: str | None = None, **kwargs: Any) -> None:
    """Create a local namespace, and its missing parents with ``{}``.

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        InvalidMetadataError: If the metadata is not strict JSON (nothing is written).
        NamespaceExistsError: ``Namespace '<ns>' already exists.``
        NamespaceConflictError: If a dataset or a case-only twin holds the path.
    """
    try:
        _service().create(_parse(namespace), description, metadata=kwargs)
    except NamespaceExistsError:
        raise NamespaceExistsError(f"Namespace '{namespace}' already exists.") from None


def update_namespace_metadata(
    namespace: str, description: str | None = None, **kwargs: Any
) -> None:
    """Replace the metadata of a local namespace (``description`` is always written).

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        InvalidMetadataError: If the metadata is not strict JSON.
        NamespaceNotFoundError: ``Namespace <ns> does not exist locally.``
    """
    ns = _parse(namespace)
    try:
        _service().replace(ns, {**kwargs, "description": description})
    except NamespaceNotFoundError as error:
        raise _not_local(namespace, error) from None


def get_namespace_metadata(namespace: str) -> dict[str, Any]:
    """Load local namespace metadata.

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        NamespaceNotFoundError: ``Namespace <ns> does not exist locally.``
        CorruptMetadataError: If the file is not a JSON object.
    """
    ns = _parse(namespace)
    try:
        return _service().get(ns).to_dict()
    except NamespaceNotFoundError as error:
        raise _not_local(namespace, error) from None


def _not_local(namespace: str, error: NamespaceError) -> NamespaceNotFoundError:
    return NamespaceNotFoundError(f"Namespace {namespace} does not exist locally. ({error})")


def delete_namespace(namespace: str) -> None:
    """Delete an empty local namespace; warn if it does not exist.

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        NamespaceNotEmptyError: ``Namespace <path> is not empty. All datasets must
            be deleted first.``
    """
    ns = _parse(namespace)
    service = _service()
    try:
        service.delete(ns)
    except NamespaceNotFoundError:
        warnings.warn(f"Namespace '{namespace}' does not exist.", UserWarning, stacklevel=2)
    except NamespaceNotEmptyError as error:
        directory = os.path.join(service.local.url, *ns.parts)
        raise NamespaceNotEmptyError(
            f"Namespace {directory} is not empty. All datasets must be deleted first. ({error})"
        ) from None


def list_local_namespaces() -> list[str]:
    """Names of all local namespaces, in plain string order (as Minari)."""
    return sorted(str(ns) for ns in _service().list_local())


def list_remote_namespaces() -> list[str]:
    """Names of all namespaces on ``$MINARI_REMOTE``, in plain string order.

    Raises:
        RemoteNotConfiguredError: If ``MINARI_REMOTE`` is not a URL.
        RemoteError: If the remote fails.
    """
    return sorted(str(ns) for ns in _service(remote=True).list_remote())


def download_namespace_metadata(namespace: str, overwrite: bool = False) -> None:
    """Download exactly one namespace's metadata from the remote.

    Warns (``UserWarning``) and does nothing if the namespace exists locally and
    ``overwrite`` is false.

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        NamespaceNotFoundError: ``The namespace '<ns>' doesn't exist in the remote
            Farama server.``
        CorruptMetadataError: If the remote metadata is not a JSON object.
        RemoteNotConfiguredError: If ``MINARI_REMOTE`` is not a URL.
        RemoteError: If the remote fails.
    """
    ns = _parse(namespace)
    if not overwrite and _service().exists(ns):
        warnings.warn(
            f"Skipping update for namespace '{namespace}' due to existing local metadata. "
            "Set overwrite=True to overwrite local data.",
            UserWarning,
            stacklevel=2,
        )
        return
    service = _service(remote=True)
    try:
        service.download(ns, overwrite=True, ancestors=False)
        if ns.depth == 1:
            _keep_registry(service, ns)
    except NamespaceNotFoundError:
        raise NamespaceNotFoundError(
            f"The namespace '{namespace}' doesn't exist in the remote Farama server. "
            f"(remote: {service.remote.url})"
        ) from None


def _keep_registry(service: NamespaceService, ns: NamespaceId) -> None:
    """Give the downloaded top-level ``ns`` the remote's registry keys too, as
    Minari copies the Hub's file verbatim. A store that keeps such keys names
    them in ``registry_keys`` and gives the stored form by ``get_stored`` (as
    :class:`~minari_namespaces.stores.fsspec.FsspecNamespaceRepository` does,
    from its driver's contract); a store without them (the default) needs
    nothing more: its ``get`` is the stored form."""
    remote = service.remote
    get_stored = getattr(remote, "get_stored", None)
    if get_stored is not None and getattr(remote, "registry_keys", None):
        service.replace(ns, get_stored(ns))


def upload_namespace(namespace: str, token: str | None) -> None:
    """Upload a local namespace, and the parents the remote lacks, to the remote.

    ``token`` is passed to the backend as its ``token`` storage option (for
    ``gs://`` the service-account file, as in Minari); ``None`` passes none. Prints
    ``Uploading namespace '<ns>'`` for each namespace written.

    Raises:
        InvalidNamespaceError: If ``namespace`` is malformed.
        NamespaceNotFoundError: ``Namespace '<ns>' does not exist locally.``
        RemoteNotConfiguredError: If ``MINARI_REMOTE`` is not a URL.
        RemoteError: If the remote fails.
    """
    ns = _parse(namespace)
    service = _service(remote=True, token=token)
    if not service.exists(ns):
        raise NamespaceNotFoundError(f"Namespace '{namespace}' does not exist locally.")
    if service.exists(ns, remote=True):
        warnings.warn(
            f"Upload aborted. Namespace '{namespace}' is already in remote.",
            UserWarning,
            stacklevel=2,
        )
        return
    for level in service.upload(ns).copied:
        print(f"Uploading namespace '{level}'")
