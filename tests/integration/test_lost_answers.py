"""A write to S3, GCS or Azure Blob that lands but whose answer is lost: never
lost, never doubled, never reported wrongly.

The client libraries resend a request whose answer did not arrive (botocore,
gcsfs and the Azure SDK all do), and the resent conditional write is refused
(412, or 409 on Azure) because its first attempt had landed. Here each client's
own retry is triggered for real, against the real servers (moto and SeaweedFS,
fake-gcs-server, Azurite), after the server has applied the write:

- S3: a ``needs-retry`` handler on botocore's event system asks it to retry a
  ``PutObject`` that was answered 200;
- GCS: an aiohttp trace raises ``ServerDisconnectedError`` once the upload was
  answered, and gcsfs's retry loop sends it again;
- Azure: the SDK's response hook raises ``ServiceResponseError`` once the
  ``Put Blob`` was answered, and the SDK's retry policy sends it again.

Each scenario runs at the service level and ends with the remote compared to the
source: nothing lost, nothing doubled, the report true, and a rerun with no write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import fsspec
import pytest
from adlfs import AzureBlobFileSystem
from gcsfs.core import GCSFileSystem
from s3fs import S3FileSystem

from minari_namespaces import (
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
)
from tests.support.emulators import AzureServer, GcsServer
from tests.support.nested_tree import TREE, contents, populate
from tests.support.servers import S3Server

Server = S3Server | GcsServer | AzureServer


class AnswerLoss:
    """Counts the write requests that reach the server, and loses the answer
    of the ``N``-th one that succeeds, so the client sends it again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arm()

    def arm(self, lose: int | None = None) -> None:
        """Count from zero; lose the answer of successful write ``lose``."""
        with self._lock:
            self.lose, self.sent, self.landed, self.lost = lose, 0, 0, 0

    def answered(self, status: int) -> bool:
        """Count a write's answer; whether to lose it (the write took effect)."""
        with self._lock:
            self.sent += 1
            if status >= 300:
                return False
            self.landed += 1
            if self.landed == self.lose:
                self.lost += 1
                return True
            return False


