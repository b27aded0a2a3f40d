#!/usr/bin/env python3
"""Paired A/B of two builds of snn-export on the write workloads.

    python3 bench/ab_builds.py REPEATS WORKLOAD[,WORKLOAD...] DIR_A DIR_B

DIR_A and DIR_B are checkouts (or copies) with `npm run build` done: each has
dist/bench/contender.js. Every repeat runs
`node DIR/dist/bench/contender.js --contender snn-export --workload W --out F` once per build,
the two builds alternating and their order reversed every repeat, and records the contender's
own `seconds` (wall), the child's CPU time (user + system, from rusage), `create_seconds` and
the file's bytes. Prints a line per run and, per workload, the medians of the paired ratios B/A.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile


def run(build: str, workload: str, out: str) -> tuple[float, float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        ["node", f"{build}/dist/bench/contender.js", "--contender", "snn-export", "--workload", workload, "--out", out],
        capture_output=True, text=True, check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(proc.stdout.strip().split("\n")[-1])
    os.remove(out)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result["seconds"], cpu, result["create_seconds"], result["file_bytes"]


def main() -> None:
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    repeats, workloads, a, b = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], sys.argv[4]
    out = os.path.join(tempfile.mkdtemp(prefix="snn-ab-"), "out.h5")
    runs: dict[str, list[dict[str, tuple[float, float, float, int]]]] = {w: [] for w in workloads}
    for r in range(repeats):
        for w in workloads:
            got = {}
            for build in ([a, b] if r % 2 == 0 else [b, a]):
                got[build] = run(build, w, out)
            runs[w].append(got)
            print(r, w, {os.path.basename(k.rstrip("/")): v for k, v in got.items()}, flush=True)
    for w in workloads:
        ratio = lambda i: statistics.median(g[b][i] / g[a][i] for g in runs[w])  # noqa: E731
        bytes_a, bytes_b = runs[w][0][a][3], runs[w][0][b][3]
        print(f"{w}: B/A wall {ratio(0):.3f}, cpu {ratio(1):.3f}, create {ratio(2):.3f}, bytes {bytes_a} -> {bytes_b} (n={repeats})")


if __name__ == "__main__":
    main()
