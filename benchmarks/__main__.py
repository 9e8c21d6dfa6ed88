"""``python -m benchmarks [--local-only | --hub-only | --remote-only | --transfer-only]``:
print the table; exit 1 if a target is missed."""

from __future__ import annotations

import argparse
import platform
import sys
import time

from benchmarks import local_bench
from benchmarks.report import Report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--local-only", action="store_true", help="skip the object store and Hub benchmarks"
    )
    parser.add_argument("--hub-only", action="store_true", help="run the Hub benchmark only")
    parser.add_argument(
        "--remote-only",
        action="store_true",
        help="run the object store benchmarks only (S3, GCS, Azure Blob, dataset transfers)",
    )
    parser.add_argument(
        "--transfer-only",
        action="store_true",
        help="run the dataset-transfer benchmarks only (file://, SeaweedFS, memory)",
    )
    arguments = parser.parse_args()
    started = time.perf_counter()
    report = Report()
    if not (arguments.local_only or arguments.remote_only or arguments.transfer_only):
        from benchmarks import hub_bench

        # First: huggingface_hub must not be imported before it points at the stand-in.
        hub_bench.run(report)
    if arguments.hub_only:
        print(report.markdown())
        return 1 if report.missed else 0
    if not (arguments.remote_only or arguments.transfer_only):
        local_bench.run(report)
    if not (arguments.local_only or arguments.transfer_only):
        from benchmarks import remote_bench

        remote_bench.run(report)
    if not arguments.local_only:
        from benchmarks import transfer_bench

        transfer_bench.run(report)
    print(report.markdown())
    print(
        f"\n{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.machine()}, {platform.system()}; "
        f"took {time.perf_counter() - started:.0f} s"
    )
    for row in report.missed:
        print(f"MISSED: {row.name}: {row.ratio or row.measured} (target {row.target})")
    return 1 if report.missed else 0


if __name__ == "__main__":
    sys.exit(main())
