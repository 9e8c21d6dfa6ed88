"""Run a command in a pseudo-terminal and read back the screen it leaves.

Progress bars and confirmations only appear when a program runs at a terminal, so
the tests give it one (``pty``) and replay what it wrote on a small screen model:
carriage returns, line erasure and cursor moves, colours dropped.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.deadline import within

COLUMNS = 100
_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def run_in_terminal(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    typed: bytes = b"",
    timeout: float = 120,
) -> tuple[int, str]:
    """Run ``command`` with stdin, stdout and stderr on one terminal of
    :data:`COLUMNS` columns; type ``typed`` into it; return the exit status and the
    screen's text."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    environment = {**env, "COLUMNS": str(COLUMNS), "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, env=environment, cwd=cwd
    )
    os.close(terminal)
    if typed:
        os.write(controller, typed)
    raw = bytearray()
    try:
        with within(timeout):
            while chunk := _read(controller):
                raw += chunk
    except TimeoutError:
        process.kill()
        raise
    os.close(controller)
    status = process.wait(timeout=timeout)
    return status, screen(raw.decode("utf-8", errors="replace"))


def _read(controller: int) -> bytes:
    try:
        return os.read(controller, 65536)
    except OSError:  # the terminal is closed once the last writer has exited (EIO)
        return b""


def screen(raw: str) -> str:
    """The text ``raw`` leaves on a terminal, trailing spaces and empty lines removed."""
    raw = _OSC.sub("", raw)
    lines: list[str] = [""]
    row = column = 0
    index = 0
    while index < len(raw):
        char = raw[index]
        match = _CSI.match(raw, index) if char == "\x1b" else None
        if match is not None:
            argument, command = match.groups()
            count = int(argument) if argument.isdigit() else 1
            if command == "A":
                row = max(0, row - count)
            elif command == "K":
                lines[row] = "" if argument == "2" else lines[row][:column]
            elif command == "G":
                column = count - 1
            index = match.end()
            continue
        if char == "\r":
            column = 0
        elif char == "\n":
            row += 1
            column = 0
            lines.extend([""] * (row + 1 - len(lines)))
        elif char.isprintable():
            line = lines[row].ljust(column)
            lines[row] = line[:column] + char + line[column + 1 :]
            column += 1
        index += 1
    return "\n".join(line.rstrip() for line in lines).strip("\n")
