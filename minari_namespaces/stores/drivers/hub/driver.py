"""The Hugging Face Hub driver: Minari's ``hf://ORG`` layout, kept exactly.

Each top-level namespace ``T`` is the dataset repository ``ORG/T``; ``T``'s
metadata is the repository's root ``namespace_metadata.json`` and ``T/a/b`` lives at
``a/b/namespace_metadata.json`` inside it. Minari finds sub-namespaces only through
the *registry*: the ``namespaces`` list in the root metadata (beside ``datasets``,
which Minari keeps for its datasets). So:

- every write is one commit (``create_commit``) with ``parent_commit`` set to the
  head that was read: the Hub answers 412 when the head moved, which makes both
  create-only and compare-and-swap writes, retried on a fresh head;
- every commit recomputes the registry from the repository's files: afterwards the
  root's ``namespaces`` lists exactly the sub-namespaces present, even if a racing
  Minari left it stale; ``datasets`` and every other key are kept;
- a batch of namespaces in one repository (an ``upload_tree``) is one commit,
  parents with their children;
- a top-level id that the Hub cannot hold as a repository name is refused before
  anything is written;
- a commit whose answer is lost (5xx, a dropped connection, a timeout; the client
  never resends a commit) is looked for at the head before anything is sent again:
  if the head holds exactly its files, it landed. A 429 (or a 503 with a time) is
  waited out as the Hub asks, on every request. Both within ``retry_deadline``.

The client (``huggingface_hub``) skips a commit whose files are all unchanged and
then checks no parent: a write whose bytes equal what was read is a no-op here, and
one that the client skipped because *another* writer already stored the same
bytes is treated as a conflict (read again, and the retry is a true no-op).

Requests: a read is one ``resolve`` GET (capped with ``Range``) that also returns the
commit it read (``X-Repo-Commit``); a listing is one ``list_datasets`` plus one tree
listing per repository; a commit costs a tree listing, a root read, the client's
``preupload`` and the commit itself. Datasets (listed with the Hub's content hashes,
streamed, published in few commits through LFS) live in
:mod:`~minari_namespaces.stores.drivers.hub.datasets`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar
from urllib.parse import quote

from minari_namespaces.metadata import MAX_METADATA_BYTES, METADATA_FILENAME
from minari_namespaces.stores.drivers.driver import MISSING, ConflictError, Driver, Missing, Read
from minari_namespaces.stores.drivers.hub.client import transport_errors
from minari_namespaces.stores.drivers.hub.commits import (
    LANDED,
    REPO_TYPE,
    Plan,
    Snapshot,
    Staged,
    held_exactly,
    send,
)
from minari_namespaces.stores.drivers.hub.datasets import HubDatasetFiles
from minari_namespaces.stores.drivers.hub.deadline import install, time_left, within
from minari_namespaces.stores.drivers.hub.registry import DATASETS, REGISTRY, root_with_registry
from minari_namespaces.stores.drivers.hub.urls import hub_repo_name_problem, organisation_of
from minari_namespaces.stores.drivers.retry import RetryBudget, RetryPolicy
from minari_namespaces.stores.drivers.status import (
    NOT_FOUND,
    SERVER_ERROR,
    TOO_MANY_REQUESTS,
    is_throttled,
    status_of,
)

__all__ = ["HubDriver"]

_COMMIT_ATTEMPTS: Final = 20
_READERS: Final = 16
#: Files the Hub keeps at the root of every repository; never namespace content.
_HUB_FILES: Final = frozenset({".gitattributes"})
_MISSING_CODES: Final = frozenset({"RepoNotFound", "EntryNotFound", "RevisionNotFound"})

T = TypeVar("T")


class HubDriver(HubDatasetFiles, Driver):
    """Namespaces on the Hugging Face Hub through ``huggingface_hub``: the driver
    contract implemented directly (the Hub is no fsspec filesystem here). It keeps
    no listing cache: every listing asks the Hub.

    Args:
        api: The ``HfApi`` client.
        org: The user or organisation that owns the repositories.
        token: The token, if one was given (else the client's own: ``HF_TOKEN``...).
    """

    extra = "hf"
    compare_and_swap = True
    atomic_batches = True
    registry_keys = frozenset({REGISTRY, DATASETS})
    keeps_records = False

    def __init__(
        self, api: Any, org: str, token: str | None = None, *, retry: RetryPolicy | None = None
    ) -> None:
        # The root is the organisation: every path starts with ``ORG/T``.
        Driver.__init__(self, org, retry=retry)
        HubDatasetFiles.__init__(self)
        #: The ``huggingface_hub.HfApi`` client.
        self.api = api
        self._token = token
        # Content read at a commit, which never changes: the next write at that
        # commit needs it (the root's ``datasets``) without a second request.
        self._seen: dict[tuple[str, str, str], bytes] = {}

    @property
    def org(self) -> str:
        """The user or organisation that owns the repositories (the root)."""
        return self.root

    @property
    def client(self) -> Any:
        """The ``huggingface_hub.HfApi`` client."""
        return self.api

    @classmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[HubDriver, str]:
        """Open ``hf://ORG`` (or ``hf://datasets/ORG``).

        Raises:
            ImportError: If ``huggingface_hub`` is not installed.
            ValueError: If the URL names no organisation, or an option is unknown.
        """
        from huggingface_hub import HfApi

        rest = organisation_of(url)
        token = options.pop("token", None)
        endpoint = options.pop("endpoint", None)
        retry = RetryPolicy.from_options(options)
        if options:
            raise ValueError(f"unknown storage options for hf:// {sorted(options)}")
        install()
        return cls(HfApi(endpoint=endpoint, token=token), rest, token, retry=retry), f"hf://{rest}"

    def _patiently(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(*args, **kwargs)``, waited out while the Hub throttles it (429,
        or 503 with a time), within the store's ``retry_deadline``."""
        from huggingface_hub.errors import HfHubHTTPError

        budget = self.retry.budget(at_most=time_left())
        with within(budget.left()):
            while True:
                try:
                    return call(*args, **kwargs)
                except HfHubHTTPError as error:
                    if not is_throttled(error):
                        raise
                    budget.wait(error, throttled=True)

    def _idempotently(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`_patiently`, and sent again after a 5xx or a lost connection,
        with backoff: for a write whose repetition changes nothing."""
        from huggingface_hub.errors import HfHubHTTPError

        retried: tuple[type[BaseException], ...] = (HfHubHTTPError, *transport_errors())
        budget = self.retry.budget(at_most=time_left())
        with within(budget.left()):
            while True:
                try:
                    return self._patiently(call, *args, **kwargs)
                except retried as error:
                    status = status_of(error)
                    if isinstance(error, HfHubHTTPError) and (status or 0) < SERVER_ERROR:
                        raise
                    budget.wait(error, throttled=False)

    # -- paths ---------------------------------------------------------------

    def _split(self, path: str) -> tuple[str, str]:
        """``ORG/T/a/b`` -> (``ORG/T``, ``a/b``)."""
        parts = path.split("/")
        return f"{parts[0]}/{parts[1]}", "/".join(parts[2:])

    def repo_name_problem(self, top: str) -> str | None:
        """Why the top-level namespace ``top`` cannot be stored here, or ``None``."""
        problem = hub_repo_name_problem(top)
        if problem is None:
            return None
        return (
            f"a top-level namespace is the Hugging Face dataset repository {self.org}/{top}, "
            f"whose name the Hub refuses: {problem}"
        )

    # -- reading -------------------------------------------------------------

    def _resolve(self, repo: str, inner: str, revision: str = "main") -> Read:
        from huggingface_hub import get_session, hf_raise_for_status
        from huggingface_hub.utils import build_hf_headers

        url = (
            f"{self.api.endpoint}/datasets/{repo}/resolve/{quote(revision, safe='')}/{quote(inner)}"
        )
        headers = build_hf_headers(token=self._token)
        headers["Range"] = f"bytes=0-{MAX_METADATA_BYTES}"
        with get_session().stream("GET", url, headers=headers, follow_redirects=True) as answer:
            if answer.status_code == NOT_FOUND and (
                answer.headers.get("X-Error-Code") in _MISSING_CODES
            ):
                return MISSING, None
            if answer.status_code >= 400:
                answer.read()
                hf_raise_for_status(answer)
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_METADATA_BYTES:
                    break  # a server that ignores Range is not read further
            version = answer.headers.get("X-Repo-Commit")
        data = b"".join(chunks)[: MAX_METADATA_BYTES + 1]
        if version:
            self._seen[(repo, version, inner)] = data
        return data, version

    def read(self, path: str) -> bytes | Missing:
        return self.read_versioned(path)[0]

    def read_versioned(self, path: str) -> Read:
        return self._patiently(self._resolve, *self._split(path))

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | Missing]:
        if len(paths) <= 1:
            return {path: self.read(path) for path in paths}
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            return dict(zip(paths, pool.map(self.read, paths), strict=True))

    def _tree(
        self, repo: str, inner: str = "", *, recursive: bool, revision: str | None = None
    ) -> list[tuple[str, int | None]]:
        """``(path, size)`` under ``inner`` in ``repo``, the size ``None`` for a folder;
        ``[]`` if either is missing."""
        from huggingface_hub import RepoFile

        entries = self._idempotently(self._entries, repo, inner, recursive, revision)
        return [
            (str(entry.path), int(entry.size) if isinstance(entry, RepoFile) else None)
            for entry in entries
        ]

    def _entries(self, repo: str, inner: str, recursive: bool, revision: str | None) -> list[Any]:
        """The tree entries under ``inner`` (every page); ``[]`` if it is missing."""
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        try:
            return list(
                self.api.list_repo_tree(
                    repo,
                    path_in_repo=inner or None,
                    recursive=recursive,
                    repo_type=REPO_TYPE,
                    revision=revision,
                )
            )
        except (EntryNotFoundError, RepositoryNotFoundError):
            return []

    def _repos(self) -> list[str]:
        listed = self._idempotently(lambda: list(self.api.list_datasets(author=self.org)))
        return sorted(
            str(info.id).split("/", 1)[1]
            for info in listed
            if str(info.id).startswith(f"{self.org}/")
        )

    def find(self, path: str) -> dict[str, int]:
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            repos = self._repos()
            with ThreadPoolExecutor(max_workers=_READERS) as pool:
                listed = pool.map(lambda name: self.find(f"{self.org}/{name}"), repos)
            return {found: size for files in listed for found, size in files.items()}
        repo, inner = self._split(path)
        return {
            f"{repo}/{name}": size
            for name, size in self._tree(repo, inner, recursive=True)
            if size is not None and name not in _HUB_FILES
        }

    def names(self, folder: str) -> list[str]:
        parts = folder.strip("/").split("/")
        if len(parts) == 1:
            return self._repos()
        repo, inner = self._split(folder)
        return [
            name.rsplit("/", 1)[-1]
            for name, _ in self._tree(repo, inner, recursive=False)
            if name not in _HUB_FILES
        ]

    def any_under(self, path: str) -> bool:
        repo, inner = self._split(path)
        return bool(self._tree(repo, inner, recursive=False))

    # -- writing -------------------------------------------------------------

    def _snapshot(self, repo: str, sha: str | None) -> Snapshot:
        """The files and root metadata of ``repo`` at ``sha`` (the head if ``None``)."""
        from huggingface_hub.errors import RepositoryNotFoundError

        if sha is None:
            try:
                sha = str(self._patiently(self.api.repo_info, repo, repo_type=REPO_TYPE).sha)
            except RepositoryNotFoundError:
                return Snapshot(sha=None)
        files = {
            name
            for name, size in self._tree(repo, recursive=True, revision=sha)
            if size is not None
        }
        root = None
        if METADATA_FILENAME in files:
            root = self._seen.get((repo, sha, METADATA_FILENAME))
            if root is None:
                data = self._patiently(self._resolve, repo, METADATA_FILENAME, sha)[0]
                root = None if isinstance(data, Missing) else data
        return Snapshot(sha, files, root)

    def _registry(self, repo: str, snapshot: Snapshot, plan: Plan) -> None:
        """Add to ``plan`` the root metadata with a true registry, if the root exists
        after the commit and its registry (or content) changes."""
        files = (snapshot.files | set(plan.adds) | set(plan.files)) - set(plan.deletes)
        root = root_with_registry(
            repo.split("/", 1)[1],
            files,
            plan.adds.get(METADATA_FILENAME),
            snapshot.root,
            plan.datasets,
        )
        if root is not None:
            plan.adds[METADATA_FILENAME] = root

    def _commit(
        self,
        repo: str,
        make_plan: Callable[[Snapshot], Plan | None],
        *,
        parent: str | None = None,
        summary: str,
    ) -> None:
        """Commit what ``make_plan`` asks on a snapshot, with the registry kept true.

        With ``parent`` the commit must land on exactly that commit (compare-and-
        swap: :class:`ConflictError` otherwise); without, it is retried on a
        fresh head until it lands. A throttled commit (429) waits as the Hub
        asks; a commit whose answer is lost (5xx, a dropped connection, a
        timeout) is looked for at the head before anything is sent again, so a
        commit that landed is never made twice. Both within ``retry_deadline``.
        """
        budget = self.retry.budget(at_most=time_left())
        with within(budget.left()):
            self._commit_within(repo, make_plan, budget, parent=parent, summary=summary)

    def _commit_within(
        self,
        repo: str,
        make_plan: Callable[[Snapshot], Plan | None],
        budget: RetryBudget,
        *,
        parent: str | None,
        summary: str,
    ) -> None:
        conflicts = 0
        while conflicts < _COMMIT_ATTEMPTS:
            snapshot = self._snapshot(repo, parent)
            plan = make_plan(snapshot)
            if plan is None:
                return
            self._registry(repo, snapshot, plan)
            changes = {
                path: payload
                for path, payload in plan.adds.items()
                if not (
                    path in snapshot.files
                    and self._seen.get((repo, str(snapshot.sha), path)) == payload
                )
            }
            if not changes and not plan.deletes and not plan.files:
                return  # every byte is already what it should be at this commit
            outcome = send(
                self.api,
                repo,
                parent=snapshot.sha,
                changes=changes,
                deletes=plan.deletes,
                summary=summary,
                files=plan.files.values(),
            )
            if outcome is LANDED:
                return
            if isinstance(outcome, BaseException):
                # A 429 refused the commit; any other failure may hide one that landed.
                if status_of(outcome) != TOO_MANY_REQUESTS and self._landed(
                    repo, changes, plan.deletes, plan.files
                ):
                    return
                budget.wait(outcome, throttled=is_throttled(outcome))
                continue
            conflicts += 1
            if parent is not None:
                raise ConflictError(repo)
        raise ConflictError(repo)

    def _landed(
        self,
        repo: str,
        changes: dict[str, bytes],
        deletes: list[str],
        files: dict[str, Staged],
    ) -> bool:
        """Whether the head holds exactly what a commit wrote (its answer was lost)."""
        entries = self._patiently(self._entries, repo, "", True, None)
        return held_exactly(entries, changes, deletes, files)

    def _ensure_repo(self, repo: str) -> None:
        # ``exist_ok``: a repository created by a request whose answer was lost is fine.
        self._idempotently(self.api.create_repo, repo, repo_type=REPO_TYPE, exist_ok=True)

    def create(self, path: str, payload: bytes) -> None:
        if self.create_all([(path, payload)])[0]:
            raise FileExistsError(path)

    def create_all(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Create-only writes, one commit per repository (parents with children)."""
        by_repo: dict[str, dict[str, bytes]] = {}
        for path, payload in items:
            repo, inner = self._split(path)
            by_repo.setdefault(repo, {})[inner] = payload
        existed: dict[tuple[str, str], bool] = {}
        for repo, wanted in by_repo.items():
            self._ensure_repo(repo)

            def plan(
                snapshot: Snapshot, repo: str = repo, wanted: dict[str, bytes] = wanted
            ) -> Plan:
                for inner in wanted:
                    existed[(repo, inner)] = inner in snapshot.files
                return Plan(adds={i: p for i, p in wanted.items() if i not in snapshot.files})

            if self.gather(repo, plan):
                # A batch commits it later (with its datasets); say now what exists.
                plan(self._snapshot(repo, None))
                continue
            self._commit(repo, plan, summary=f"Create {len(wanted)} namespace(s)")
        return [existed[self._split(path)] for path, _ in items]

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        if version is None:
            raise ConflictError(path)
        repo, inner = self._split(path)

        def plan(snapshot: Snapshot) -> Plan:
            if inner not in snapshot.files:
                raise ConflictError(path)
            return Plan(adds={inner: payload})

        self._commit(repo, plan, parent=str(version), summary="Update namespace metadata")

    def remove(self, paths: Sequence[str], folder: str) -> None:
        if not paths:
            return
        repo, inner_folder = self._split(folder)
        inners = {self._split(path)[1] for path in paths}
        prefix = f"{inner_folder}/" if inner_folder else ""

        def plan(snapshot: Snapshot) -> Plan:
            others = {
                name
                for name in snapshot.files
                if name.startswith(prefix) and name not in inners and name not in _HUB_FILES
            }
            if others:
                raise OSError(f"{folder} gained {sorted(others)[0]} while it was being deleted")
            return Plan(deletes=sorted(inners & snapshot.files))

        self._commit(repo, plan, summary="Delete namespace")
