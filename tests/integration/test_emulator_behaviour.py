"""What the GCS and Azure drivers handle specially, pinned on the emulators and clients.

Each special case in ``minari_namespaces/stores/gcs.py`` and ``azure.py`` exists
because of one behaviour below; if an upgrade changes it, this file says which
case to revisit.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from minari_namespaces import FsspecNamespaceRepository, NamespaceId, NamespaceMetadata
from tests.support.emulators import AzureServer, GcsServer


def media_upload(server: GcsServer, bucket: str, key: str, data: bytes, generation: str) -> int:
    """A simple media upload with ``ifGenerationMatch``: the status it gets."""
    url = (
        f"{server.endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media"
        f"&name={quote(key, safe='')}&ifGenerationMatch={generation}"
    )
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_fake_gcs_honours_preconditions_on_multipart_uploads_only(gcs: GcsServer) -> None:
    """Why the GCS driver sends multipart uploads: a simple media upload with a
    stale ``ifGenerationMatch`` is accepted by the emulator."""
    bucket = gcs.new_bucket()
    assert media_upload(gcs, bucket, "k", b"{}", "0") == 200
    assert media_upload(gcs, bucket, "k", b'{"a": 1}', "0") == 200  # ignored
    store = FsspecNamespaceRepository(f"gs://{bucket}", **gcs.storage_options())
    store.create(NamespaceId("a"), NamespaceMetadata("first"))
    with pytest.raises(FileExistsError):
        store._driver.create(f"{bucket}/a/namespace_metadata.json", b"{}")  # multipart: 412


def test_gcsfs_reports_every_412_as_file_exists(gcs: GcsServer) -> None:
    """Why a 412 on the GCS compare-and-swap is turned into a conflict: gcsfs
    raises ``FileExistsError`` for it, with no status."""
    bucket = gcs.new_bucket()
    fs = gcs.filesystem()
    fs.pipe_file(f"{bucket}/k", b"{}")
    with pytest.raises(FileExistsError):
        fs.pipe_file(f"{bucket}/k", b"{}", mode="create")


def test_fake_gcs_cleans_object_names_as_paths(gcs: GcsServer) -> None:
    """Why the hostile-content tests plant no ``a//b`` or ``..`` key on GCS."""
    bucket = gcs.new_bucket()
    assert media_upload(gcs, bucket, "root/a//b/m", b"{}", "0") == 200
    assert gcs.filesystem().find(bucket) == [f"{bucket}/root/a/b/m"]


def test_azure_refuses_a_second_create_with_409_and_a_stale_etag_with_412(
    azure: AzureServer,
) -> None:
    """Why the Azure driver maps ``ResourceExistsError`` to "exists" and a 412 to
    a conflict."""
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
    from azure.storage.blob import BlobServiceClient

    container = azure.new_bucket()
    client = BlobServiceClient.from_connection_string(azure.connection_string)
    blob = client.get_blob_client(container, "k")
    first = blob.upload_blob(b"{}", overwrite=False)
    with pytest.raises(ResourceExistsError) as exists:
        blob.upload_blob(b"{}", overwrite=False)
    assert exists.value.status_code == 409
    blob.upload_blob(b'{"a": 1}', overwrite=True)
    with pytest.raises(ResourceModifiedError) as stale:
        blob.upload_blob(
            b'{"b": 2}',
            overwrite=True,
            etag=first["etag"],
            match_condition=MatchConditions.IfNotModified,
        )
    assert stale.value.status_code == 412


def test_a_ranged_read_of_an_empty_object_is_a_416_that_reads_as_empty(
    gcs: GcsServer, azure: AzureServer
) -> None:
    """Why both drivers read a 416 as an empty object: Azurite answers a ranged
    GET of an empty blob with 416; the empty marker is then a corrupt one."""
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobServiceClient

    container = azure.new_bucket()
    blob = BlobServiceClient.from_connection_string(azure.connection_string).get_blob_client(
        container, "empty"
    )
    blob.upload_blob(b"")
    with pytest.raises(HttpResponseError) as caught:
        blob.download_blob(offset=0, length=10)
    assert caught.value.status_code == 416
    for url, options in (
        (f"az://{container}", azure.storage_options()),
        (f"gs://{gcs.new_bucket()}", gcs.storage_options()),
    ):
        store = FsspecNamespaceRepository(url, **options)
        path = store.fs._strip_protocol(url)
        store.fs.pipe_file(f"{path}/e/namespace_metadata.json", b"")
        assert store._driver.read(f"{path}/e/namespace_metadata.json") == b""
