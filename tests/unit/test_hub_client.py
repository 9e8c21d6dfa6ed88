"""The Hub driver's one adapter to what huggingface_hub does not publish: these fail
loudly when the installed client changes what the driver relies on."""

from __future__ import annotations

import socket

import pytest
from huggingface_hub import CommitOperationAdd, get_session

from minari_namespaces.stores.drivers.hub.client import transport_errors, was_committed


def test_an_operation_not_yet_sent_reads_as_not_committed() -> None:
    add = CommitOperationAdd(path_in_repo="a/namespace_metadata.json", path_or_fileobj=b"{}")
    assert was_committed(add) is False


def test_a_refused_connection_of_the_clients_session_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused at once.
    with pytest.raises(transport_errors()):
        get_session().get(f"http://127.0.0.1:{port}/api/datasets")
