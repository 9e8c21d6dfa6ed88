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


#: The command line as a test that interrupts it runs it: a pause of
#: ``$PAUSE_AFTER_LANDING`` seconds after each dataset lands (is renamed into place),
#: so that a test that signals on seeing a dataset land is not outrun (a file system
#: that clones files, ``copy_file_range`` on XFS or Btrfs, copies tens of MB in
#: milliseconds). With ``$WITH_CTRL_C`` set, SIGINT raises KeyboardInterrupt, as at a
#: terminal: a shell that starts the suite in the background makes its children ignore
#: SIGINT. With ``$READS_TO`` set, what the process read (``/proc/self/io``) is saved
#: there at exit.
PACED = (
    "import atexit, os, signal, sys, time\n"
    "if os.environ.get('WITH_CTRL_C'):\n"
    "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "def save_reads():\n"
    "    with open('/proc/self/io') as io, open(os.environ['READS_TO'], 'w') as out:\n"
    "        out.write(io.read())\n"
    "if os.environ.get('READS_TO'):\n"
    "    atexit.register(save_reads)\n"
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
    arguments: list[str],
    pause: float,
    *,
    ctrl_c: bool = False,
    reads_to: str | None = None,
    **options: Any,
) -> subprocess.Popen[str]:
    """Start ``minari-namespaces`` with ``arguments`` (what follows the program's
    name) as :data:`PACED` says: pausing ``pause`` seconds after each dataset lands,
    SIGINT raising KeyboardInterrupt with ``ctrl_c``, and what it read saved to the
    file ``reads_to``."""
    environment = dict(os.environ, PAUSE_AFTER_LANDING=str(pause))
    if ctrl_c:
        environment["WITH_CTRL_C"] = "1"
    if reads_to is not None:
        environment["READS_TO"] = reads_to
    command = [sys.executable, "-c", PACED, *arguments]
    return subprocess.Popen(command, env=environment, text=True, **options)
