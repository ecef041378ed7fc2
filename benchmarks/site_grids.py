"""How long the website's explorer grids take to compute, and how much data they make.

For every explorer of the registry: ``optlib.explorers.site.site_data`` (what the book's build runs for each
explorer: finding what each slot depends on, computing every setting's runs in worker processes, checking,
cutting into chunks), timed on the wall clock and in CPU seconds (this process and its workers), with the
settings, the chunks and their sizes (as stored, and gzipped at level 6 as a host would send them). Chapter 10's
explorer is built on a small study here (the chapter trains the real one; its grid is the same size).

The machine's load is printed first and last: the budget (3 minutes for all grids on 2 cores) means an
otherwise idle machine; on a shared one, the CPU seconds divided by the cores are the better guide.
Run:  .venv/bin/python benchmarks/site_grids.py [explorer ...]     (OPTLIB_SITE_PROCESSES=1: one process)
"""

import gzip
import json
import os
import resource
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optlib.explorers import CHAPTER_EXPLORERS  # noqa: E402
from optlib.explorers.site import _processes, site_data  # noqa: E402
from tests.test_site_grids import tiny_study  # noqa: E402


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(names) -> None:
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; worker processes: {_processes()}")
    print(f"{'explorer':26s} {'wall s':>7s} {'cpu s':>7s} {'settings':>9s} {'chunks':>7s} {'stored MB':>10s} "
          f"{'gzip MB':>8s} {'largest KB':>11s}")
    wall = cpu = stored = zipped = 0.0
    for name, (_, factory) in CHAPTER_EXPLORERS.items():
        if names and name not in names:
            continue
        explorer = factory(tiny_study()) if name == "choosing_explorer" else factory()
        start, start_cpu = time.perf_counter(), cpu_seconds()
        data = site_data(explorer)
        seconds, cpu_used = time.perf_counter() - start, cpu_seconds() - start_cpu
        files = [json.dumps(chunk).encode() for chunk in data["_chunks"].values()]
        size, gz = sum(map(len, files)), sum(len(gzip.compress(f, 6)) for f in files)
        wall, cpu, stored, zipped = wall + seconds, cpu + cpu_used, stored + size, zipped + gz
        print(f"{name:26s} {seconds:7.1f} {cpu_used:7.1f} {data['n_settings']:9d} {len(files):7d} "
              f"{size / 1e6:10.2f} {gz / 1e6:8.2f} {max(map(len, files)) / 1e3:11.1f}", flush=True)
    print(f"{'all':26s} {wall:7.1f} {cpu:7.1f} {'':9s} {'':7s} {stored / 1e6:10.2f} {zipped / 1e6:8.2f}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
