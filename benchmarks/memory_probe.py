"""Peak memory of one piece of work above the process's baseline, in a fresh process.

Linux keeps a process's peak resident size (``VmHWM`` in ``/proc/self/status``) and
resets it to the current size when ``5`` is written to ``/proc/self/clear_refs``, so
the probe reads the resident size once everything is set up, resets the peak, does
the work, and reads the peak. It runs in a subprocess so that nothing the benchmark
itself holds (trees, servers, earlier transfers) counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")


@dataclass(frozen=True)
class Peak:
    """Bytes resident before the work and the most resident during it."""

    baseline: int
    peak: int

    @property
    def growth(self) -> int:
        """Bytes above the baseline at the peak."""
        return self.peak - self.baseline


def _status_bytes(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", line
            return int(value) * 1024
    raise LookupError(f"{field} is not in {_STATUS}")


def measure(work: Callable[[], object]) -> Peak:
    """Run ``work`` and return the resident size before it and at its peak.

    Raises:
        OSError: If the kernel does not let the peak be reset (not Linux).
    """
    baseline = _status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    work()
    return Peak(baseline, _status_bytes("VmHWM"))


def move_one_dataset(spec: dict[str, Any]) -> Peak:
    """Move ``spec["warmup"]``, then measure moving ``spec["dataset"]``, between the
    local folder ``spec["local"]`` and ``spec["remote"]`` (``spec["direction"]``:
    ``upload`` or ``download``). The warm-up makes the clients, connection pools and
    worker threads before the baseline is read: what counts is what the file costs."""
    from minari_namespaces import LocalNamespaceRepository, NamespaceService, open_repository

    remote = open_repository(spec["remote"], **spec.get("options", {}))
    service = NamespaceService(LocalNamespaceRepository(spec["local"]), remote)
    move = service.upload_dataset if spec["direction"] == "upload" else service.download_dataset
    move(spec["warmup"])
    return measure(lambda: move(spec["dataset"]))


def run_in_subprocess(spec: dict[str, Any]) -> Peak:
    """:func:`move_one_dataset` in a fresh interpreter.

    Raises:
        RuntimeError: If the subprocess fails (with its output).
    """
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_probe", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"The memory probe failed:\n{done.stdout}\n{done.stderr[-4000:]}")
    return Peak(**json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    print(json.dumps(vars(move_one_dataset(json.loads(sys.argv[1])))))
