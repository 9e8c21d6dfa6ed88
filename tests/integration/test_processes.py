"""Real processes racing on one local store (``multiprocessing``, not threads).

Workers are top-level functions started with the ``spawn`` context, so each one
is a fresh interpreter with its own ``LocalNamespaceRepository``; a
``multiprocessing.Barrier`` lines them up so that they really do collide. Workers
never assert: they report what they saw, and the test judges it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceError,
    NamespaceExistsError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceNotEmptyError,
    NamespaceService,
)
from minari_namespaces.atomic import STALE_TEMP_SECONDS
from tests.support.processes import CONTEXT, TIMEOUT, error_text, run_workers

pytestmark = pytest.mark.processes

MARKER = "namespace_metadata.json"

RACERS = 8
ROUNDS = 100
REWRITES = 2_000
ADDERS = 4
KEYS_PER_ADDER = 250
SHARED = "shared/counter"


# -- 8 processes racing to create the same namespace, 100 rounds ------------------------


def race_to_create(root: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    service = NamespaceService(LocalNamespaceRepository(root))
    seen: list[tuple[int, str, bytes]] = []
    try:
        for round_ in range(ROUNDS):
            barrier.wait(timeout=TIMEOUT)
            try:
                service.create(
                    f"round{round_:03d}/race", metadata={"winner": worker, "round": round_}
                )
                outcome = "won"
            except NamespaceExistsError:
                outcome = "exists"
            except Exception as error:
                outcome = error_text(error)
            raw = Path(root, f"round{round_:03d}", "race", MARKER).read_bytes()
            seen.append((round_, outcome, raw))
    except Exception as error:
        seen.append((-1, error_text(error), b""))
    results.put((worker, seen))


def test_exactly_one_of_eight_racing_processes_creates_a_namespace(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    barrier = CONTEXT.Barrier(RACERS)
    reports = run_workers(race_to_create, [(str(root), w, barrier) for w in range(RACERS)])

    by_round: dict[int, list[tuple[int, str, bytes]]] = {}
    for worker, seen in reports:
        assert len(seen) == ROUNDS, seen[-1:]
        for round_, outcome, raw in seen:
            by_round.setdefault(round_, []).append((worker, outcome, raw))
    assert sorted(by_round) == list(range(ROUNDS))

    for round_, attempts in by_round.items():
        winners = [worker for worker, outcome, _ in attempts if outcome == "won"]
        assert len(winners) == 1, (round_, attempts)
        assert sorted(outcome for _, outcome, _ in attempts) == ["exists"] * 7 + ["won"]
        expected = {"winner": winners[0], "round": round_}
        for _, _, raw in attempts:
            assert json.loads(raw) == expected
        folder = root / f"round{round_:03d}"
        assert json.loads((folder / "race" / MARKER).read_bytes()) == expected
        assert json.loads((folder / MARKER).read_bytes()) == {}
        assert sorted(p.name for p in (folder / "race").iterdir()) == [MARKER]
        assert sorted(p.name for p in folder.iterdir()) == [MARKER, "race"]

    service = NamespaceService(LocalNamespaceRepository(root))
    assert len(service.list_local()) == 2 * ROUNDS


# -- one process rewriting while another reads: no partial reads -------------------------


def version(number: int) -> dict[str, Any]:
    """The metadata of rewrite ``number``; sizes vary from a few bytes to ~20 KB."""
    return {"description": f"version {number}", "n": number, "pad": "x" * (number * 7919 % 20_000)}


def rewrite(root: str, barrier: Barrier, done: Event, results: Queue[Any]) -> None:
    service = NamespaceService(LocalNamespaceRepository(root))
    errors: list[str] = []
    barrier.wait(timeout=TIMEOUT)
    try:
        for number in range(1, REWRITES + 1):
            service.replace(SHARED, version(number))
    except Exception as error:
        errors.append(error_text(error))
    finally:
        done.set()
    results.put(("writer", errors))


def read_while_rewritten(root: str, barrier: Barrier, done: Event, results: Queue[Any]) -> None:
    service = NamespaceService(LocalNamespaceRepository(root))
    marker = Path(root, *SHARED.split("/"), MARKER)
    reads = 0
    seen: set[int] = set()
    bad: list[str] = []
    barrier.wait(timeout=TIMEOUT)
    finished = False
    while not finished:
        finished = done.is_set()
        try:
            if reads % 3 == 0:
                data = service.get(SHARED).to_dict()
            else:
                data = json.loads(marker.read_bytes())
            if not 0 <= data["n"] <= REWRITES or data != version(data["n"]):
                bad.append(f"unexpected content {str(data)[:80]}")
            else:
                seen.add(data["n"])
        except Exception as error:
            bad.append(error_text(error)[:200])
        reads += 1
    results.put(("reader", (reads, len(seen), bad[:10], len(bad))))


def test_a_reader_never_sees_a_partial_rewrite(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    NamespaceService(LocalNamespaceRepository(root)).create(SHARED, metadata=version(0))
    barrier, done = CONTEXT.Barrier(2), CONTEXT.Event()
    reports = dict(
        run_workers(
            rewrite_or_read,
            [(str(root), "writer", barrier, done), (str(root), "reader", barrier, done)],
        )
    )
    assert reports["writer"] == []
    reads, distinct, bad, bad_count = reports["reader"]
    assert (bad_count, bad) == (0, [])
    assert reads > 0
    assert distinct > 1
    final = NamespaceService(LocalNamespaceRepository(root)).get(SHARED)
    assert final.to_dict() == version(REWRITES)
    assert sorted(p.name for p in (root / "shared" / "counter").iterdir()) == [MARKER]


def rewrite_or_read(
    root: str, role: str, barrier: Barrier, done: Event, results: Queue[Any]
) -> None:
    if role == "writer":
        rewrite(root, barrier, done, results)
    else:
        read_while_rewritten(root, barrier, done, results)


# -- 4 processes adding keys with update_properties: none is lost ----------------------


def add_keys(root: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    service = NamespaceService(LocalNamespaceRepository(root))
    errors: list[str] = []
    barrier.wait(timeout=TIMEOUT)
    for number in range(KEYS_PER_ADDER):
        key = f"w{worker}-k{number:03d}"
        try:
            summary = service.update_properties(SHARED, updates={key: [worker, number]})
            if summary.updated != [key] or summary.removed or summary.missing:
                errors.append(f"unexpected summary {summary}")
        except Exception as error:
            errors.append(error_text(error))
    results.put((worker, errors))


def test_concurrent_update_properties_lose_no_key(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    service = NamespaceService(LocalNamespaceRepository(root))
    service.create(SHARED, description="shared")
    barrier = CONTEXT.Barrier(ADDERS)
    reports = run_workers(add_keys, [(str(root), w, barrier) for w in range(ADDERS)])

    assert sorted(reports) == [(w, []) for w in range(ADDERS)]
    expected: dict[str, Any] = {"description": "shared"}
    for worker in range(ADDERS):
        for number in range(KEYS_PER_ADDER):
            expected[f"w{worker}-k{number:03d}"] = [worker, number]
    stored = service.get(SHARED).to_dict()
    assert len(stored) == ADDERS * KEYS_PER_ADDER + 1
    assert stored == expected
    assert sorted(p.name for p in (root / "shared" / "counter").iterdir()) == [MARKER]


# -- issue 10, defect 7: creators of case-only twins racing --------------------------------

TWIN_ROUNDS = 40
TWIN_SPELLINGS = ["door", "Door", "DOOR", "dOor", "doOr", "dooR", "DoOr", "dOOR"]


def race_twins(root: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    repository = LocalNamespaceRepository(root)
    outcomes: list[str] = []
    for round_ in range(TWIN_ROUNDS):
        barrier.wait(timeout=TIMEOUT)
        try:
            repository.create(
                NamespaceId(f"r{round_:02d}/{TWIN_SPELLINGS[worker]}"), NamespaceMetadata()
            )
            outcomes.append("created")
        except NamespaceError as error:
            outcomes.append(type(error).__name__)
        except Exception as error:
            outcomes.append(error_text(error))
    results.put((worker, outcomes))


def test_racing_creators_of_case_only_twins_leave_exactly_one(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    barrier = CONTEXT.Barrier(len(TWIN_SPELLINGS))
    reports = run_workers(
        race_twins, [(str(root), worker, barrier) for worker in range(len(TWIN_SPELLINGS))]
    )
    by_round = list(zip(*(outcomes for _, outcomes in sorted(reports)), strict=True))
    for round_, outcomes in enumerate(by_round):
        assert sorted(set(outcomes)) == ["NamespaceConflictError", "created"], outcomes
        assert outcomes.count("created") == 1, (round_, outcomes)
        assert len(os.listdir(root / f"r{round_:02d}")) == 1, round_


# -- issue 10, defects 2 and 3: random operations racing --------------------------------------

CHAOS_WORKERS = 6
CHAOS_OPERATIONS = 400
CHAOS_NAMES = ["a", "a/b", "a/b/c", "a/d", "x", "x/y"]


def chaos(root: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    import random

    service = NamespaceService(LocalNamespaceRepository(root))
    pick = random.Random(worker)
    raw: list[str] = []
    barrier.wait(timeout=TIMEOUT)
    for step in range(CHAOS_OPERATIONS):
        name = pick.choice(CHAOS_NAMES)
        operation = pick.choice(["create", "delete", "get", "merge", "list", "children"])
        try:
            if operation == "create":
                service.create(name, metadata={"by": worker, "step": step}, exist_ok=True)
            elif operation == "delete":
                service.delete(name)
            elif operation == "get":
                service.get(name)
            elif operation == "merge":
                service.update_properties(name, updates={f"w{worker}": step})
            elif operation == "list":
                service.list_local()
            else:
                service.children(name)
        except NamespaceError:
            pass
        except Exception as error:  # the defect: a raw OSError escaping
            raw.append(f"{operation} {name}: {error_text(error)}")
    results.put((worker, raw))


def test_racing_random_operations_raise_only_library_errors(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    barrier = CONTEXT.Barrier(CHAOS_WORKERS)
    reports = run_workers(chaos, [(str(root), worker, barrier) for worker in range(CHAOS_WORKERS)])
    assert [raw for _, raw in reports] == [[]] * CHAOS_WORKERS
    repository = LocalNamespaceRepository(root)
    for ns in repository.list_namespaces():
        repository.get(ns)  # every namespace left behind is whole


def test_a_failed_delete_never_undoes_a_create_that_finished_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 2: when the folder is found not empty at the last step, ``delete`` put
    its old marker back over the one another process had just created."""
    root = tmp_path / "datasets"
    ours, theirs = LocalNamespaceRepository(root), LocalNamespaceRepository(root)
    ns = NamespaceId("contested")
    ours.create(ns, NamespaceMetadata(description="old"))
    real_rmdir = os.rmdir

    def rmdir_after_a_concurrent_create(path: Any, *args: Any, **kwargs: Any) -> None:
        theirs.create(ns, NamespaceMetadata(description="created meanwhile"))
        real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr("minari_namespaces.stores.local.os.rmdir", rmdir_after_a_concurrent_create)
    with pytest.raises(NamespaceNotEmptyError, match="while it was being deleted"):
        ours.delete(ns)
    monkeypatch.undo()
    assert ours.get(ns).description == "created meanwhile"


