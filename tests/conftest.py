"""Fixtures only: the servers of the suite, a harness per store, and the lanes a
test's servers put it in. What tests import lives in ``tests.support``."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from minari_namespaces.testing.contract import RepositoryHarness
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.emulators import AzureServer, AzuriteServer, FakeGcsServer, GcsServer
from tests.support.harnesses import (
    CLOUDS,
    HARNESSES,
    S3_SERVERS,
    cloud_harness,
    hub_harness,
    s3_harness,
)
from tests.support.servers import MotoServer, S3Server, SeaweedServer, isolate_aws_environment

# huggingface_hub reads HF_ENDPOINT once, when it is first imported: bind the stand-in
# Hub's socket and point every client (ours, the real minari's, subprocesses') at it
# before any test module can import it. The server starts only if a test needs it.
# A worker process imports this module too: it keeps the endpoint it inherited.
_HUB_SOCKET: socket.socket | None = None
if "MINARI_NAMESPACES_TEST_HUB" not in os.environ:
    _HUB_SOCKET = socket.create_server(("127.0.0.1", 0))
    os.environ.update(
        {
            "MINARI_NAMESPACES_TEST_HUB": "1",
            "HF_ENDPOINT": f"http://127.0.0.1:{_HUB_SOCKET.getsockname()[1]}",
            "HF_HOME": tempfile.mkdtemp(prefix="minari-test-hf-home-"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            # huggingface_hub 2.x uploads through Xet whenever hf_xet is installed;
            # the stand-in Hub speaks Git LFS only, the path this suite proves.
            "HF_HUB_DISABLE_XET": "1",
        }
    )
    os.environ.pop("HF_TOKEN", None)


@pytest.fixture(scope="session")
def _moto_process() -> Iterator[tuple[MotoServer, S3Server]]:
    isolate_aws_environment()
    moto = MotoServer()
    server = moto.start()
    try:
        yield moto, server
    finally:
        moto.stop()


@pytest.fixture
def moto_s3(_moto_process: tuple[MotoServer, S3Server]) -> S3Server:
    """moto's S3 server, reset for this test."""
    moto, server = _moto_process
    moto.reset(server)
    return server


@pytest.fixture(scope="session")
def seaweed_s3() -> Iterator[S3Server]:
    """SeaweedFS, started once per run; each test takes a fresh bucket."""
    isolate_aws_environment()
    seaweed = SeaweedServer()
    server = seaweed.start()
    try:
        yield server
    finally:
        seaweed.stop()


@pytest.fixture(scope="session")
def gcs() -> Iterator[GcsServer]:
    """fake-gcs-server, started once per run; each test takes a fresh bucket."""
    emulator = FakeGcsServer()
    yield emulator.start()
    emulator.stop()


@pytest.fixture(scope="session")
def azure() -> Iterator[AzureServer]:
    """Azurite's blob service, started once per run; each test takes a fresh container."""
    emulator = AzuriteServer()
    yield emulator.start()
    emulator.stop()


@pytest.fixture(scope="session")
def _hub_process() -> Iterator[HubStandIn]:
    assert _HUB_SOCKET is not None, "the stand-in Hub runs in the pytest process only"
    hub = HubStandIn(_HUB_SOCKET).start()
    try:
        yield hub
    finally:
        hub.stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the Hub's socket (if no test started the server) and its HF_HOME."""
    if _HUB_SOCKET is not None:
        _HUB_SOCKET.close()
        shutil.rmtree(os.environ["HF_HOME"], ignore_errors=True)


@pytest.fixture
def hub(_hub_process: HubStandIn) -> HubStandIn:
    """The stand-in Hugging Face Hub (``HF_ENDPOINT``), emptied for this test."""
    _hub_process.reset()
    return _hub_process


@pytest.fixture(params=[*sorted(HARNESSES), *(f"s3-{name}" for name in S3_SERVERS), *CLOUDS, "hub"])
def any_harness(request: pytest.FixtureRequest, tmp_path: Path) -> RepositoryHarness:
    """A fresh harness for every repository implementation."""
    name: str = request.param
    if name.startswith("s3-"):
        server: S3Server = request.getfixturevalue(f"{name[3:]}_s3")
        return s3_harness(server)
    if name == "hub":
        return hub_harness(request.getfixturevalue("hub"))
    if name in CLOUDS:
        return cloud_harness(request.getfixturevalue(name))
    return HARNESSES[name](tmp_path)


#: Fixtures that start a server, and the lane marker each one puts on a test.
_SERVER_FIXTURES: dict[str, str] = {
    "_hub_process": "hub",
    "_moto_process": "s3",
    "moto_s3": "s3",
    "seaweed_s3": "s3",
    "gcs": "gcs",
    "azure": "azure",
}
#: Words of a parametrization id (``s3-moto``, ``seaweed``) that name a server's lane.
_SERVER_WORDS: dict[str, str] = {
    "s3": "s3",
    "moto": "s3",
    "seaweed": "s3",
    "gcs": "gcs",
    "azure": "azure",
    "hub": "hub",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put each test in the lanes of the servers its fixtures start (a harness
    parameter such as ``s3-moto`` counts); a module's own lanes are its ``pytestmark``."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        words = set(callspec.id.split("-")) if callspec is not None else set()
        for word in words & set(_SERVER_WORDS):
            item.add_marker(_SERVER_WORDS[word])
        for fixture, lane in _SERVER_FIXTURES.items():
            if fixture in names:
                item.add_marker(lane)


@pytest.fixture(autouse=True)
def _fresh_memory_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every test its own fsspec memory store (it is global by default)."""
    from fsspec.implementations.memory import MemoryFileSystem

    monkeypatch.setattr(MemoryFileSystem, "store", {})
    monkeypatch.setattr(MemoryFileSystem, "pseudo_dirs", [""])


@pytest.fixture(autouse=True)
def _isolated_minari_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real ~/.minari or a remote from the environment."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari-home")))
    monkeypatch.delenv("MINARI_REMOTE", raising=False)
    assert "MINARI_REMOTE" not in os.environ
