#!/usr/bin/env python3
"""Reads a sweep file of `snn-export collect` with h5py alone (FORMAT.md "Sweep files").

Usage: check_sweep.py SWEEP.h5

Follows every external link under /files, reads each run's own episode table through it, reads
the virtual datasets /runs/episode_* and checks, per run row i: the row's first `episodes`
values equal the run's own column, the rest are the fill value; the virtual dataset's sources
name the run files. Prints one JSON object: the runs (name, status, episodes and `own`: their
own columns; NaN as null), the problems found, the virtual datasets' shapes. Exit 0 when no problem.
"""
import json
import math
import sys

import h5py
import numpy as np

VDS = {"episode_reward": ("total_reward", np.nan), "episode_success": ("success", -2),
       "episode_steps": ("total_timesteps", -1), "episode_status": ("status", -1)}


def clean(a):
    return [None if isinstance(x, float) and math.isnan(x) else x for x in a.tolist()]


def main(path):
    problems = []
    out = {"runs": [], "problems": problems, "virtual": {}}
    with h5py.File(path, "r") as f:
        if f.attrs.get("format_name") != "snn-export-sweep":
            problems.append("root attribute format_name is not snn-export-sweep")
        names = f["runs/name"].asstr()[:]
        status = f["runs/status"].asstr()[:]
        episodes = f["runs/episodes"][:]
        paths = f["runs/path"].asstr()[:]
        links = set(f["files"].keys())
        vds = {}
        for name, (col, fill) in VDS.items():
            if name in f["runs"]:
                d = f["runs/" + name]
                if not d.is_virtual:
                    problems.append("%s is not a virtual dataset" % name)
                srcs = d.virtual_sources()
                files = sorted(s.file_name for s in srcs)
                expected = sorted(p for p, n, s in zip(paths, episodes, status) if n > 0 and s != "missing")
                if files != expected:
                    problems.append("%s: sources %d, runs with episodes %d" % (name, len(files), len(expected)))
                vds[name] = d[()]
                out["virtual"][name] = {"shape": list(d.shape), "dtype": str(d.dtype), "sources": len(srcs)}
        for i, name in enumerate(names):
            run = {"name": name, "status": status[i], "episodes": int(episodes[i])}
            if name not in links:
                problems.append("run %s has no link under /files" % name)
                continue
            link = f["files"].get(name, getlink=True)
            if not isinstance(link, h5py.ExternalLink) or link.filename != paths[i]:
                problems.append("/files/%s is not an external link to %s" % (name, paths[i]))
            if status[i] == "missing":
                out["runs"].append(run)
                continue
            g = f["files/" + name]  # follows the external link
            run["format_version"] = g.attrs["format_version"]
            run["own"] = {}
            for vname, (col, fill) in VDS.items():
                own = g["episodes/" + col][:]
                run["own"][col] = clean(own)
                if len(own) != episodes[i]:
                    problems.append("%s: %d rows in its episode table, runs/episodes says %d" % (name, len(own), episodes[i]))
                if vname in vds:
                    row = vds[vname][i]
                    n = int(episodes[i])
                    if not np.array_equal(row[:n], own[:n], equal_nan=row.dtype.kind == "f"):
                        problems.append("%s: %s row differs from its own %s" % (name, vname, col))
                    rest = row[n:]
                    if not (np.all(np.isnan(rest)) if isinstance(fill, float) else np.all(rest == fill)):
                        problems.append("%s: %s past its %d episodes is not the fill value" % (name, vname, n))
            out["runs"].append(run)
    print(json.dumps(out))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