# -- a writer killed mid-write: the next write of that marker sweeps its leftover --------


def rewrite_forever(root: str, ns: str) -> None:
    """Rewrite the marker of ``ns`` until killed (a large marker: long writes)."""
    service = NamespaceService(LocalNamespaceRepository(root))
    for number in itertools.count():
        service.update_properties(ns, {"description": "x" * 200_000, "number": number})


def _temporary_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def kill_mid_write(root: Path, ns: str) -> str:
    """Start a process rewriting the marker of ``ns``, freeze it (SIGSTOP) at a moment
    its temporary file is there, and SIGKILL it; the name of the file it left."""
    process = CONTEXT.Process(target=rewrite_forever, args=(str(root), ns))
    process.start()
    assert process.pid is not None
    try:
        for _ in range(1_000_000):
            if not _temporary_files(root / ns):
                continue
            os.kill(process.pid, signal.SIGSTOP)
            left = _temporary_files(root / ns)
            if left:
                os.kill(process.pid, signal.SIGKILL)
                process.join(timeout=TIMEOUT)
                return left[0]
            os.kill(process.pid, signal.SIGCONT)  # the write landed meanwhile: again
        raise AssertionError(f"no temporary file of {ns} was ever seen")
    finally:
        if process.is_alive():
            process.kill()
            process.join(timeout=TIMEOUT)


