"""The stand-in Hub speaks Git LFS as the Hub does, proven with the real client.

``huggingface_hub`` (with ``HF_HUB_DISABLE_XET=1``, as the suite runs it) uploads
large, binary and ``.gitattributes``-named files through the preupload call, the LFS
batch API and one PUT per object, and names them in ``lfsFile`` commit entries; it
downloads them through ``resolve``'s redirect to the object store. Requests the
client does not make (a wrong sha256, a plain file that is too large, a byte range)
are sent here by hand, as plain HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces.testing.hub.model import LFS_THRESHOLD
from minari_namespaces.testing.hub.server import HubStandIn

pytestmark = pytest.mark.hub

REPO = "farama-minari/lfs"
#: HDF5's signature, then binary content: a small file the Hub keeps in LFS.
HDF5 = b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00" + bytes(range(256)) * 4
#: Text at the threshold: LFS by its size alone.
BIG = b"0123456789abcdef\n" * (LFS_THRESHOLD // 17 + 1)


def api() -> Any:
    from huggingface_hub import HfApi

    return HfApi()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def http(
    hub: HubStandIn, method: str, url: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """One request by hand (urllib follows no redirect it is not asked to: it does
    follow 3xx on GET, so resolves are asked with HEAD or read from the tree)."""
    full = url if url.startswith("http") else f"{hub.endpoint}{url}"
    request = urllib.request.Request(full, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A dataset folder: a big text file, an HDF5 file, an Arrow file, small JSON."""
    root = tmp_path / "upload"
    (root / "door/human-v2/data").mkdir(parents=True)
    (root / "door/human-v2/data/main_data.hdf5").write_bytes(HDF5)
    (root / "door/human-v2/data/metadata.json").write_text('{"total_episodes": 2}')
    (root / "door/human-v2/data/episode_0.arrow").write_bytes(b"ARROW1 text-only arrow")
    (root / "big.txt").write_bytes(BIG)
    (root / "namespace_metadata.json").write_text('{"description": "door"}')
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".cache" not in path.parts
    }


LFS = {"big.txt", "door/human-v2/data/main_data.hdf5", "door/human-v2/data/episode_0.arrow"}


def test_upload_folder_sends_big_binary_and_listed_types_through_lfs(
    hub: HubStandIn, folder: Path
) -> None:
    api().create_repo(REPO, repo_type="dataset")
    hub.take_counts()
    api().upload_folder(repo_id=REPO, repo_type="dataset", folder_path=folder)

    assert hub.files(REPO) == {
        ".gitattributes": hub.files(REPO)[".gitattributes"],
        **files_of(folder),
    }
    assert hub.lfs_paths(REPO) == LFS
    counts = hub.take_counts()
    assert (counts["commit"], counts["lfs_batch"], counts["lfs_upload"]) == (1, 1, len(LFS))


def test_the_tree_reports_each_lfs_file_as_the_hub_does(hub: HubStandIn, folder: Path) -> None:
    api().create_repo(REPO, repo_type="dataset")
    api().upload_folder(repo_id=REPO, repo_type="dataset", folder_path=folder)

    entries = {
        entry.path: entry
        for entry in api().list_repo_tree(REPO, repo_type="dataset", recursive=True)
        if hasattr(entry, "size")
    }
    for path, data in files_of(folder).items():
        entry = entries[path]
        assert entry.size == len(data)
        if path in LFS:
            pointer = (
                f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(data)}\n"
                f"size {len(data)}\n"
            ).encode()
            assert (entry.lfs.sha256, entry.lfs.size) == (sha256(data), len(data))
            assert entry.lfs.pointer_size == len(pointer)
            assert entry.blob_id == hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()
        else:
            assert entry.lfs is None
            assert entry.blob_id == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_snapshot_and_file_downloads_bring_every_byte_back(
    hub: HubStandIn, folder: Path, tmp_path: Path
) -> None:
    from huggingface_hub import hf_hub_download, snapshot_download

    api().create_repo(REPO, repo_type="dataset")
    api().upload_folder(repo_id=REPO, repo_type="dataset", folder_path=folder)

    snapshot = Path(snapshot_download(REPO, repo_type="dataset", local_dir=tmp_path / "snap"))
    assert {k: v for k, v in files_of(snapshot).items() if k != ".gitattributes"} == files_of(
        folder
    )
    single = hf_hub_download(REPO, "big.txt", repo_type="dataset", cache_dir=tmp_path / "cache")
    assert Path(single).read_bytes() == BIG


def test_resolve_of_an_lfs_file_redirects_to_the_object_store_with_its_etag_and_size(
    hub: HubStandIn,
) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    api().create_repo(REPO, repo_type="dataset")
    info = api().upload_file(
        path_or_fileobj=HDF5, path_in_repo="data/main_data.hdf5", repo_id=REPO, repo_type="dataset"
    )

    url = hf_hub_url(REPO, "data/main_data.hdf5", repo_type="dataset")
    metadata = get_hf_file_metadata(url)
    assert (metadata.etag, metadata.size, metadata.commit_hash) == (
        sha256(HDF5),
        len(HDF5),
        info.oid,
    )
    assert metadata.location.startswith(hub.endpoint.replace("127.0.0.1", "localhost"))
    status, headers, _ = http(hub, "HEAD", metadata.location)
    assert (status, headers["Content-Length"], headers["ETag"]) == (
        200,
        str(len(HDF5)),
        f'"{sha256(HDF5)}"',
    )


