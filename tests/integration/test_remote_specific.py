"""What only a remote store has: credentials, listing caches, 412s, failing backends.

Runs against real servers on 127.0.0.1 (S3 on moto and SeaweedFS, GCS on
fake-gcs-server, Azure Blob on Azurite) and against an endpoint where nothing
listens. The repository contract itself is proven in
``tests/contract``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from minari_namespaces import (
    FsspecNamespaceRepository,
    NamespaceExistsError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceNotFoundError,
    RemoteError,
)
from tests.support.emulators import AzureServer, GcsServer
from tests.support.servers import S3Server, free_port

MARKER = "namespace_metadata.json"
ACCESS_KEY = "AKIAMINARITESTKEY0001"
SECRET = "s3cr3t/never-shown+anywhere"
NS = NamespaceId("D4RL/door")
RACED = NamespaceId("race")


Server = S3Server | GcsServer | AzureServer


@pytest.fixture(params=["moto", "seaweed", "gcs", "azure"])
def cloud(request: pytest.FixtureRequest) -> Server:
    name = request.param if request.param in ("gcs", "azure") else f"{request.param}_s3"
    server: Server = request.getfixturevalue(name)
    return server


def open_store(server: Server, bucket: str | None = None) -> FsspecNamespaceRepository:
    bucket = bucket or server.new_bucket()
    url = f"{server.protocol}://{bucket}/minari"
    return FsspecNamespaceRepository(url, **server.storage_options())


def unreachable(url: str = "s3://bucket/prefix", **options: Any) -> FsspecNamespaceRepository:
    """An S3 store on a port of 127.0.0.1 where nothing listens; one attempt, fast."""
    return FsspecNamespaceRepository(
        url,
        key=ACCESS_KEY,
        secret=SECRET,
        client_kwargs={"endpoint_url": f"http://127.0.0.1:{free_port()}"},
        config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1},
        skip_instance_cache=True,
        **options,
    )


OPERATIONS: dict[str, Callable[[FsspecNamespaceRepository], object]] = {
    "list": lambda store: store.list_namespaces(),
    "children": lambda store: store.children(NS),
    "exists": lambda store: store.exists(NS),
    "get": lambda store: store.get(NS),
    "get_many": lambda store: store.get_many([NS, NamespaceId("D4RL")]),
    "create": lambda store: store.create(NS, NamespaceMetadata("x")),
    "create_many": lambda store: store.create_many([(NS, NamespaceMetadata("x"))]),
    "replace": lambda store: store.replace(NS, NamespaceMetadata("x")),
    "delete": lambda store: store.delete(NS),
    "has_datasets": lambda store: store.has_datasets(NS),
}


def everything_printed(error: BaseException) -> str:
    """The whole traceback a user would see, chained causes included."""
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


# -- failing backends and credentials ------------------------------------------------------


def test_credentials_in_storage_options_never_show_in_url_or_repr() -> None:
    store = unreachable()
    assert store.url == "s3://bucket/prefix"
    assert repr(store) == "FsspecNamespaceRepository('s3://bucket/prefix')"


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_backend_failure_is_a_remote_error_with_the_url_and_the_cause_but_no_credentials(
    operation: str,
) -> None:
    store = unreachable()
    with pytest.raises(RemoteError) as caught:
        OPERATIONS[operation](store)
    error = caught.value
    assert isinstance(error, OSError)
    assert "s3://bucket/prefix" in str(error)
    assert error.__cause__ is not None
    for shown in (str(error), repr(error), everything_printed(error)):
        assert ACCESS_KEY not in shown
        assert SECRET not in shown


def test_a_wrong_secret_is_a_remote_error_that_does_not_show_it(seaweed_s3: S3Server) -> None:
    bucket = seaweed_s3.new_bucket()
    wrong = "wrong-secret-that-must-not-leak"
    store = FsspecNamespaceRepository(
        f"s3://{bucket}/minari",
        **{**seaweed_s3.storage_options(), "secret": wrong},
    )
    for operation in ("list", "create", "get"):
        with pytest.raises(RemoteError) as caught:
            OPERATIONS[operation](store)
        assert f"s3://{bucket}/minari" in str(caught.value)
        assert isinstance(caught.value.__cause__, PermissionError)
        assert wrong not in everything_printed(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"s3://{ACCESS_KEY}:{SECRET}@bucket/prefix",
        f"memory://alice:{SECRET}@host/tree",
        # An "@" inside the secret: the message once kept what followed it.
        f"s3://{ACCESS_KEY}:{SECRET}@{SECRET}@bucket/prefix",
    ],
    ids=["s3", "memory", "at-sign-in-secret"],
)
def test_a_url_with_credentials_is_refused_without_showing_them(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10, defect 6: the message was clean but the chained botocore error (and
    DEBUG logs) printed the secret; now the URL never reaches a backend."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RemoteError, match="storage options") as caught:
        FsspecNamespaceRepository(url)
    printed = everything_printed(caught.value) + caplog.text
    assert SECRET not in printed
    assert ACCESS_KEY not in printed


def test_only_secret_options_are_hidden_and_the_endpoint_stays_readable() -> None:
    """Issue 10, defect 6: every option of four characters or more was masked, so
    the endpoint of a failing connection showed as ``***``."""
    store = unreachable()
    endpoint = store.fs.client_kwargs["endpoint_url"]
    with pytest.raises(RemoteError) as caught:
        store.exists(NS)
    assert endpoint.split("//", 1)[1] in str(caught.value)
    assert SECRET not in everything_printed(caught.value)


def test_an_unknown_protocol_is_a_remote_error_with_an_install_hint() -> None:
    with pytest.raises(RemoteError, match=r"nosuchproto.*install the package"):
        FsspecNamespaceRepository("nosuchproto://bucket/prefix", secret=SECRET)


# -- listing caches --------------------------------------------------------------------------


def prime_caches(store: FsspecNamespaceRepository) -> None:
    """Fill every cache fsspec keeps for this store (listings, infos)."""
    root = store.fs._strip_protocol(store.url)
    store.list_namespaces()
    store.children(NS)
    store.exists(NS)
    for folder in (root, f"{root}/D4RL", f"{root}/{NS}"):
        with contextlib.suppress(FileNotFoundError):
            store.fs.ls(folder, refresh=False)
    store.fs.find(root)


def test_our_own_writes_are_never_hidden_by_the_listing_cache(cloud: Server) -> None:
    store = open_store(cloud)
    store.create(NamespaceId("D4RL"), NamespaceMetadata())
    prime_caches(store)

    store.create(NS, NamespaceMetadata("door"))
    assert store.list_namespaces() == [NamespaceId("D4RL"), NS]
    assert store.children(NamespaceId("D4RL")) == [NS]
    assert store.exists(NS)
    assert store.get(NS).description == "door"

    prime_caches(store)
    store.replace(NS, NamespaceMetadata("replaced"))
    assert store.get(NS).description == "replaced"

    prime_caches(store)
    store.delete(NS)
    assert store.list_namespaces() == [NamespaceId("D4RL")]
    assert store.children(NamespaceId("D4RL")) == []
    assert not store.exists(NS)
    with pytest.raises(NamespaceNotFoundError):
        store.get(NS)

    prime_caches(store)
    store.create(NS, NamespaceMetadata("again"))
    assert store.get(NS).description == "again"


def test_another_instances_writes_are_seen_on_the_next_call(cloud: Server) -> None:
    bucket = cloud.new_bucket()
    ours, theirs = open_store(cloud, bucket), open_store(cloud, bucket)
    assert ours.fs is not theirs.fs
    theirs.create(NamespaceId("D4RL"), NamespaceMetadata())
    prime_caches(ours)

    theirs.create(NS, NamespaceMetadata("theirs"))
    assert ours.list_namespaces() == [NamespaceId("D4RL"), NS]
    assert ours.children(NamespaceId("D4RL")) == [NS]
    assert ours.exists(NS)
    assert ours.get(NS).description == "theirs"

    prime_caches(ours)
    theirs.replace(NS, NamespaceMetadata("changed"))
    assert ours.get(NS).description == "changed"
    assert ours.get_many([NS])[NS].description == "changed"

    prime_caches(ours)
    theirs.delete(NS)
    assert ours.list_namespaces() == [NamespaceId("D4RL")]
    assert not ours.exists(NS)
    ours.create(NS, NamespaceMetadata("ours now"))
    assert theirs.get(NS).description == "ours now"


def test_a_raw_write_by_another_client_is_seen_on_the_next_call(cloud: Server) -> None:
    store = open_store(cloud)
    store.create(NamespaceId("D4RL"), NamespaceMetadata())
    prime_caches(store)
    root = store.fs._strip_protocol(store.url)
    other = cloud.filesystem()
    other.pipe_file(f"{root}/{NS}/{MARKER}", b'{"description": "raw"}')
    assert store.list_namespaces() == [NamespaceId("D4RL"), NS]
    with pytest.raises(NamespaceExistsError):
        store.create(NS, NamespaceMetadata("mine"))
    other.rm_file(f"{root}/{NS}/{MARKER}")
    assert store.list_namespaces() == [NamespaceId("D4RL")]
    store.create(NS, NamespaceMetadata("mine"))
    assert store.get(NS).description == "mine"


# -- create-only writes and 412s ---------------------------------------------------------------


def chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def refused_by_the_server(error: BaseException) -> bool:
    """Whether ``error`` is the server's own refusal of a create-only write: S3's
    412, Azure's 409 ``BlobAlreadyExists``, or the ``FileExistsError`` that gcsfs
    raises where it reads a 412 answer."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return bool(status == 412 or response.get("Error", {}).get("Code") == "PreconditionFailed")
    if getattr(error, "error_code", None) == "BlobAlreadyExists":
        return getattr(error, "status_code", None) == 409
    if isinstance(error, FileExistsError) and error.__traceback__ is not None:
        raised_in = traceback.extract_tb(error.__traceback__)[-1].filename
        return raised_in.endswith("gcsfs/retry.py")
    return "pre-condition" in str(error).lower() or "precondition" in str(error).lower()


