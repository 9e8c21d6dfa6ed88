"""A :class:`RepositoryHarness` for every store the suite runs the contract on, each
planting files through :func:`tests.support.layout.layout_harness`."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from minari_namespaces import FsspecNamespaceRepository, LocalNamespaceRepository
from minari_namespaces.testing import InMemoryNamespaceRepository
from minari_namespaces.testing.contract import RepositoryHarness
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.emulators import AzureServer, GcsServer
from tests.support.layout import layout_harness, local_files
from tests.support.servers import S3Server

#: The user or organisation of the stand-in Hub's repositories (Minari's default).
HUB_ORG = "farama-minari"


def local_harness_at(root: Path) -> RepositoryHarness:
    """A harness for a ``LocalNamespaceRepository`` at ``root``."""
    repository = LocalNamespaceRepository(root)
    return layout_harness(repository, *local_files(root), lists_datasets_by_folder=True)


def fsspec_harness(url: str, **storage_options: object) -> RepositoryHarness:
    """A harness for an ``FsspecNamespaceRepository`` at ``url``."""
    return fsspec_harness_for(FsspecNamespaceRepository(url, **storage_options))


def fsspec_harness_for(repository: FsspecNamespaceRepository) -> RepositoryHarness:
    """A harness that plants objects through ``repository``'s own filesystem."""
    fs = repository.fs
    root = fs._strip_protocol(repository.url).rstrip("/")

    def put(parts: tuple[str, ...], raw: bytes) -> None:
        key = "/".join([root, *parts])
        fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
        with warnings.catch_warnings():
            # gcsfs hands aiohttp raw bytes, which it warns about over 1 MiB.
            warnings.filterwarnings("ignore", "Sending a large body", ResourceWarning)
            fs.pipe_file(key, raw)

    def remove(parts: tuple[str, ...]) -> None:
        fs.rm_file("/".join([root, *parts]))

    staged = repository.driver.staged_datasets
    return layout_harness(repository, put, remove, lists_datasets_by_folder=staged)


def hub_harness(hub: HubStandIn) -> RepositoryHarness:
    """A harness for ``hf://farama-minari`` on the stand-in Hub: a namespace's top
    segment is a dataset repository, the rest a path inside it."""

    def put(parts: tuple[str, ...], raw: bytes) -> None:
        hub.put_file(f"{HUB_ORG}/{parts[0]}", "/".join(parts[1:]), raw)

    def remove(parts: tuple[str, ...]) -> None:
        hub.delete_file(f"{HUB_ORG}/{parts[0]}", "/".join(parts[1:]))

    repository = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    return layout_harness(repository, put, remove, ascii_top_level=True)


def memory_harness(tmp_path: Path) -> RepositoryHarness:
    """The in-memory repository plants through its own methods (it has no files)."""
    repository = InMemoryNamespaceRepository()
    return RepositoryHarness(
        repository=repository,
        add_dataset=repository.add_dataset,
        write_marker=repository.write_marker,
        write_dataset_metadata=repository.write_dataset_metadata,
        lists_datasets_by_folder=True,
    )


def s3_harness(server: S3Server) -> RepositoryHarness:
    """A harness for a fresh bucket of ``server``."""
    return fsspec_harness(f"s3://{server.new_bucket()}/prefix", **server.storage_options())


def cloud_harness(server: GcsServer | AzureServer) -> RepositoryHarness:
    """A harness for a fresh bucket (or container) of ``server``."""
    url = f"{server.protocol}://{server.new_bucket()}/prefix"
    return fsspec_harness(url, **server.storage_options())


#: The harnesses that need no server, by their parameter id.
HARNESSES: dict[str, Callable[[Path], RepositoryHarness]] = {
    "local": lambda tmp_path: local_harness_at(tmp_path / "datasets"),
    "in-memory": memory_harness,
    "fsspec-memory": lambda tmp_path: fsspec_harness(f"memory://contract/{tmp_path.name}"),
    "fsspec-file": lambda tmp_path: fsspec_harness(f"file://{tmp_path}/remote"),
}
S3_SERVERS = ("moto", "seaweed")
#: The cloud emulators, by the name of their fixture's lane.
CLOUDS = ("gcs", "azure")
