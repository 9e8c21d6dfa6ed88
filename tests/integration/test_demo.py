"""``make demo`` runs ``python -m minari_namespaces.demo``: it must work as shown."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.processes


def test_the_demo_runs_its_whole_tour() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "MINARI_REMOTE"}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "minari_namespaces.demo"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "In sync again: True" in result.stdout
    assert "in sync with the Hub: True" in result.stdout
    assert "2 commit(s)" in result.stdout  # one per repository
    assert "$ minari-namespaces upload --tree --remote file://" in result.stdout
    assert "different    D4RL/pen" in result.stdout
    assert "  D4RL/door/expert-v2  5000 episodes, 200 steps" in result.stdout
    assert "latest=True: ['D4RL/door/expert-v2', 'D4RL/door/human-v2']" in result.stdout
    assert "$ minari-namespaces datasets" in result.stdout
    assert "Wrote " in result.stdout
    assert result.stdout.rstrip().endswith("(exit status 1)")