@pytest.mark.parametrize(
    ("wanted", "status", "part", "content_range"),
    [
        ("bytes=10-19", 206, HDF5[10:20], f"bytes 10-19/{len(HDF5)}"),
        ("bytes=1000-", 206, HDF5[1000:], f"bytes 1000-{len(HDF5) - 1}/{len(HDF5)}"),
        ("bytes=-5", 206, HDF5[-5:], f"bytes {len(HDF5) - 5}-{len(HDF5) - 1}/{len(HDF5)}"),
        (f"bytes={len(HDF5)}-", 416, b"", f"bytes */{len(HDF5)}"),
    ],
)
def test_the_object_store_answers_byte_ranges(
    hub: HubStandIn, wanted: str, status: int, part: bytes, content_range: str
) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    hub.put_file(REPO, "data/main_data.hdf5", HDF5)
    location = get_hf_file_metadata(hf_hub_url(REPO, "data/main_data.hdf5", repo_type="dataset"))
    answer = http(hub, "GET", location.location, Range=wanted)
    assert (answer[0], answer[2], answer[1]["Content-Range"]) == (status, part, content_range)


def test_a_rerun_sends_no_object_and_commits_nothing(hub: HubStandIn, folder: Path) -> None:
    api().create_repo(REPO, repo_type="dataset")
    api().upload_folder(repo_id=REPO, repo_type="dataset", folder_path=folder)
    commits = hub.commits(REPO)
    hub.take_counts()

    api().upload_folder(repo_id=REPO, repo_type="dataset", folder_path=folder)

    counts = hub.take_counts()
    assert (hub.commits(REPO), counts["lfs_upload"], counts["commit"]) == (commits, 0, 0)


def test_an_object_already_held_is_not_uploaded_again_under_another_path(
    hub: HubStandIn,
) -> None:
    api().create_repo(REPO, repo_type="dataset")
    api().upload_file(
        path_or_fileobj=HDF5, path_in_repo="a.hdf5", repo_id=REPO, repo_type="dataset"
    )
    hub.take_counts()

    api().upload_file(
        path_or_fileobj=HDF5, path_in_repo="b.hdf5", repo_id=REPO, repo_type="dataset"
    )

    assert hub.take_counts()["lfs_upload"] == 0
    assert hub.files(REPO)["b.hdf5"] == HDF5
    assert hub.lfs_paths(REPO) == {"a.hdf5", "b.hdf5"}


def test_the_repositorys_gitattributes_decide_as_well_as_the_default(hub: HubStandIn) -> None:
    api().create_repo(REPO, repo_type="dataset")
    attributes = hub.files(REPO)[".gitattributes"] + b"*.json filter=lfs diff=lfs merge=lfs -text\n"
    api().upload_file(
        path_or_fileobj=attributes, path_in_repo=".gitattributes", repo_id=REPO, repo_type="dataset"
    )
    for path in ("x.json", "table.parquet", "saved_model/v1/w", "notes.md"):
        api().upload_file(
            path_or_fileobj=b"text", path_in_repo=path, repo_id=REPO, repo_type="dataset"
        )

    assert hub.lfs_paths(REPO) == {"x.json", "table.parquet", "saved_model/v1/w"}


def batch(hub: HubStandIn, oid: str, size: int) -> dict[str, Any]:
    body = {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]}
    status, _, raw = http(
        hub,
        "POST",
        f"/datasets/{REPO}.git/info/lfs/objects/batch",
        json.dumps(body).encode(),
        **{"Content-Type": "application/vnd.git-lfs+json"},
    )
    assert status == 200
    answer: dict[str, Any] = json.loads(raw)["objects"][0]
    return answer


def commit(hub: HubStandIn, *entries: dict[str, Any]) -> int:
    lines = [{"key": "header", "value": {"summary": "by hand"}}, *entries]
    status, _, _ = http(
        hub,
        "POST",
        f"/api/datasets/{REPO}/commit/main",
        b"".join(json.dumps(line).encode() + b"\n" for line in lines),
        **{"Content-Type": "application/x-ndjson"},
    )
    return status


@pytest.mark.parametrize(
    "sent", [HDF5[:-1] + b"?", HDF5 + b"!"], ids=["other-content", "other-size"]
)
def test_an_upload_that_does_not_match_its_sha256_and_size_is_refused_and_not_kept(
    hub: HubStandIn, sent: bytes
) -> None:
    hub.create_repo(REPO)
    upload = batch(hub, sha256(HDF5), len(HDF5))["actions"]["upload"]["href"]

    assert http(hub, "PUT", upload, sent)[0] == 400
    entry = {"path": "d.hdf5", "algo": "sha256", "oid": sha256(HDF5), "size": len(HDF5)}
    assert commit(hub, {"key": "lfsFile", "value": entry}) == 422
    assert "d.hdf5" not in hub.files(REPO)
    assert batch(hub, sha256(HDF5), len(HDF5)).get("actions") is not None


def test_a_plain_file_at_the_threshold_is_refused_as_the_hub_refuses_it(
    hub: HubStandIn,
) -> None:
    hub.create_repo(REPO)
    content = base64.b64encode(BIG).decode()
    value = {"path": "big.txt", "content": content, "encoding": "base64"}

    assert commit(hub, {"key": "file", "value": value}) == 400
    assert "big.txt" not in hub.files(REPO)


def test_the_client_runs_without_xet_in_this_suite() -> None:
    assert os.environ["HF_HUB_DISABLE_XET"] == "1"
