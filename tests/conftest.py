"""Shared fixtures: one factory per repository implementation."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from minari_namespaces import FsspecNamespaceRepository, LocalNamespaceRepository, NamespaceId
from minari_namespaces.testing import InMemoryNamespaceRepository
from minari_namespaces.testing.contract import RepositoryHarness
from minari_namespaces.testing.hub.server import HubStandIn
from tests.emulators import AzureServer, AzuriteServer, FakeGcsServer, GcsServer
from tests.servers import MotoServer, S3Server, SeaweedServer, isolate_aws_environment

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
        }
    )
    os.environ.pop("HF_TOKEN", None)
#: The user or organisation of the stand-in Hub's repositories (Minari's default).
HUB_ORG = "farama-minari"


def local_dataset(root: Path) -> Callable[[NamespaceId | None, str], None]:
    """Lay out a Minari-style dataset folder: ``<ns>/<name>/data/main_data.hdf5``."""

    def add(ns: NamespaceId | None, name: str) -> None:
        folder = root.joinpath(*(ns.parts if ns else ()), name, "data")
        folder.mkdir(parents=True)
        (folder / "main_data.hdf5").write_bytes(b"\x89HDF")
        (folder / "metadata.json").write_text("{}")

    return add


def local_dataset_metadata(root: Path) -> Callable[[NamespaceId | None, str, bytes | None], None]:
    """Write (or, for ``None``, remove) a dataset's ``data/metadata.json``."""

    def write(ns: NamespaceId | None, name: str, raw: bytes | None) -> None:
        path = root.joinpath(*(ns.parts if ns else ()), name, "data", "metadata.json")
        if raw is None:
            path.unlink()
        else:
            path.write_bytes(raw)

    return write


def local_marker(root: Path) -> Callable[[NamespaceId, bytes], None]:
    def write(ns: NamespaceId, raw: bytes) -> None:
        folder = root.joinpath(*ns.parts)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "namespace_metadata.json").write_bytes(raw)

    return write


def fsspec_harness(url: str, **storage_options: object) -> RepositoryHarness:
    """A harness for an ``FsspecNamespaceRepository`` at ``url``."""
    return fsspec_harness_for(FsspecNamespaceRepository(url, **storage_options))


def fsspec_harness_for(repository: FsspecNamespaceRepository) -> RepositoryHarness:
    """A harness that plants objects through ``repository``'s own filesystem."""
    fs, root = repository.fs, repository.url

    def path(*parts: str) -> str:
        return "/".join([fs._strip_protocol(root).rstrip("/"), *parts])

    def put(key: str, raw: bytes) -> None:
        fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
        with warnings.catch_warnings():
            # gcsfs hands aiohttp raw bytes, which it warns about over 1 MiB.
            warnings.filterwarnings("ignore", "Sending a large body", ResourceWarning)
            fs.pipe_file(key, raw)

    def add_dataset(ns: NamespaceId | None, name: str) -> None:
        folder = path(*(ns.parts if ns else ()), name, "data")
        put(f"{folder}/main_data.hdf5", b"\x89HDF")
        put(f"{folder}/metadata.json", b"{}")

    def write_marker(ns: NamespaceId, raw: bytes) -> None:
        put(path(*ns.parts, "namespace_metadata.json"), raw)

    def write_dataset_metadata(ns: NamespaceId | None, name: str, raw: bytes | None) -> None:
        key = path(*(ns.parts if ns else ()), name, "data", "metadata.json")
        if raw is None:
            fs.rm_file(key)
        else:
            put(key, raw)

    return RepositoryHarness(
        repository,
        add_dataset,
        write_marker,
        write_dataset_metadata=write_dataset_metadata,
        lists_datasets_by_folder=repository.driver.staged_datasets,
    )


def local_harness(tmp_path: Path) -> RepositoryHarness:
    root = tmp_path / "datasets"
    return RepositoryHarness(
        repository=LocalNamespaceRepository(root),
        add_dataset=local_dataset(root),
        write_marker=local_marker(root),
        write_dataset_metadata=local_dataset_metadata(root),
        lists_datasets_by_folder=True,
    )


