"""The tools the dataset-transfer benchmarks measure ours against: ``cp -r``,
rclone, and a bare listing of both sides.

rclone is Debian's package (``make bench`` installs it). It reads no configuration
file: its one remote, ``bench``, is set by ``RCLONE_CONFIG_BENCH_*`` environment
variables. ``AWS_*`` variables are kept from it: rclone's S3 client fails with
"unable to load custom CA bundle" whenever ``AWS_CA_BUNDLE`` is set.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Files rclone moves at once, as the issue measured it.
RCLONE_TRANSFERS = 8


def copy_with_cp(source: Path, target: Path, *, sync: bool = False) -> None:
    """``cp -r source target``: the floor for a local copy; with ``sync``, followed by
    ``sync -f target`` (the copy flushed to disk: the floor for a durable one).

    Raises:
        subprocess.CalledProcessError: If ``cp`` or ``sync`` fails.
    """
    subprocess.run(["cp", "-r", str(source), str(target)], check=True)
    if sync:
        subprocess.run(["sync", "-f", str(target)], check=True)


@dataclass(frozen=True)
class Rclone:
    """rclone with one S3 remote, ``bench:``, on ``endpoint``."""

    endpoint: str
    access_key: str
    secret_key: str

    def environment(self) -> dict[str, str]:
        """The process environment for rclone: the remote, and nothing of AWS's."""
        kept = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "RCLONE_"))
        }
        return {
            **kept,
            "RCLONE_CONFIG": os.devnull,
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "SeaweedFS",
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": self.access_key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": self.secret_key,
            "RCLONE_CONFIG_BENCH_ENDPOINT": self.endpoint,
            "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
        }

    def copy(self, source: str, target: str) -> None:
        """``rclone copy --transfers 8 source target``; a path on the server is
        ``bench:bucket/key``.

        Raises:
            RuntimeError: If rclone fails (with what it printed).
        """
        command = ["rclone", "copy", "--transfers", str(RCLONE_TRANSFERS), source, target]
        done = subprocess.run(
            command, env=self.environment(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")


def bare_listing(local: Path, remote_fs: Any, remote_path: str) -> int:
    """What any in-sync check must do at least: walk the local tree with one
    ``stat`` per file, and list the remote prefix (``find`` with details: one
    listing request per 1,000 keys on S3). Returns the files found on both sides."""
    found = 0
    for folder, _, names in os.walk(local):
        for name in names:
            os.stat(os.path.join(folder, name), follow_symlinks=False)
            found += 1
    remote_fs.invalidate_cache()
    return found + len(remote_fs.find(remote_path, detail=True))
