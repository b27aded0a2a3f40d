#!/usr/bin/env python3
"""The h5py peer of the export benchmark: the same conversion as `snn-export export --format
nwb|sonata`, written plainly in Python with h5py and numpy (read each stream whole per episode,
numpy for the arithmetic, a stable argsort to group spikes by neuron), the same compression
(gzip 4 + shuffle, chunks of 131072 rows) and the same layout (FORMAT.md "Export to NWB and
SONATA"). It is a benchmark contender, not a product: no validation of its input.

usage: /usr/bin/python3 nwb_peer.py nwb|sonata EXPERIMENT_DIR_OR_H5 OUT
"""
import datetime
import json
import os
import sys
import time
import uuid

import h5py
import numpy as np

GZ = dict(compression="gzip", compression_opts=4, shuffle=True)


def chunks(n):
    return (max(1, min(n, 131072)),)


def dt_ms(config):
    for scope in [config] + [v for v in config.values() if isinstance(v, dict)]:
        for key, factor in (("dt_ms", 1), ("dt_s", 1000), ("dt_sec", 1000), ("dt", 1)):
            v = scope.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                return v * factor
    return 1.0


def open_experiment(path):
    if os.path.isdir(path):
        path = os.path.join(path, "experiment_data.h5")
    return h5py.File(path, "r")


def timeline(src):
    ep = src["episodes"]
    first = ep["first_timestep"][()]
    last = ep["last_timestep"][()]
    steps = ep["total_timesteps"][()]
    length = np.where(steps > 0, last - first + 1, 0)
    offset = np.concatenate([[0], np.cumsum(length)[:-1]])
    return first, length, offset


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def typed(obj, ns, t):
    obj.attrs["namespace"] = ns
    obj.attrs["neurodata_type"] = t
    obj.attrs["object_id"] = str(uuid.uuid4())


def table(g, ns, t, description, cols, n):
    typed(g, ns, t)
    g.attrs["description"] = description
    for name, data, desc in cols:
        d = g.create_dataset(name, data=data, chunks=chunks(len(data)) if len(data) else None, **(GZ if np.asarray(data).dtype.kind in "iuf" and len(data) else {}))
        typed(d, "hdmf-common", "VectorData")
        d.attrs["description"] = desc
    ids = g.create_dataset("id", data=np.arange(n, dtype=np.int64))
    typed(ids, "hdmf-common", "ElementIdentifiers")
    g.attrs["colnames"] = [c[0] for c in cols]


def series(g, name, ns_type, data, t):
    s = g.create_group(name)
    typed(s, "core", ns_type)
    s.attrs["description"] = f"variable {name}"
    s.attrs["comments"] = "exported by the h5py peer"
    d = s.create_dataset("data", data=data, chunks=(max(1, min(len(data), 131072)),) + data.shape[1:] if len(data) else None, **(GZ if len(data) else {}))
    d.attrs["unit"] = "a.u."
    d.attrs["conversion"] = np.float32(1)
    d.attrs["resolution"] = np.float32(-1)
    d.attrs["offset"] = np.float32(0)
    ts = s.create_dataset("timestamps", data=t, chunks=chunks(len(t)) if len(t) else None, **(GZ if len(t) else {}))
    ts.attrs["interval"] = np.int32(1)
    ts.attrs["unit"] = "seconds"


def spikes_of(src, ep, i):
    a, b = ep["step_rows"][i]
    s0, s1 = ep["spike_rows"][i]
    steps = src["timesteps"][a:b]
    counts = src["spikes/counts"][a:b]
    return np.repeat(steps, counts), src["spikes/neuron_ids"][s0:s1]


