"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests and demos.

It speaks the part of the Hub's HTTP API that ``huggingface_hub`` uses for dataset
repositories, as the client expects it (routes, JSON fields, headers, status codes
and ``X-Error-Code`` values), so the real client — and the real ``minari`` on top of
it — runs against it unchanged. Point the client at it with ``HF_ENDPOINT`` *before*
``huggingface_hub`` is imported (the client reads it once, at import)::

    with HubStandIn() as hub:
        os.environ["HF_ENDPOINT"] = hub.endpoint
        ...

Repositories live in memory (:mod:`~minari_namespaces.testing.hub.model`) with a
linear history of commits, so ``parent_commit`` checks, revisions and resolves
behave as on the Hub; the HTTP side is :mod:`~minari_namespaces.testing.hub.http`.
Large and binary files go through Git LFS as on the Hub
(:mod:`~minari_namespaces.testing.hub.lfs`), but not through Xet: ``huggingface_hub``
2.x uploads through Xet whenever ``hf_xet`` is installed, so a client of this
stand-in runs with ``HF_HUB_DISABLE_XET=1`` (:meth:`HubStandIn.as_hf_endpoint`
sets it).
Requests are counted per route (:meth:`HubStandIn.take_counts`), and faults can be
injected: an error before a request changes anything or after it took effect, a
dropped connection, a 429 with ``Retry-After``, a slow answer
(:meth:`HubStandIn.fail_next`, :meth:`HubStandIn.throttle_next`,
:meth:`HubStandIn.slow_next`). Standard library only.

Run one in the foreground with ``python -m minari_namespaces.testing.hub.server``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from minari_namespaces.testing.hub.http import Fault, HubHttpServer
from minari_namespaces.testing.hub.model import LFS_THRESHOLD, HubModel, LfsReference

__all__ = ["HubStandIn"]


class HubStandIn:
    """A threaded stand-in Hub on 127.0.0.1.

    Args:
        sock: A listening socket already bound on 127.0.0.1 (so ``HF_ENDPOINT`` can
            be set before the server starts); ``None`` binds a free port.
        lfs_threshold: Files of at least this many bytes go through LFS (the Hub's
            10 MiB by default; binary files and the types ``.gitattributes`` names
            go through LFS whatever their size).
    """

    def __init__(
        self, sock: socket.socket | None = None, *, lfs_threshold: int = LFS_THRESHOLD
    ) -> None:
        self._model = HubModel(lfs_threshold)
        self._server = HubHttpServer(self._model, sock)
        self._traffic = self._server.traffic
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The base URL to give ``HF_ENDPOINT`` (``http://127.0.0.1:PORT``)."""
        return self._server.endpoint

    @property
    def authorizations(self) -> list[str]:
        """Every ``Authorization`` header received (to check a token was sent)."""
        return self._traffic.authorizations

    def start(self) -> HubStandIn:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HubStandIn:
        return self.start()

    @contextmanager
    def as_hf_endpoint(self, home: str | os.PathLike[str]) -> Iterator[None]:
        """Point ``huggingface_hub`` at this stand-in for the block, with its cache in
        ``home``; the environment is restored after. The client reads ``HF_ENDPOINT``
        when it is first imported, so import it only inside the block.

        Raises:
            RuntimeError: If ``huggingface_hub`` was imported already.
        """
        if "huggingface_hub" in sys.modules:
            raise RuntimeError("huggingface_hub is imported already: it reads HF_ENDPOINT once")
        saved = dict(os.environ)
        os.environ.update(
            {
                "HF_ENDPOINT": self.endpoint,
                "HF_HOME": os.fspath(home),
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                # This stand-in speaks Git LFS, not Xet.
                "HF_HUB_DISABLE_XET": "1",
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- for tests -------------------------------------------------------------

    def take_counts(self) -> Counter[str]:
        """Requests per route since the last call (``commit``, ``tree``, ...)."""
        return self._traffic.take_counts()

    def fail_next(
        self, route: str, status: int | None = 500, times: int = 1, *, applied: bool = False
    ) -> None:
        """Answer the next ``times`` requests of ``route`` with ``status``;
        ``status=None`` drops the connection unanswered (after reading the body).
        With ``applied`` the request takes effect first and only its answer is
        lost: a commit that lands and is answered 500.
        """
        self._traffic.add(route, Fault(status=status, drop=status is None, applied=applied), times)

    def throttle_next(self, route: str, retry_after: str, times: int = 1) -> None:
        """Refuse the next ``times`` requests of ``route`` with 429 Too Many
        Requests and ``Retry-After: retry_after`` (seconds or an HTTP date),
        before they change anything."""
        self._traffic.add(route, Fault(status=429, retry_after=retry_after), times)

    def slow_next(self, route: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``route`` ``seconds`` after they
        took effect (a client that stops waiting loses the answer)."""
        self._traffic.add(route, Fault(status=None, delay=seconds), times)

    def reset(self) -> None:
        """Forget every repository, count and fault."""
        self._model.reset()
        self._traffic.reset()

    def create_repo(self, repo_id: str, kind: str = "dataset") -> None:
        """Create a repository (with the Hub's ``.gitattributes``) if it is missing."""
        self._model.ensure(kind, repo_id)

    def put_file(self, repo_id: str, path: str, data: bytes, kind: str = "dataset") -> None:
        """Commit ``data`` at ``path`` (creating the repository), unchecked, through
        LFS where the Hub would store it so."""
        model, data = self._model, bytes(data)
        model.ensure(kind, repo_id)
        if model.wants_lfs(kind, repo_id, path, len(data), data):
            sha256 = hashlib.sha256(data).hexdigest()
            model.store_lfs_object(kind, repo_id, sha256, data)
            model.commit(kind, repo_id, {path: LfsReference(sha256)}, [])
        else:
            model.commit(kind, repo_id, {path: data}, [])

    def delete_file(self, repo_id: str, path: str, kind: str = "dataset") -> None:
        """Commit the removal of ``path``."""
        self._model.commit(kind, repo_id, {}, [(path, False)])

    def files(self, repo_id: str, kind: str = "dataset") -> dict[str, bytes]:
        """The files at the head of ``repo_id`` (``{}`` if it does not exist)."""
        if self._model.commits(kind, repo_id) == 0:
            return {}
        return {
            path: blob.data for path, blob in self._model.snapshot(kind, repo_id, "main")[1].items()
        }

    def lfs_paths(self, repo_id: str, kind: str = "dataset") -> set[str]:
        """The paths of the files at the head of ``repo_id`` that git holds through LFS."""
        if self._model.commits(kind, repo_id) == 0:
            return set()
        files = self._model.snapshot(kind, repo_id, "main")[1]
        return {path for path, blob in files.items() if blob.lfs}

    def repos(self, kind: str = "dataset") -> list[str]:
        """The ids of the repositories of ``kind``."""
        return [repo.repo_id for repo in self._model.repositories(kind)]

    def commits(self, repo_id: str, kind: str = "dataset") -> int:
        """How many commits ``repo_id`` has (its creation included)."""
        return self._model.commits(kind, repo_id)


def _main() -> None:
    parser = argparse.ArgumentParser(description="A stand-in Hugging Face Hub on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    arguments = parser.parse_args()
    sock = socket.create_server(("127.0.0.1", arguments.port))
    hub = HubStandIn(sock).start()
    print(f"HF_ENDPOINT={hub.endpoint}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    _main()
