"""A short tour of the library on its embedded defaults: ``python -m minari_namespaces.demo``.

It works in a fresh temporary folder (a local store and a ``file://`` remote), so
it never touches your real ``~/.minari`` or the network: first the Python API, then
Minari's default remote, the Hugging Face Hub, played by the stand-in Hub from
:mod:`minari_namespaces.testing.hub.server` on 127.0.0.1, then the same from the
shell with the ``minari-namespaces`` command.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from minari_namespaces.identifier import NamespaceId
from minari_namespaces.service import NamespaceService


def render_tree(service: NamespaceService, ids: list[NamespaceId]) -> str:
    """Draw ``ids`` (sorted in tree order) as an indented tree with descriptions."""
    metadata = service.local.get_many(ids)
    lines = []
    for ns in ids:
        description = metadata[ns].description if ns in metadata else None
        suffix = f"  - {description}" if description else ""
        lines.append(f"{'    ' * (ns.depth - 1)}{ns.name}{suffix}")
    return "\n".join(lines)


def main() -> None:
    """Run the tour and print what happens at each step."""
    with tempfile.TemporaryDirectory(prefix="minari-namespaces-demo-") as scratch:
        root = Path(scratch) / "datasets"
        remote_url = (Path(scratch) / "remote").as_uri()
        service = NamespaceService.from_urls(local=root, remote=remote_url)
        print(f"Local store:  {service.local.url}")
        print(f"Remote store: {service.remote.url}\n")

        service.create("D4RL/door", description="Door opening with a dexterous hand")
        service.create("D4RL/pen", description="Pen twirling", metadata={"difficulty": "hard"})
        service.create("mujoco/halfcheetah", description="HalfCheetah locomotion")
        print("Created a nested tree (missing parents are created first):")
        print(render_tree(service, service.list_local()), "\n")

        print("D4RL/pen metadata:", service.get("D4RL/pen").to_dict())
        on_disk = root / "D4RL" / "pen" / "namespace_metadata.json"
        print(f"On disk ({on_disk.relative_to(scratch)}): {on_disk.read_text()}\n")

        summary = service.update_properties(
            "D4RL/pen", updates={"maintainer": "farama"}, removals=["difficulty", "missing"]
        )
        print("update_properties:", summary)
        service.replace("D4RL", {"description": "Datasets for Deep Data-Driven RL"})
        print("After updates:")
        print(render_tree(service, service.list_local()), "\n")

        print("Children of D4RL:", [str(ns) for ns in service.children("D4RL")], "\n")
        datasets_tour(Path(scratch), root, service)

        report = service.upload("D4RL/pen")
        print("upload D4RL/pen copied (parents first):", [str(ns) for ns in report.copied])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = service.upload_tree()
        for warning in caught:
            print(f"warning: {warning.message}")
        print("upload_tree copied:", [str(ns) for ns in report.copied])
        print("skipped (already there):", [str(ns) for ns in report.skipped])
        print("Remote now holds:", [str(ns) for ns in service.list_remote()], "\n")

        service.delete("mujoco/halfcheetah")
        service.delete("mujoco")
        service.replace("D4RL/door", {"description": "Edited locally"})
        diff = service.diff()
        print(
            "diff: only remote",
            [str(ns) for ns in diff.only_remote],
            "| different",
            [str(ns) for ns in diff.different],
        )
        report = service.download_tree(overwrite=True)
        print("download_tree(overwrite=True) copied:", [str(ns) for ns in report.copied])
        print("In sync again:", service.diff().in_sync, "\n")
        print("Local tree after the round trip:")
        print(render_tree(service, service.list_local()))
        print("\n== The Hugging Face Hub (a stand-in on 127.0.0.1) ==\n")
        hub_tour(Path(scratch), service)
        print("\n== The same from the shell ==\n")
        shell_tour(Path(scratch))


def datasets_tour(scratch: Path, root: Path, service: NamespaceService) -> None:
    """Lay out datasets as Minari stores them, list them, and write the catalog pages."""
    import json

    from minari_namespaces.catalog.pages import write_catalog

    runs = {"human-v1": 25, "human-v2": 25, "expert-v2": 5000}
    for name, episodes in runs.items():
        data = root / "D4RL" / "door" / name / "data"
        data.mkdir(parents=True)
        dataset_id = f"D4RL/door/{name}"
        metadata = {"dataset_id": dataset_id, "total_episodes": episodes, "total_steps": 200}
        (data / "metadata.json").write_text(json.dumps(metadata))
    print("Datasets in D4RL/door (folders holding data/, found by the same listing):")
    for entry in service.list_datasets("D4RL/door", metadata=True):
        print(f"  {entry.id}  {entry.total_episodes} episodes, {entry.total_steps} steps")
    latest = service.list_datasets("D4RL", latest=True)
    print("latest=True:", [str(entry.id) for entry in latest])
    pages = write_catalog(service.catalog(), scratch / "catalog")
    shown = sorted(str(page.relative_to(scratch)) for page in pages)
    print(f"write_catalog wrote {len(pages)} pages:", ", ".join(shown[:4]), "...\n")


def hub_tour(scratch: Path, service: NamespaceService) -> None:
    """Upload the local tree to ``hf://farama-minari`` and download it elsewhere."""
    import json

    from minari_namespaces.testing.hub.server import HubStandIn

    with HubStandIn() as hub, hub.as_hf_endpoint(scratch / "hf-home"):
        to_hub = NamespaceService.from_urls(service.local.url, "hf://farama-minari")
        report = to_hub.upload_tree()
        counts = hub.take_counts()
        print(f"upload_tree to {to_hub.remote.url} copied:", [str(ns) for ns in report.copied])
        commits, requests = counts["commit"], sum(counts.values())
        print(f"  {commits} commit(s) (one per repository), {requests} requests")
        print("  dataset repositories:", hub.repos())
        root = json.loads(hub.files("farama-minari/D4RL")["namespace_metadata.json"])
        print("  farama-minari/D4RL namespace_metadata.json (Minari's registry):", root)
        elsewhere = NamespaceService.from_urls(scratch / "from-hub", "hf://farama-minari")
        report = elsewhere.download_tree()
        print("download_tree into a fresh folder copied:", [str(ns) for ns in report.copied])
        print("  in sync with the Hub:", elsewhere.diff().in_sync)