def sonata(src, out):
    dt = dt_ms(json.loads(src["config/json"][()]))
    ep = src["episodes"]
    first, length, offset = timeline(src)
    times, ids, rows = [], [], []
    n = 0
    for i in range(len(first)):
        t, nid = spikes_of(src, ep, i)
        times.append((offset[i] + t - first[i]) * dt)
        ids.append(nid.astype(np.uint64))
        rows.append((n, n + len(nid)))
        n += len(nid)
    with h5py.File(out, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        g = f.create_group("spikes/snn")
        g.attrs.create("sorting", 2, dtype=h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1"))
        t = np.concatenate(times) if times else np.zeros(0)
        d = g.create_dataset("timestamps", data=t, chunks=chunks(len(t)), **GZ)
        d.attrs["units"] = "ms"
        g.create_dataset("node_ids", data=np.concatenate(ids) if ids else np.zeros(0, np.uint64), chunks=chunks(len(t)), **GZ)
        e = f.create_group("snn_export/episodes")
        e.create_dataset("episode_id", data=ep["episode_id"][()])
        e.create_dataset("start_ms", data=offset * dt)
        e.create_dataset("stop_ms", data=(offset + length) * dt)
        e.create_dataset("spike_rows", data=np.array(rows, dtype=np.int64).reshape(-1, 2))


def nwb(src, out):
    config = json.loads(src["config/json"][()])
    dt = dt_ms(config)
    ep = src["episodes"]
    first, length, offset = timeline(src)
    n_ep = len(first)
    sec = lambda i, t: (offset[i] + t - first[i]) * dt / 1000
    with h5py.File(out, "w") as f:
        typed(f, "core", "NWBFile")
        f.attrs["nwb_version"] = "2.6.0"
        start = text(src.attrs["start_time"])
        f.create_dataset("file_create_date", data=[datetime.datetime.now(datetime.timezone.utc).isoformat()], dtype=h5py.string_dtype())
        f["identifier"] = str(uuid.uuid4())
        f["session_description"] = "exported by the h5py peer"
        f["session_start_time"] = start
        f["timestamps_reference_time"] = start
        for g in ("acquisition", "analysis", "processing", "stimulus/presentation", "stimulus/templates", "general", "intervals"):
            f.require_group(g)
        f["general/notes"] = f"dt = {dt} ms"
        f["general/protocol"] = json.dumps(config)

        # units: all spikes, grouped by neuron with a stable argsort
        times, ids = [], []
        for i in range(n_ep):
            t, nid = spikes_of(src, ep, i)
            times.append(sec(i, t))
            ids.append(nid)
        t = np.concatenate(times) if times else np.zeros(0)
        nid = np.concatenate(ids) if ids else np.zeros(0, np.uint32)
        n_units = int(src["network_structure"].attrs.get("n_neurons", nid.max() + 1 if len(nid) else 0))
        order = np.argsort(nid, kind="stable")
        counts = np.bincount(nid, minlength=n_units)
        u = f.create_group("units")
        types = [text(x) for x in src["network_structure/neurons/types"][()]] if "network_structure/neurons/types" in src else None
        cols = [("spike_times", t[order], "spike times (s)")]
        if types:
            cols.append(("neuron_type", np.array(types, dtype=object), "neuron type"))
        table(u, "core", "Units", "every neuron", cols, n_units)
        u["neuron_type"][...] if types else None
        idx = u.create_dataset("spike_times_index", data=np.cumsum(counts).astype(np.uint64), **GZ)
        typed(idx, "hdmf-common", "VectorIndex")
        idx.attrs["description"] = "index into spike_times"
        idx.attrs["target"] = u["spike_times"].ref

        # trials
        table(f.create_group("intervals/trials"), "core", "TimeIntervals", "one trial per episode", [
            ("start_time", offset * dt / 1000, "start"), ("stop_time", (offset + length) * dt / 1000, "stop"),
            ("episode_id", ep["episode_id"][()], "episode"), ("success", ep["success"][()], "success"),
            ("total_reward", ep["total_reward"][()], "reward"), ("steps", ep["total_timesteps"][()], "steps"),
            ("spikes", ep["total_spikes"][()], "spikes"), ("first_timestep", first, "first timestep"),
        ], n_ep)

        # neural state and behaviour
        pm = f.create_group("processing/neural_state")
        typed(pm, "core", "ProcessingModule")
        pm.attrs["description"] = "neural state"
        for name in src["neural_states"]:
            if name == "timesteps":
                continue
            parts, ts = [], []
            for i in range(n_ep):
                k0, k1 = ep["state_rows"][i]
                parts.append(src["neural_states"][name][k0:k1])
                ts.append(sec(i, src["neural_states/timesteps"][k0:k1]))
            series(pm, name, "TimeSeries", np.concatenate(parts), np.concatenate(ts))
        bm = f.create_group("processing/behavior")
        typed(bm, "core", "ProcessingModule")
        bm.attrs["description"] = "behaviour"
        pos = bm.create_group("Position")
        typed(pos, "core", "Position")
        for name in src["behavior"]:
            parts, ts = [], []
            for i in range(n_ep):
                a, b = ep["step_rows"][i]
                parts.append(src["behavior"][name][a:b])
                ts.append(sec(i, src["timesteps"][a:b]))
            series(pos, name, "SpatialSeries", np.concatenate(parts), np.concatenate(ts))
        rt, rv = [], []
        for i in range(n_ep):
            r0, r1 = ep["reward_rows"][i]
            rt.append(sec(i, src["rewards/timesteps"][r0:r1]))
            rv.append(src["rewards/values"][r0:r1])
        series(bm, "rewards", "TimeSeries", np.concatenate(rv), np.concatenate(rt))


def main():
    fmt, path, out = sys.argv[1:4]
    started = time.perf_counter()
    with open_experiment(path) as src:
        (nwb if fmt == "nwb" else sonata)(src, out)
    # the conversion alone, after the imports (h5py + numpy take ~0.3-0.9 s to import here)
    print(f"converted in {time.perf_counter() - started:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
