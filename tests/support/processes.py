"""Running test workers in real processes (spawned, so nothing is shared by fork),
and the command line paced for a test that interrupts it."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from multiprocessing.queues import Queue
from typing import Any

CONTEXT = multiprocessing.get_context("spawn")
TIMEOUT = 120.0


def run_workers(target: Callable[..., None], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
    """One process per argument tuple (plus a result queue); one report from each."""
    results: Queue[Any] = CONTEXT.Queue()
    processes = [CONTEXT.Process(target=target, args=(*args, results)) for args in arguments]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=TIMEOUT)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return reports


def error_text(error: BaseException) -> str:
    """A picklable one-line description of ``error``."""
    return f"{type(error).__name__}: {error}"


#: The command line with a pause of ``$PAUSE_AFTER_LANDING`` seconds after each
#: dataset lands (is renamed into place), so that a test that signals on seeing a
#: dataset land is not outrun: a file system that clones files (``copy_file_range``
#: on XFS or Btrfs) copies tens of MB in milliseconds. With ``$WITH_CTRL_C`` set,
#: SIGINT raises KeyboardInterrupt, as at a terminal: a shell that starts the suite in
#: the background makes its children ignore SIGINT.
PACED = (
    "import os, signal, sys, time\n"
    "if os.environ.get('WITH_CTRL_C'):\n"
    "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "rename = os.rename\n"
    "def landing(source, destination, **kwargs):\n"
    "    rename(source, destination, **kwargs)\n"
    "    if not os.fsdecode(os.path.basename(destination)).startswith('.'):\n"
    "        time.sleep(float(os.environ['PAUSE_AFTER_LANDING']))\n"
    "os.rename = landing\n"
    "from minari_namespaces.cli import main\n"
    "sys.argv[0] = 'minari-namespaces'\n"
    "main()\n"
)


def paced(
    arguments: list[str], pause: float, *, ctrl_c: bool = False, **options: Any
) -> subprocess.Popen[str]:
    """Start ``minari-namespaces`` with ``arguments`` (what follows the program's
    name), pausing ``pause`` seconds after each dataset lands, as :data:`PACED` says."""
    environment = dict(os.environ, PAUSE_AFTER_LANDING=str(pause))
    if ctrl_c:
        environment["WITH_CTRL_C"] = "1"
    command = [sys.executable, "-c", PACED, *arguments]
    return subprocess.Popen(command, env=environment, text=True, **options)
