#!/usr/bin/env python3
"""Prints what an snn-export file (format 2.x) holds, read with h5py alone as FORMAT.md describes,
in a form that does not depend on how it was written: the layout (`optimized` or `standard`), the
write engine (`ts` or `h5wasm`), threads (asyncWrite), chunking and compression.

Usage: canonical.py FILE.h5   ->  one JSON document on stdout

Used by the tests that write the same experiment two ways (test/engines.test.ts,
test/standard.test.ts, test/async-write.test.ts): the two files must give the same document, and
its episodes the inputs the test logged. It shares no code with the package's loader.

Per episode (rows of the episode table): the table's columns (except the wall-clock times and the
row ranges of encoding-specific streams), the summary, the timesteps, spikes as [timestep, id]
pairs (CSR `counts` + `neuron_ids`, or the dense `spike_matrix`), non-zero rewards as [timestep,
value] pairs (sparse or dense), neural state and behaviour rows, weight changes and events. Outside
the episodes: config, user metadata, network structure, checkpoints (without `created_at`),
episode_static, and the root attributes that do not describe the writer or the clock.
Floats are printed with repr (NaN as "nan").
"""
import json
import math
import sys

import h5py
import numpy as np

WALL_CLOCK = {"start_time", "end_time"}
WRITER_ATTRS = {"creator", "start_time", "end_time", "exporter_options", "layout"}


def plain(v):
    """JSON-able value of a numpy value / array / bytes."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "O":
            return [plain(x) for x in v.tolist()]
        return plain(v.tolist())
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return "nan" if math.isnan(f) else f
    if isinstance(v, np.integer):
        return int(v)
    return v


def text(ds):
    return plain(ds[()])


def tree(g, skip_attrs=()):
    """A group's datasets (values, dtype, shape) and attributes, recursively."""
    out = {"attrs": {k: plain(v) for k, v in sorted(g.attrs.items()) if k not in skip_attrs}}
    for name in sorted(g):
        o = g[name]
        if isinstance(o, h5py.Group):
            out[name] = tree(o)
        else:
            out[name] = {"dtype": str(o.dtype), "shape": list(o.shape), "value": plain(o[()]),
                         "attrs": {k: plain(v) for k, v in sorted(o.attrs.items())}}
    return out


def main(path):
    f = h5py.File(path, "r")
    doc = {"root": {k: plain(v) for k, v in sorted(f.attrs.items()) if k not in WRITER_ATTRS}}
    for name, where in (("config", "config/json"), ("metadata", "metadata/user")):
        doc[name] = json.loads(text(f[where])) if where in f else None
    doc["config_attrs"] = {k: plain(v) for k, v in sorted(f["config"].attrs.items())}
    doc["network"] = tree(f["network_structure"]) if "network_structure" in f else None
    doc["checkpoints"] = {n: tree(g, skip_attrs=("created_at",)) for n, g in f["checkpoints"].items()} if "checkpoints" in f else {}
    doc["episode_static"] = tree(f["episode_static"]) if "episode_static" in f else None

    ep = f["episodes"]
    n = ep["episode_id"].shape[0]
    rng = lambda col, i: tuple(int(x) for x in ep[col][i])
    ts_all = f["timesteps"][()] if "timesteps" in f else np.zeros(0, np.int64)
    episodes = []
    for i in range(n):
        e = {c: plain(ep[c][i]) for c in sorted(ep) if c != "summary" and not c.endswith("_rows") and c not in WALL_CLOCK}
        e["summary"] = json.loads(plain(ep["summary"][i])) if i < ep["summary"].shape[0] and plain(ep["summary"][i]) else None
        a, b = rng("step_rows", i)
        steps = ts_all[a:b]
        e["timesteps"] = plain(steps)
        # spikes: [timestep, id], ids ascending within a step
        if "spikes/spike_matrix" in f:
            rows, ids = np.nonzero(f["spikes/spike_matrix"][a:b])
            e["spikes"] = [[int(steps[r]), int(k)] for r, k in zip(rows, ids)]
        elif "spikes/counts" in f:
            s0, s1 = rng("spike_rows", i)
            ids = f["spikes/neuron_ids"][s0:s1]
            times = np.repeat(steps, f["spikes/counts"][a:b].astype(np.int64))
            e["spikes"] = [[int(t), int(k)] for t, k in zip(times, ids)]
        else:
            e["spikes"] = []
        # non-zero rewards: [timestep, value]
        if "rewards/timesteps" in f:
            r0, r1 = rng("reward_rows", i)
            e["rewards"] = [[int(t), plain(v)] for t, v in zip(f["rewards/timesteps"][r0:r1], f["rewards/values"][r0:r1])]
        elif "rewards/values" in f:
            vals = f["rewards/values"][a:b]
            e["rewards"] = [[int(t), plain(v)] for t, v in zip(steps, vals) if v != 0]
        else:
            e["rewards"] = []
        k0, k1 = rng("state_rows", i)
        ns = {}
        if "neural_states" in f:
            for name, d in sorted(f["neural_states"].items()):
                ns[name] = {"dtype": str(d.dtype), "row_shape": list(d.shape[1:]), "rows": plain(d[k0:k1])}
        e["neural_states"] = ns
        beh = {}
        if "behavior" in f:
            for name, d in sorted(f["behavior"].items()):
                beh[name] = {"dtype": str(d.dtype), "row_shape": list(d.shape[1:]), "rows": plain(d[a:b])}
        e["behavior"] = beh
        w0, w1 = rng("weight_change_rows", i)
        e["weight_changes"] = {name: plain(d[w0:w1]) for name, d in sorted(f["weight_changes"].items())} if "weight_changes" in f else {}
        v0, v1 = rng("event_rows", i)
        if "events/timesteps" in f:
            e["events"] = [[int(t), plain(ty), json.loads(plain(da))] for t, ty, da in
                           zip(f["events/timesteps"][v0:v1], f["events/types"][v0:v1], f["events/data"][v0:v1])]
        else:
            e["events"] = []
        episodes.append(e)
    doc["episodes"] = episodes
    f.close()
    print(json.dumps(doc, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
