"""Logging: one logger per module under ``minari_namespaces``, silent until the
application configures logging, DEBUG per remote request batch and transfer step,
INFO per transfer, and never a credential (issue 13, point 8)."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pytest

import minari_namespaces
from minari_namespaces import (
    FsspecNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    RemoteError,
)
from tests.support.servers import free_port

SECRET = "tok3n/that+must-never-be-logged"
ACCESS_KEY = "AKIAMINARILOGGINGKEY1"
REMOTE = "memory://logged/tree"


@pytest.fixture
def service(tmp_path: Path) -> NamespaceService:
    service = NamespaceService.from_urls(tmp_path / "local", REMOTE, token=SECRET)
    service.create("D4RL/door", description="Door opening")
    return service


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name.startswith("minari_namespaces")]


def messages(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == logger and record.levelno == level
    ]


def test_the_package_logger_is_silent_until_the_application_configures_logging() -> None:
    package = logging.getLogger("minari_namespaces")
    assert [type(handler) for handler in package.handlers] == [logging.NullHandler]
    assert package.level == logging.NOTSET
    assert package.propagate


def test_each_module_logs_under_the_package_logger(
    service: NamespaceService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="minari_namespaces")
    service.upload_tree()
    names = {record.name for record in ours(caplog)}
    assert names == {"minari_namespaces.transfer", "minari_namespaces.stores.fsspec"}
    for name in names:  # each logger is named after the module that logs
        assert importlib.import_module(name).__name__ == name


def test_an_upload_logs_its_steps_at_debug_and_one_summary_at_info(
    service: NamespaceService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="minari_namespaces")
    service.upload_tree()
    steps = messages(caplog, "minari_namespaces.transfer", logging.DEBUG)
    assert steps[0].startswith("Listed 2 namespace(s) under the top level in ")
    assert "Creating 2 namespace(s) in memory:///logged/tree, parents first" in steps
    requests = messages(caplog, "minari_namespaces.stores.fsspec", logging.DEBUG)
    assert requests
    assert all(text.startswith("Remote request: ") for text in requests)
    assert any(text.startswith("Remote request: create") for text in requests)
    summary = messages(caplog, "minari_namespaces.transfer", logging.INFO)
    assert len(summary) == 1
    assert summary[0].startswith("Copied 2 and kept 0 namespace(s) from ")
    assert summary[0].endswith(" to memory:///logged/tree (0 already up to date)")


def test_a_download_of_one_namespace_logs_its_summary(
    service: NamespaceService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service.upload_tree()
    elsewhere = NamespaceService.from_urls(tmp_path / "elsewhere", REMOTE, token=SECRET)
    caplog.set_level(logging.INFO, logger="minari_namespaces")
    elsewhere.download("D4RL/door")
    assert [record.getMessage() for record in ours(caplog)] == [
        f"Copied 2 and kept 0 namespace(s) from memory:///logged/tree to {tmp_path / 'elsewhere'}"
        " (0 already up to date)"
    ]


def test_a_kept_namespace_is_a_debug_step(
    service: NamespaceService, caplog: pytest.LogCaptureFixture
) -> None:
    service.upload_tree()
    service.replace("D4RL/door", {"description": "Door opening, changed here"})
    caplog.set_level(logging.DEBUG, logger="minari_namespaces")
    with pytest.warns(minari_namespaces.NamespaceWarning):
        service.upload("D4RL/door")
    steps = messages(caplog, "minari_namespaces.transfer", logging.DEBUG)
    assert "Keeping 'D4RL/door' in memory:///logged/tree: it differs there" in steps
    assert messages(caplog, "minari_namespaces.transfer", logging.INFO) == [
        f"Copied 0 and kept 1 namespace(s) from {service.local.url} to memory:///logged/tree"
        " (0 already up to date)"
    ]


def test_an_upload_of_what_is_there_already_says_so_in_its_summary(
    service: NamespaceService, caplog: pytest.LogCaptureFixture
) -> None:
    service.upload_tree()
    caplog.set_level(logging.INFO, logger="minari_namespaces")
    service.upload_tree()
    assert messages(caplog, "minari_namespaces.transfer", logging.INFO) == [
        f"Copied 0 and kept 0 namespace(s) from {service.local.url} to memory:///logged/tree"
        " (2 already up to date)"
    ]


def test_nothing_is_logged_at_info_or_above_by_reads(
    service: NamespaceService, caplog: pytest.LogCaptureFixture
) -> None:
    service.upload_tree()
    caplog.set_level(logging.DEBUG, logger="minari_namespaces")
    service.list_remote()
    service.get("D4RL/door", remote=True)
    service.diff()
    records = ours(caplog)
    assert records
    assert {record.levelno for record in records} == {logging.DEBUG}


def test_a_secret_storage_option_never_appears_in_any_log_record(
    service: NamespaceService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service.upload_tree()
    service.update_properties("D4RL/door", updates={"k": 1})
    service.upload("D4RL/door", overwrite=True)
    service.diff()
    NamespaceService.from_urls(tmp_path / "again", REMOTE, token=SECRET).download_tree()
    assert ours(caplog)
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)


def test_a_failing_remote_request_is_logged_without_its_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FsspecNamespaceRepository(
        "s3://bucket/prefix",
        key=ACCESS_KEY,
        secret=SECRET,
        client_kwargs={"endpoint_url": f"http://127.0.0.1:{free_port()}"},
        config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1},
        skip_instance_cache=True,
    )
    caplog.set_level(logging.DEBUG, logger="minari_namespaces")
    with pytest.raises(RemoteError):
        store.create(NamespaceId("D4RL"), NamespaceMetadata())
    failures = [
        text
        for text in messages(caplog, "minari_namespaces.stores.fsspec", logging.DEBUG)
        if text.startswith("Remote request failed: ")
    ]
    assert len(failures) == 1
    assert "s3://bucket/prefix" in failures[0]
    for record in ours(caplog):
        assert SECRET not in record.getMessage()
        assert ACCESS_KEY not in record.getMessage()