def test_a_second_create_is_refused_by_the_server(cloud: Server) -> None:
    store = open_store(cloud)
    store.create(NS, NamespaceMetadata("first"))
    with pytest.raises(NamespaceExistsError, match="D4RL/door") as caught:
        store.create(NS, NamespaceMetadata("second"))
    assert any(refused_by_the_server(e) for e in chain(caught.value)), chain(caught.value)
    assert store.get(NS).description == "first"
    assert store.create_many([(NS, NamespaceMetadata("third"))]) == [NS]
    assert store.get(NS).description == "first"


def test_of_eight_racing_creators_exactly_one_wins(cloud: Server) -> None:
    bucket = cloud.new_bucket()
    stores = [open_store(cloud, bucket) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    outcomes: dict[int, str] = {}

    def create(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            stores[index].create(RACED, NamespaceMetadata(f"creator {index}"))
            outcomes[index] = "won"
        except NamespaceExistsError:
            outcomes[index] = "exists"

    threads = [threading.Thread(target=create, args=(index,)) for index in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [index for index, outcome in outcomes.items() if outcome == "won"]
    assert sorted(outcomes.values()) == ["exists"] * 7 + ["won"]
    assert stores[0].list_namespaces() == [RACED]
    assert stores[0].get(RACED).description == f"creator {winners[0]}"


def test_a_missing_bucket_is_a_remote_error_naming_the_url(cloud: Server) -> None:
    store = open_store(cloud, bucket=f"missing-{uuid.uuid4().hex[:12]}")
    for operation in ("list", "create"):
        with pytest.raises(RemoteError, match=store.url) as caught:
            OPERATIONS[operation](store)
        assert isinstance(caught.value.__cause__, OSError)


# -- what each cloud client needs ---------------------------------------------------------------


def test_gcs_uses_gcsfs_json_api_filesystem_without_the_grpc_probe(gcs: GcsServer) -> None:
    """gcsfs's default class probes every bucket over gRPC (about a minute per call
    against an emulator); every request of the driver goes through the JSON API."""
    from gcsfs.core import GCSFileSystem

    store = open_store(gcs)
    assert type(store.fs) is GCSFileSystem
    assert store.compare_and_swap
    for spelling in ("gs", "gcs"):
        other = FsspecNamespaceRepository(
            f"{spelling}://{gcs.buckets[-1]}/minari", **gcs.storage_options()
        )
        assert type(other.fs) is GCSFileSystem
        assert other.url == f"{spelling}://{gcs.buckets[-1]}/minari"


@pytest.mark.parametrize("spelling", ["az", "abfs"])
def test_azure_urls_keep_their_spelling_and_reach_the_same_container(
    azure: AzureServer, spelling: str
) -> None:
    container = azure.new_bucket()
    store = FsspecNamespaceRepository(f"{spelling}://{container}/minari", **azure.storage_options())
    assert store.url == f"{spelling}://{container}/minari"
    assert store.compare_and_swap
    store.create(NamespaceId("D4RL"), NamespaceMetadata("parent"))
    other = "abfs" if spelling == "az" else "az"
    again = FsspecNamespaceRepository(f"{other}://{container}/minari", **azure.storage_options())
    assert again.list_namespaces() == [NamespaceId("D4RL")]