def memory_harness(tmp_path: Path) -> RepositoryHarness:
    repository = InMemoryNamespaceRepository()
    return RepositoryHarness(
        repository=repository,
        add_dataset=repository.add_dataset,
        write_marker=repository.write_marker,
        write_dataset_metadata=repository.write_dataset_metadata,
        lists_datasets_by_folder=True,
    )


def fsspec_memory_harness(tmp_path: Path) -> RepositoryHarness:
    return fsspec_harness(f"memory://contract/{tmp_path.name}")


def fsspec_file_harness(tmp_path: Path) -> RepositoryHarness:
    return fsspec_harness(f"file://{tmp_path}/remote")


def s3_harness(server: S3Server) -> RepositoryHarness:
    return fsspec_harness(f"s3://{server.new_bucket()}/prefix", **server.storage_options())


def cloud_harness(server: GcsServer | AzureServer) -> RepositoryHarness:
    url = f"{server.protocol}://{server.new_bucket()}/prefix"
    return fsspec_harness(url, **server.storage_options())


def hub_harness(hub: HubStandIn) -> RepositoryHarness:
    """A harness for ``hf://farama-minari`` on the stand-in Hub: a namespace's top
    segment is a dataset repository, the rest a path inside it."""
    repository = FsspecNamespaceRepository(f"hf://{HUB_ORG}")

    def put(parts: tuple[str, ...], raw: bytes) -> None:
        hub.put_file(f"{HUB_ORG}/{parts[0]}", "/".join(parts[1:]), raw)

    def add_dataset(ns: NamespaceId | None, name: str) -> None:
        folder = (*(ns.parts if ns else ()), name, "data")
        put((*folder, "main_data.hdf5"), b"\x89HDF")
        put((*folder, "metadata.json"), b"{}")

    def write_marker(ns: NamespaceId, raw: bytes) -> None:
        put((*ns.parts, "namespace_metadata.json"), raw)

    def write_dataset_metadata(ns: NamespaceId | None, name: str, raw: bytes | None) -> None:
        parts = (*(ns.parts if ns else ()), name, "data", "metadata.json")
        if raw is None:
            hub.delete_file(f"{HUB_ORG}/{parts[0]}", "/".join(parts[1:]))
        else:
            put(parts, raw)

    return RepositoryHarness(
        repository,
        add_dataset,
        write_marker,
        ascii_top_level=True,
        write_dataset_metadata=write_dataset_metadata,
        copies_datasets=False,
    )


HARNESSES: dict[str, Callable[[Path], RepositoryHarness]] = {
    "local": local_harness,
    "in-memory": memory_harness,
    "fsspec-memory": fsspec_memory_harness,
    "fsspec-file": fsspec_file_harness,
}
S3_SERVERS = ("moto", "seaweed")
#: The cloud emulators, by the name of their fixture's lane.
CLOUDS = ("gcs", "azure")


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
#: Folders and modules whose tests all belong to a lane.
_LANES_BY_PATH: dict[str, str] = {
    "tests/compat/": "compat",
    "tests/integration/test_processes.py": "processes",
    "tests/integration/test_object_store_processes.py": "processes",
    "tests/integration/test_hub_processes.py": "processes",
    "tests/integration/test_cli_subprocess.py": "processes",
    "tests/integration/test_demo.py": "processes",
    "tests/integration/test_dataset_memory.py": "processes",
    "tests/integration/test_catalog_browser.py": "browser",
    "tests/test_docs.py": "slow",
    # Every write and read of a transfer, one run each: the rest of the quick lane's
    # time again; it runs with everything else in `make test`.
    "tests/integration/test_fault_injection.py": "slow",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put each test in its lanes: by the servers its fixtures start (a harness
    parameter such as ``s3-moto`` counts) and by where it lives."""
    root = Path(str(config.rootpath))
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        words = set(callspec.id.split("-")) if callspec is not None else set()
        for word in words & set(_SERVER_WORDS):
            item.add_marker(_SERVER_WORDS[word])
        for fixture, lane in _SERVER_FIXTURES.items():
            if fixture in names:
                item.add_marker(lane)
        where = Path(str(item.path)).relative_to(root).as_posix()
        for path, lane in _LANES_BY_PATH.items():
            if where.startswith(path):
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