class LossyS3FileSystem(S3FileSystem):  # type: ignore[misc]
    """s3fs whose botocore client retries the ``PutObject`` whose answer is lost."""

    protocol = ("lossy-s3", "s3")
    cachable = False

    def __init__(self, *args: Any, loss: AnswerLoss | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loss = loss or AnswerLoss()
        self._hooked: object = None

    def _needs_retry(self, response: Any = None, attempts: int = 0, **_: Any) -> int | None:
        if response is None:
            return None
        return 0 if self.loss.answered(response[0].status_code) else None

    async def _call_s3(self, method: str, *args: Any, **kwargs: Any) -> Any:
        await self.set_session()
        if self._hooked is not self.s3:
            # First in line, so botocore retries at once, as after a lost answer.
            self.s3.meta.events.register_first(
                "needs-retry.s3.PutObject", self._needs_retry, unique_id="lose-answer"
            )
            self._hooked = self.s3
        return await super()._call_s3(method, *args, **kwargs)


class LossyGcsFileSystem(GCSFileSystem):  # type: ignore[misc]
    """gcsfs whose connection drops after an upload was answered."""

    protocol = ("lossy-gs", "gs")
    cachable = False

    def __init__(self, *args: Any, loss: AnswerLoss | None = None, **kwargs: Any) -> None:
        self.loss = loss or AnswerLoss()

        async def ended(_: Any, __: Any, params: Any) -> None:
            is_write = params.method == "POST" and "/upload/" in str(params.url)
            if is_write and self.loss.answered(params.response.status):
                raise aiohttp.ServerDisconnectedError()

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(ended)
        super().__init__(*args, session_kwargs={"trace_configs": [trace]}, **kwargs)


class LossyAzureFileSystem(AzureBlobFileSystem):  # type: ignore[misc]
    """adlfs whose SDK client loses the answer of a ``Put Blob``."""

    protocol = ("lossy-az", "az")
    cachable = False

    def __init__(self, *args: Any, loss: AnswerLoss | None = None, **kwargs: Any) -> None:
        self.loss = loss or AnswerLoss()
        super().__init__(*args, **kwargs)

    def do_connect(self) -> None:
        from azure.core.exceptions import ServiceResponseError
        from azure.storage.blob.aio import BlobServiceClient

        def answered(response: Any) -> None:
            http = response.http_response
            if response.http_request.method == "PUT" and self.loss.answered(http.status_code):
                raise ServiceResponseError("the answer was lost")

        # The SDK's own retry policy, without its 15-second first backoff.
        self.service_client = BlobServiceClient.from_connection_string(
            self.connection_string,
            raw_response_hook=answered,
            initial_backoff=0,
            increment_base=1,
            random_jitter_range=0,
        )


fsspec.register_implementation("lossy-s3", LossyS3FileSystem, clobber=True)
fsspec.register_implementation("lossy-gs", LossyGcsFileSystem, clobber=True)
fsspec.register_implementation("lossy-az", LossyAzureFileSystem, clobber=True)

LOSSY = {"moto": "lossy-s3", "seaweed": "lossy-s3", "gcs": "lossy-gs", "azure": "lossy-az"}
FIXTURES = {"moto": "moto_s3", "seaweed": "seaweed_s3", "gcs": "gcs", "azure": "azure"}
BACKENDS = sorted(LOSSY)
DOOR = NamespaceId("D4RL/door")


@pytest.fixture(params=BACKENDS)
def lossy_remote(request: pytest.FixtureRequest) -> Callable[[], FsspecNamespaceRepository]:
    """A factory of remotes on fresh buckets whose writes can lose their answer."""
    backend: str = request.param
    server: Server = request.getfixturevalue(FIXTURES[backend])

    def make() -> FsspecNamespaceRepository:
        url = f"{LOSSY[backend]}://{server.new_bucket()}/remote"
        return FsspecNamespaceRepository(url, loss=AnswerLoss(), **server.storage_options())

    return make


def loss_of(remote: FsspecNamespaceRepository) -> AnswerLoss:
    loss: AnswerLoss = remote.fs.loss
    return loss


def test_an_upload_tree_whose_writes_lose_their_answer_copies_each_namespace_once(
    lossy_remote: Callable[[], FsspecNamespaceRepository], tmp_path: Path
) -> None:
    for n in range(1, len(TREE) + 1):
        remote = lossy_remote()
        local = LocalNamespaceRepository(tmp_path / f"local{n}")
        populate(local)
        service = NamespaceService(local, remote)
        loss = loss_of(remote)
        loss.arm(lose=n)

        report = service.upload_tree()

        assert loss.lost == 1, n  # the fault fired, and the client resent the write
        assert loss.landed == len(TREE), n  # each namespace written exactly once
        assert report.copied == sorted(TREE), n
        assert (report.skipped, report.unchanged) == ([], []), n
        assert contents(remote) == TREE, n
        loss.arm()
        assert service.upload_tree().up_to_date, n
        assert loss.landed == 0, n  # nothing written (a small tree's creates are refused)


@pytest.mark.parametrize("lose", [1, 2], ids=["the-parent", "the-namespace"])
def test_a_create_whose_answer_was_lost_is_created_not_exists(
    lossy_remote: Callable[[], FsspecNamespaceRepository], lose: int
) -> None:
    remote = lossy_remote()
    service = NamespaceService(remote)  # the remote as the service's own store
    loss = loss_of(remote)
    loss.arm(lose=lose)

    service.create(DOOR, description="Door")

    assert (loss.lost, loss.landed) == (1, 2)
    assert remote.list_namespaces() == [DOOR.parent, DOOR]
    assert remote.get(DOOR) == NamespaceMetadata(description="Door")
    loss.arm()
    service.create(DOOR, description="Door", exist_ok=True)
    assert loss.landed == 0


def test_a_replace_whose_answer_was_lost_is_made_once(
    lossy_remote: Callable[[], FsspecNamespaceRepository],
) -> None:
    remote = lossy_remote()
    populate(remote)
    service = NamespaceService(remote)
    loss = loss_of(remote)
    loss.arm(lose=1)

    service.replace(DOOR, NamespaceMetadata(description="new"))

    assert (loss.lost, loss.landed) == (1, 1)
    assert contents(remote) == {**TREE, DOOR: {"description": "new"}}


def test_an_update_of_properties_whose_answer_was_lost_is_made_once(
    lossy_remote: Callable[[], FsspecNamespaceRepository],
) -> None:
    remote = lossy_remote()
    populate(remote)
    service = NamespaceService(remote)
    loss = loss_of(remote)
    loss.arm(lose=1)

    summary = service.update_properties(DOOR, updates={"k": 1}, removals=["level"])

    assert (summary.updated, summary.removed) == (["k"], ["level"])
    assert (loss.lost, loss.landed) == (1, 1)
    expected = {key: value for key, value in TREE[DOOR].items() if key != "level"}
    assert contents(remote) == {**TREE, DOOR: {**expected, "k": 1}}