def shell_tour(scratch: Path) -> None:
    """Run a short session of the ``minari-namespaces`` command, echoing each line."""
    environment = {key: value for key, value in os.environ.items() if key != "MINARI_REMOTE"}
    environment["MINARI_DATASETS_PATH"] = str(scratch / "shell-datasets")
    remote = (scratch / "shell-remote").as_uri()
    commands = [
        ["create", "D4RL/door", "--description", "Door opening", "--set", "level=2"],
        ["create", "D4RL/pen", "--description", "Pen twirling"],
        ["create", "mujoco/hopper"],
        ["list"],
        ["upload", "--tree", "--remote", remote],
        ["update-properties", "D4RL/pen", "--set", "maintainer=farama"],
        ["diff", "--remote", remote],
        ["download", "--tree", "--root", str(scratch / "elsewhere"), "--remote", remote],
        ["list", "--root", str(scratch / "elsewhere"), "--json", "--prefix", "D4RL/door"],
        ["datasets", "--root", str(scratch / "datasets"), "--latest"],
        ["catalog", str(scratch / "shell-catalog"), "D4RL", "--root", str(scratch / "datasets")],
        ["show", "no/such/namespace"],
    ]
    for arguments in commands:
        print("$ minari-namespaces " + " ".join(shlex.quote(a) for a in arguments))
        result = subprocess.run(
            [sys.executable, "-m", "minari_namespaces", *arguments],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        print(result.stdout + result.stderr, end="")
        print(f"(exit status {result.returncode})\n" if result.returncode else "")


if __name__ == "__main__":
    main()
