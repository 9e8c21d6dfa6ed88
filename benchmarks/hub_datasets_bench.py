"""Datasets to and from the stand-in Hub (with Git LFS): ours against Minari 0.5.4's
``upload_dataset``/``download_dataset`` per dataset and ``snapshot_download``.

A namespace of :data:`DATASETS` datasets written by Minari's ``DataCollector``, one of
them Arrow with :data:`EPISODES` episodes (a file each), the others HDF5. Both
sides run on the same stand-in in one run, which counts requests and commits.
"""

from __future__ import annotations

import os
import shutil
import warnings
from contextlib import redirect_stdout
from pathlib import Path

from benchmarks.hub_bench import dataset_path, measured
from benchmarks.report import Report
from minari_namespaces import NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn

__all__ = ["bench"]

DATASETS = 20
EPISODES = 500
#: Episodes of each HDF5 dataset.
HDF5_EPISODES = 20
OURS, THEIRS = "move-ours", "move-minari"
NAMESPACE = "D4RL/door"


def dataset_ids() -> list[str]:
    return [f"{NAMESPACE}/arrow-v0"] + [f"{NAMESPACE}/d{i:02d}-v0" for i in range(DATASETS - 1)]


def write_namespace(root: Path) -> None:
    """``D4RL``, ``D4RL/door`` and its datasets, written by Minari's own
    ``DataCollector`` (random CartPole episodes), so that Minari uploads them."""
    import minari.namespace as minari_namespace

    from tests.compat.cartpole import cartpole_collector, collect_cartpole

    with dataset_path(root), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no eval_env: not under test
        minari_namespace.create_namespace("D4RL", "D4RL datasets")
        minari_namespace.create_namespace(NAMESPACE, "Door opening")
        for seed, dataset_id in enumerate(dataset_ids()):
            arrow = dataset_id.endswith("arrow-v0")
            env = cartpole_collector("arrow" if arrow else "hdf5")
            episodes = EPISODES if arrow else HDF5_EPISODES
            collect_cartpole(env, dataset_id, episodes=episodes, seed=seed)
            env.close()


def bench(report: Report, hub: HubStandIn, scratch: Path) -> None:
    """Publishing and downloading the namespace, and an in-sync rerun of each."""
    import minari
    import minari.namespace as minari_namespace
    from huggingface_hub import constants, snapshot_download

    source = scratch / "move-source"
    write_namespace(source)
    ids = dataset_ids()
    files = sum(1 for path in source.rglob("*") if path.is_file())
    label = f"{DATASETS} datasets, {files} files"

    ours = NamespaceService.from_urls(source, f"hf://{OURS}")
    up = measured(hub, lambda: ours.upload_tree("D4RL", datasets=True))

    def minari_publish() -> None:
        with dataset_path(source), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for ns in ("D4RL", NAMESPACE):
                minari_namespace.upload_namespace(ns, None)
            for dataset_id in ids:
                minari.upload_dataset(dataset_id, None)

    os.environ["MINARI_REMOTE"] = f"hf://{THEIRS}"
    constants.HF_HUB_CACHE = str(scratch / "move-cache-up")
    with open(os.devnull, "w") as quiet, redirect_stdout(quiet):  # Minari prints each upload
        up_minari = measured(hub, minari_publish)
    note = (
        f"{up[0]:.2f} s, {up[1]} requests; Minari's upload_dataset each: {up_minari[2]} "
        f"commits, {up_minari[1]} requests, {up_minari[0]:.2f} s"
    )
    report.count(f"Hub publish of {label}: commits", up[2], up_minari[2] // 10, note)
    rerun = measured(hub, lambda: ours.upload_tree("D4RL", datasets=True))
    report.count(f"Hub publish of {label}, in sync: commits", rerun[2], 0, f"{rerun[1]} requests")

    down_root = scratch / "move-down"
    theirs = NamespaceService.from_urls(down_root, f"hf://{OURS}")
    down = measured(hub, lambda: theirs.download_tree("D4RL", datasets=True))

    def minari_download() -> None:
        with dataset_path(scratch / "move-minari-down"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for dataset_id in ids:
                minari.download_dataset(dataset_id)

    os.environ["MINARI_REMOTE"] = f"hf://{OURS}"
    constants.HF_HUB_CACHE = str(scratch / "move-cache-down")
    with open(os.devnull, "w") as quiet, redirect_stdout(quiet):
        down_minari = measured(hub, minari_download)
    constants.HF_HUB_CACHE = str(scratch / "move-cache-snapshot")
    snapshot = measured(
        hub,
        lambda: snapshot_download(
            f"{OURS}/D4RL",
            repo_type="dataset",
            allow_patterns="door/*",
            local_dir=scratch / "move-snapshot",
        ),
    )
    for name, other in (("download_dataset each", down_minari), ("snapshot_download", snapshot)):
        report.ratio(
            f"Hub download of {label} vs Minari's {name}"
            if name != "snapshot_download"
            else f"Hub download of {label} vs snapshot_download",
            down[0],
            other[0],
            unit="total",
            limit=1.0,
            note=f"requests: ours {down[1]}, theirs {other[1]}",
        )
    report.count(
        f"Hub download of {label}: requests",
        down[1],
        min(down_minari[1], snapshot[1]),
        f"Minari: {down_minari[1]}, snapshot_download: {snapshot[1]}",
    )
    again = measured(hub, lambda: theirs.download_tree("D4RL", datasets=True))
    report.count(
        f"Hub download of {label}, in sync: requests",
        again[1],
        8,
        f"{again[0]:.2f} s; listings and the namespaces' metadata only",
    )
    shutil.rmtree(source, ignore_errors=True)