def test_the_next_write_of_a_marker_sweeps_what_a_killed_writer_left(tmp_path: Path) -> None:
    """A SIGKILL between a marker's temporary file and its rename leaves the file;
    the next write of that marker (a replace, a transfer's create or replace) removes
    it, and never a temporary file of a writer that still runs."""
    root, source = tmp_path / "datasets", tmp_path / "source"
    service = NamespaceService(LocalNamespaceRepository(root), LocalNamespaceRepository(source))
    publisher = NamespaceService(LocalNamespaceRepository(source))
    service.create("killed")
    left = kill_mid_write(root, "killed")
    alive = f".{MARKER}.{os.getpid()}.0123456789ab.tmp"  # this process still runs
    for ns in ["fresh", "replaced"]:  # as a kill mid-create or mid-replace leaves it
        (root / ns).mkdir()
        shutil.copyfile(root / "killed" / left, root / ns / left)
    for ns in ["killed", "fresh", "replaced"]:
        (root / ns / alive).write_bytes(b'{"half')
        # A leftover is swept once it is older than any write takes (so a writer in
        # another PID namespace is safe): both files are made to look that old.
        long_ago = time.time() - STALE_TEMP_SECONDS - 60
        for name in (left, alive):
            os.utime(root / ns / name, (long_ago, long_ago))
    (root / "replaced" / MARKER).write_text('{"description": "old"}')
    publisher.create("fresh", description="new")
    publisher.create("replaced", description="new")

    service.replace("killed", {"description": "after the kill"})
    service.download("fresh")
    service.download("replaced", overwrite=True)

    for ns in ["killed", "fresh", "replaced"]:
        assert sorted(os.listdir(root / ns)) == [alive, MARKER], ns
    assert service.get("killed").description == "after the kill"
    assert service.get("fresh").description == "new"
    assert service.get("replaced").description == "new"
