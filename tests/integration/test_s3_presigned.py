"""The short path for a dataset's small files on S3 (presigned requests sent
through the client's own HTTP session), on moto: taken, seen by ``before-send``
handlers, and declined (the long way, through s3fs) wherever it must be."""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO, ClassVar

import fsspec.asyn
import pytest
from botocore.awsrequest import AWSResponse

from minari_namespaces import (
    DatasetId,
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceService,
    TransferProgress,
)
from minari_namespaces.dataset_files import DatasetFile
from minari_namespaces.errors import CopyVerificationError
from minari_namespaces.stores.drivers.s3 import S3Driver
from minari_namespaces.stores.drivers.s3_presigned import PresignedRequests
from tests.support.deadline import within
from tests.support.servers import S3Server

pytestmark = pytest.mark.s3

DATA = b"episode bytes " * 100


@dataclass(eq=False)
class Seen:
    """The requests botocore's ``before-send`` event shows: (method, presigned?, range)."""

    requests: list[tuple[str, bool, str | None]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    answer: AWSResponse | None = None

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        url = str(request.url)
        presigned = "Signature=" in url
        self.requests.append((request.method, presigned, request.headers.get("Range")))
        self.urls.append(url)
        return self.answer if presigned else None


def _store(server: S3Server, **options: Any) -> tuple[S3Driver, str, Seen]:
    bucket = server.new_bucket()
    repository = FsspecNamespaceRepository(
        f"s3://{bucket}/minari", **server.storage_options(), **options
    )
    driver = repository.driver
    assert isinstance(driver, S3Driver)
    seen = Seen()
    repository.fs.connect()
    repository.fs.s3.meta.events.register("before-send.s3", seen)
    return driver, f"{bucket}/minari/D4RL/door/human-v0/data/part-0.arrow", seen


@pytest.fixture(params=["moto_s3", "seaweed_s3"])
def any_s3(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue(request.param)
    return server


def test_a_small_file_goes_up_and_down_in_presigned_requests(any_s3: S3Server) -> None:
    driver, path, seen = _store(any_s3)
    stored = driver.run(driver.put_whole, path, DATA)
    assert stored is not None
    assert (stored.size, stored.md5) == (len(DATA), hashlib.md5(DATA).hexdigest())
    assert driver.run(driver.fetch_whole, path, len(DATA)) == DATA
    assert seen.requests == [("PUT", True, None), ("GET", True, f"bytes=0-{len(DATA)}")]


def test_a_file_that_grew_reads_one_byte_more(moto_s3: S3Server) -> None:
    driver, path, _ = _store(moto_s3)
    driver.run(driver.put_whole, path, DATA)
    assert driver.run(driver.fetch_whole, path, len(DATA) - 10) == DATA[: len(DATA) - 9]


def test_a_missing_file_goes_the_long_way_to_its_typed_error(any_s3: S3Server) -> None:
    driver, path, seen = _store(any_s3)
    with pytest.raises(FileNotFoundError):
        driver.run(driver.fetch_whole, path, 10)
    assert [presigned for method, presigned, _ in seen.requests if method == "GET"] == [
        True,
        False,
    ]


def test_request_parameters_s3fs_adds_make_it_decline(moto_s3: S3Server) -> None:
    """``requester_pays`` adds a parameter to every request: a presigned URL would
    have to sign it, so every request goes the long way (and still works)."""
    driver, path, seen = _store(moto_s3, requester_pays=True)
    driver.run(driver.put_whole, path, DATA)
    assert driver.run(driver.fetch_whole, path, len(DATA)) == DATA
    assert [(method, presigned) for method, presigned, _ in seen.requests] == [
        ("PUT", False),
        ("GET", False),
    ]


def test_an_answer_from_a_before_send_handler_is_taken_as_botocore_takes_it(
    moto_s3: S3Server,
) -> None:
    driver, path, seen = _store(moto_s3)
    raw = SimpleNamespace(stream=lambda: iter([b"from ", b"a stub"]))
    seen.answer = AWSResponse("http://stub", 200, {}, raw)
    assert driver.run(driver.fetch_whole, path, 4) == b"from a stub"
    assert seen.requests == [("GET", True, "bytes=0-4")]


# -- a namespace's metadata: one presigned GET, its ETag kept for the swap ----------


def test_a_namespace_is_read_in_one_presigned_get_whose_etag_the_swap_uses(
    any_s3: S3Server,
) -> None:
    repository = FsspecNamespaceRepository(
        f"s3://{any_s3.new_bucket()}/minari", **any_s3.storage_options()
    )
    service = NamespaceService(repository)
    service.create("D4RL/door", description="doors")
    seen = Seen()
    repository.fs.connect()
    repository.fs.s3.meta.events.register("before-send.s3", seen)
    assert service.get("D4RL/door").description == "doors"
    reads = [
        (presigned, ranged)
        for (method, presigned, ranged), url in zip(seen.requests, seen.urls, strict=True)
        if method == "GET" and "list-type=" not in url
    ]
    assert reads == [(True, "bytes=0-1048576")]
    # Compare-and-swap on the ETag that presigned read carried: it lands.
    service.update_properties("D4RL/door", {"author": "me"})
    assert service.get("D4RL/door").to_dict() == {"description": "doors", "author": "me"}
    # A missing one: S3's NoSuchKey, in the same one request.
    seen.requests.clear()
    seen.urls.clear()
    assert not service.exists("D4RL/pen")
    assert [(method, presigned) for method, presigned, _ in seen.requests] == [("GET", True)]


class _IgnoresRange(BaseHTTPRequestHandler):
    """Answers every GET with the whole of a big object, 200, never a range."""

    size = 64 * 1024 * 1024
    sent: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.send_response(200)
        if "chunked" in self.path:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(self.size))
        self.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
        self.end_headers()
        chunk = b"x" * 65536
        written = 0
        try:
            while written < self.size:
                if "chunked" in self.path:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
                written += len(chunk)
        except OSError:
            pass  # the client hung up
        finally:
            self.sent.append(written)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("key", ["marker", "chunked"])
def test_an_answer_longer_than_asked_for_is_declined_unread(key: str) -> None:
    """A server that ignores ``Range`` (or does not say the length) is not read:
    the short path declines, and memory never holds more than was asked for."""
    import s3fs

    server = ThreadingHTTPServer(("127.0.0.1", 0), _IgnoresRange)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _IgnoresRange.sent.clear()
    try:
        fs = s3fs.S3FileSystem(
            key="k",
            secret="s",
            client_kwargs={"endpoint_url": f"http://127.0.0.1:{server.server_port}"},
            skip_instance_cache=True,
        )
        presigned = PresignedRequests(fs)
        answer = fsspec.asyn.sync(fs.loop, presigned.get_with_etag, f"bucket/{key}", 1024)
        assert answer is None
        with within(30):
            while not _IgnoresRange.sent:
                time.sleep(0.01)
        assert _IgnoresRange.sent[0] < _IgnoresRange.size
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- a file past the part size, up to SINGLE_PUT_BYTES: one PUT, its body streamed ----

PART = 8 * 1024 * 1024
BIG = PART + 12345
DATASET = DatasetId("big/one-v0")


def _big_dataset(root: Path) -> tuple[LocalNamespaceRepository, list[DatasetFile]]:
    local = LocalNamespaceRepository(root)
    NamespaceService(local).create("big", exist_ok=True)
    folder = root / "big/one-v0/data"
    folder.mkdir(parents=True)
    (folder / "main_data.hdf5").write_bytes(bytes(range(256)) * (BIG // 256) + b"x" * (BIG % 256))
    (folder / "metadata.json").write_bytes(b"{}")
    return local, local.dataset_files([DATASET])[DATASET]


def test_a_file_past_the_part_size_goes_up_in_one_streamed_put(
    any_s3: S3Server, tmp_path: Path
) -> None:
    local, _ = _big_dataset(tmp_path / "local")
    bucket = any_s3.new_bucket()
    remote = FsspecNamespaceRepository(f"s3://{bucket}/tree", **any_s3.storage_options())
    remote.fs.connect()
    seen = Seen()
    remote.fs.s3.meta.events.register("before-send.s3", seen)
    NamespaceService(local, remote).upload_dataset(str(DATASET))
    big_puts = [request for request in seen.requests if request[0] in ("PUT", "POST")]
    assert ("POST", False, None) not in big_puts  # no multipart upload was started
    # The PUT's ETag describes what was stored: no listing checks the dataset after.
    put_at = next(i for i, url in enumerate(seen.urls) if "main_data.hdf5" in url)
    listings = [url for url in seen.urls[put_at:] if "list-type=2" in url]
    assert not [url for url in listings if "prefix=tree%2Fbig%2Fone-v0" in url]
    key = f"{bucket}/tree/big/one-v0/data/main_data.hdf5"
    held = remote.fs.cat_file(key)
    assert held == (tmp_path / "local/big/one-v0/data/main_data.hdf5").read_bytes()
    etag = remote.fs.info(key)["ETag"].strip('"')
    assert etag == hashlib.md5(held).hexdigest()


def test_a_declined_streamed_put_is_redone_in_parts_and_its_bytes_count_once(
    moto_s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, files = _big_dataset(tmp_path / "local")
    bucket = moto_s3.new_bucket()
    remote = FsspecNamespaceRepository(f"s3://{bucket}/tree", **moto_s3.storage_options())
    declined: list[str] = []

    async def take_the_body_then_decline(
        self: PresignedRequests, path: str, size: int, chunks: AsyncIterator[bytes]
    ) -> str | None:
        # A server that read the whole body, then refused it (a 503): the copy is
        # redone in parts from the start, and its bytes must not count twice.
        async for _ in chunks:
            pass
        declined.append(path)
        return None

    monkeypatch.setattr(PresignedRequests, "put_stream", take_the_body_then_decline)
    seen: list[TransferProgress] = []
    report = NamespaceService(local, remote).upload_dataset(str(DATASET), progress=seen.append)

    assert declined == [f"{bucket}/tree/big/one-v0/data/main_data.hdf5"]
    held = remote.fs.cat_file(declined[0])
    assert held == (tmp_path / "local/big/one-v0/data/main_data.hdf5").read_bytes()
    total = sum(file.size for file in files)
    assert report.bytes_copied == total
    assert seen[-1].bytes_done == seen[-1].bytes_total == total
    assert max(progress.bytes_done for progress in seen) == total
    assert seen[-1].files_done == seen[-1].files_total == len(files)


@pytest.mark.parametrize("failure", ["short", "long", "broken"])
def test_a_streamed_put_whose_source_fails_keeps_nothing(
    moto_s3: S3Server, tmp_path: Path, failure: str
) -> None:
    local, files = _big_dataset(tmp_path / "local")
    remote = FsspecNamespaceRepository(
        f"s3://{moto_s3.new_bucket()}/tree", **moto_s3.storage_options()
    )
    NamespaceService(local, remote).upload_tree("big")

    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.sent >= (BIG + PART if failure == "long" else PART):
                if failure == "broken":
                    raise OSError("the disk went away")
                return 0  # the file shrank meanwhile
            size = min(len(buffer), (BIG + PART if failure == "long" else PART) - self.sent)
            buffer[:size] = b"y" * size
            self.sent += size
            return size

    @contextlib.contextmanager
    def opener(file: DatasetFile) -> Iterator[BinaryIO]:
        if file.size == BIG:
            yield io.BufferedReader(Failing())
        else:
            with local.open_dataset_file(DATASET, file) as handle:
                yield handle

    expected = OSError if failure == "broken" else CopyVerificationError
    with pytest.raises(expected, match="went away" if failure == "broken" else "main_data.hdf5"):
        remote.write_dataset(DATASET, files, opener)
    assert DATASET not in remote.list_datasets()
    assert remote.dataset_files([DATASET], strict=False) == {}
