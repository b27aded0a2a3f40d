#!/usr/bin/env python3
"""Checks a SONATA spike file written by snn-export with bmtk and with h5py.

usage: /usr/bin/python3 check_sonata.py FILE.h5 EXPECTED.json
EXPECTED.json (written by the test from its inputs): population, t (ms), id, rows, start, stop, episodes.

- h5py: root attributes magic = 0x0A7A and version = [0, 1] (uint32); /spikes/<population>/
  timestamps float64 with units "ms", node_ids uint64 of the same length, attribute sorting an HDF5
  enum {none: 0, by_id: 1, by_time: 2} holding by_time, and the times non-decreasing; every value
  equal to the expected; /snn_export/episodes (episode_id, start_ms, stop_ms, spike_rows).
- bmtk: SpikeTrains.from_sonata reads the population with the expected spike count, and its
  to_dataframe() gives the expected (time, node id) pairs.
Prints the number of values compared; exit 1 with one line per problem.
"""
import json
import sys

import h5py
import numpy as np

problems = []
compared = 0


def fail(msg):
    problems.append(msg)


def same(label, got, want):
    global compared
    got = np.asarray(got)
    want = np.asarray(want, dtype=got.dtype if got.size else None)
    compared += int(want.size)
    if got.shape != want.shape or not np.array_equal(got, want):
        fail(f"{label}: got {got[:8].tolist()}... {got.shape}, want {want[:8].tolist()}... {want.shape}")


def main():
    path, exp_path = sys.argv[1], sys.argv[2]
    with open(exp_path) as fh:
        exp = json.load(fh)
    pop = exp["population"]
    with h5py.File(path, "r") as f:
        if f.attrs.get("magic") != 0x0A7A or f.attrs["magic"].dtype != np.uint32:
            fail(f"root magic {f.attrs.get('magic')!r}")
        v = f.attrs.get("version")
        if v is None or list(v) != [0, 1] or v.dtype != np.uint32:
            fail(f"root version {v!r}")
        g = f[f"spikes/{pop}"]
        ts, ids = g["timestamps"], g["node_ids"]
        if ts.dtype != np.float64 or ids.dtype != np.uint64:
            fail(f"dtypes {ts.dtype} {ids.dtype}")
        u = ts.attrs.get("units")
        if (u.decode() if isinstance(u, bytes) else u) != "ms":
            fail(f"timestamps units {u!r}")
        enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
        if enum != {"none": 0, "by_id": 1, "by_time": 2}:
            fail(f"sorting is not the SONATA enum: {enum!r}")
        if g.attrs["sorting"] != 2:
            fail(f"sorting {g.attrs['sorting']!r}, want by_time (2)")
        t = ts[()]
        if t.size > 1 and np.any(np.diff(t) < 0):
            fail("timestamps not sorted by time")
        same("timestamps", t, exp["t"])
        same("node_ids", ids[()], exp["id"])
        e = f["snn_export/episodes"]
        same("episodes/episode_id", e["episode_id"][()], exp["episodes"])
        same("episodes/start_ms", e["start_ms"][()], exp["start"])
        same("episodes/stop_ms", e["stop_ms"][()], exp["stop"])
        same("episodes/spike_rows", e["spike_rows"][()].reshape(-1, 2), np.asarray(exp["rows"], dtype=np.int64).reshape(-1, 2))

    from bmtk.utils.reports.spike_trains import SpikeTrains
    st = SpikeTrains.from_sonata(path)
    if list(st.populations) != [pop]:
        fail(f"bmtk populations {st.populations}")
    if st.n_spikes(population=pop) != len(exp["t"]):
        fail(f"bmtk n_spikes {st.n_spikes(population=pop)}, want {len(exp['t'])}")
    df = st.to_dataframe(populations=pop, with_population_col=False)
    if len(exp["t"]):
        df = df.sort_values(["timestamps", "node_ids"], kind="stable")
        want = sorted(zip(exp["t"], exp["id"]))
        same("bmtk timestamps", df["timestamps"].to_numpy(dtype=np.float64), [w[0] for w in want])
        same("bmtk node_ids", df["node_ids"].to_numpy(dtype=np.int64), [w[1] for w in want])
    for p in problems:
        print(" -", p)
    if problems:
        print(f"FAILED {path}: {len(problems)} problems")
        sys.exit(1)
    print(f"OK {path}: {len(exp['t'])} spikes of population {pop}; compared {compared} values (h5py and bmtk), all equal")


if __name__ == "__main__":
    main()
