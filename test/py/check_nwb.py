#!/usr/bin/env python3
"""Checks an NWB 2.6.0 file written by snn-export with h5py alone, beside hdmf's validator (which
misses omissions such as a TimeSeries without `data` or a missing `unit`).

usage: /usr/bin/python3 check_nwb.py FILE.nwb EXPECTED.json
       /usr/bin/python3 check_nwb.py FILE.nwb -          (part 1 only: no values to compare)

1. Required parts (NWB 2.6.0 core, hdmf-common 1.x), for every object of the file:
   - root: attributes nwb_version "2.6.0", namespace "core", neurodata_type "NWBFile", object_id;
     datasets identifier, session_description (text), session_start_time and
     timestamps_reference_time (ISO 8601 with a time zone), file_create_date (1-D, ISO 8601);
     groups acquisition, analysis, processing, stimulus/presentation, stimulus/templates, general;
   - every object with neurodata_type has namespace and a UUID object_id; object ids are unique;
   - every DynamicTable (Units, TimeIntervals, DynamicTable): description, colnames naming existing
     VectorData (each with description), an `id` ElementIdentifiers, all columns as long as `id`
     (a ragged column through its `<name>_index` VectorIndex, whose `target` is an object reference
     to the column and whose last value is the column's length);
   - every TimeSeries / SpatialSeries: `data` with `unit`, and `timestamps` (float64, as many as data
     rows, attributes interval 1 and unit "seconds") or `starting_time` with `rate`;
     every ProcessingModule a description; Position holds at least one SpatialSeries.
2. Values, against EXPECTED.json (written by the test from its inputs): the spike times of every
   unit, neuron types, the trials table, events, every series (timestamps and data, NaN where the
   expected value is null), rewards, the network tables and the weight changes. Floats compare
   exactly (the test computes them with the same formula); prints the number compared.
Exit status 1 with one line per problem.
"""
import json
import re
import sys
import uuid

import h5py
import numpy as np

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
problems = []
compared = {"values": 0, "datasets": 0}


def fail(msg):
    problems.append(msg)


def text(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == ():
        return text(v[()])
    return v


def attr(obj, name):
    return text(obj.attrs[name]) if name in obj.attrs else None


def check_required(f):
    if attr(f, "nwb_version") != "2.6.0":
        fail(f"root nwb_version is {attr(f, 'nwb_version')!r}")
    if attr(f, "namespace") != "core" or attr(f, "neurodata_type") != "NWBFile":
        fail("root is not core:NWBFile")
    for name in ("identifier", "session_description", "session_start_time", "timestamps_reference_time", "file_create_date"):
        if name not in f or not isinstance(f[name], h5py.Dataset):
            fail(f"/{name} missing")
    for name in ("identifier", "session_description"):
        if name in f and (f[name].shape != () or not text(f[name][()])):
            fail(f"/{name} is not a non-empty scalar text")
    for name in ("session_start_time", "timestamps_reference_time"):
        if name in f and not ISO.match(text(f[name][()])):
            fail(f"/{name} {text(f[name][()])!r} is not ISO 8601 with a time zone")
    if "file_create_date" in f:
        d = f["file_create_date"]
        if d.ndim != 1 or d.shape[0] < 1 or not all(ISO.match(text(x)) for x in d[()]):
            fail("/file_create_date is not a 1-D list of ISO 8601 dates")
    for g in ("acquisition", "analysis", "processing", "stimulus/presentation", "stimulus/templates", "general"):
        if g not in f or not isinstance(f[g], h5py.Group):
            fail(f"/{g} missing")

    ids = {}
    objects = [("/", f)]
    f.visititems(lambda n, o: objects.append(("/" + n, o)))
    for path, o in objects:
        t = attr(o, "neurodata_type")
        if t is None:
            continue
        if attr(o, "namespace") not in ("core", "hdmf-common"):
            fail(f"{path}: namespace {attr(o, 'namespace')!r}")
        oid = attr(o, "object_id")
        try:
            uuid.UUID(oid)
        except (TypeError, ValueError):
            fail(f"{path}: object_id {oid!r} is not a UUID")
        if oid in ids:
            fail(f"{path}: object_id {oid} also on {ids[oid]}")
        ids[oid] = path
        if t in ("DynamicTable", "Units", "TimeIntervals"):
            check_table(f, path, o)
        if t in ("TimeSeries", "SpatialSeries"):
            check_series(path, o)
        if t == "ProcessingModule" and not attr(o, "description"):
            fail(f"{path}: ProcessingModule without description")
        if t == "Position" and not any(attr(c, "neurodata_type") == "SpatialSeries" for c in o.values()):
            fail(f"{path}: Position without a SpatialSeries")
    return len(objects), len(ids)


def check_table(f, path, g):
    if attr(g, "description") is None:
        fail(f"{path}: table without description")
    if "colnames" not in g.attrs:
        fail(f"{path}: table without colnames")
        return
    if "id" not in g or attr(g["id"], "neurodata_type") != "ElementIdentifiers":
        fail(f"{path}: table without id ElementIdentifiers")
        return
    n = g["id"].shape[0]
    if not np.array_equal(g["id"][()], np.arange(n)):
        fail(f"{path}/id is not 0..{n - 1}")
    for c in [text(x) for x in g.attrs["colnames"]]:
        if c not in g:
            fail(f"{path}: column {c} in colnames is missing")
            continue
        col = g[c]
        if attr(col, "neurodata_type") != "VectorData" or attr(col, "description") is None:
            fail(f"{path}/{c}: not a VectorData with description")
        if c + "_index" in g:
            idx = g[c + "_index"]
            if attr(idx, "neurodata_type") != "VectorIndex" or attr(idx, "description") is None:
                fail(f"{path}/{c}_index: not a VectorIndex with description")
            ref = idx.attrs.get("target")
            if not isinstance(ref, h5py.Reference):
                fail(f"{path}/{c}_index: target is not an object reference ({type(ref).__name__})")
            elif f[ref].name != col.name:
                fail(f"{path}/{c}_index: target points at {f[ref].name}, not {col.name}")
            if idx.shape[0] != n:
                fail(f"{path}/{c}_index has {idx.shape[0]} rows, id {n}")
            ends = idx[()]
            if n and (ends[-1] != col.shape[0] or np.any(np.diff(ends.astype(np.int64)) < 0)):
                fail(f"{path}/{c}_index does not end at {col.shape[0]} or decreases")
        elif col.shape[0] != n:
            fail(f"{path}/{c} has {col.shape[0]} rows, id {n}")


def check_series(path, g):
    if "data" not in g:
        fail(f"{path}: TimeSeries without data")
        return
    if attr(g["data"], "unit") is None:
        fail(f"{path}/data without unit")
    rows = g["data"].shape[0] if g["data"].ndim else 1
    if "timestamps" in g:
        ts = g["timestamps"]
        if ts.dtype != np.float64 or ts.shape != (rows,):
            fail(f"{path}/timestamps: {ts.dtype} {ts.shape}, data has {rows} rows")
        if attr(ts, "unit") != "seconds" or ts.attrs.get("interval") != 1:
            fail(f"{path}/timestamps: attributes unit/interval missing")
        if rows > 1 and np.any(np.diff(ts[()]) < 0):
            fail(f"{path}/timestamps decrease")
    elif "starting_time" in g:
        if "rate" not in g["starting_time"].attrs:
            fail(f"{path}/starting_time without rate")
    else:
        fail(f"{path}: neither timestamps nor starting_time")


def same(label, got, want):
    got = np.asarray(got)
    want_a = np.array([np.nan if x is None else x for x in np.ravel(np.array(want, dtype=object))], dtype=np.float64) if got.dtype.kind == "f" else np.asarray(want)
    g = got.ravel() if got.dtype.kind != "O" else np.array([text(x) for x in got.ravel()], dtype=object)
    w = want_a.ravel() if hasattr(want_a, "ravel") else want_a
    if g.dtype.kind == "f":
        ok = g.shape == w.shape and np.array_equal(g.astype(np.float64), w.astype(np.float64), equal_nan=True)
    else:
        ok = g.shape == w.shape and all(a == b for a, b in zip(g.tolist(), w.tolist()))
    compared["datasets"] += 1
    compared["values"] += int(w.size)
    if not ok:
        fail(f"{label}: values differ (got {g[:8].tolist()}..., shape {g.shape}; want {w[:8].tolist()}..., shape {w.shape})")


def check_values(f, exp):
    u = f["units"]
    ends = u["spike_times_index"][()].astype(np.int64)
    st = u["spike_times"][()]
    if u["id"].shape[0] != exp["n_units"]:
        fail(f"units: {u['id'].shape[0]} units, want {exp['n_units']}")
    starts = np.concatenate([[0], ends[:-1]])
    for i, want in enumerate(exp["unit_times"]):
        if i < len(ends):
            same(f"units spike_times of unit {i}", st[starts[i]:ends[i]], want)
    if st.dtype != np.float64:
        fail(f"units/spike_times dtype {st.dtype}")
    same("units/neuron_type", u["neuron_type"][()], exp["neuron_types"])

    tr = f["intervals/trials"]
    for col in ("start_time", "stop_time", "episode_id", "success", "total_reward", "steps", "spikes", "first_timestep", "status"):
        same(f"trials/{col}", tr[col][()], [row[col] for row in exp["trials"]])

    ev = exp["events"]
    if ev["t"]:
        e = f["intervals/events"]
        same("events/start_time", e["start_time"][()], ev["t"])
        same("events/stop_time", e["stop_time"][()], ev["t"])
        same("events/event_type", e["event_type"][()], ev["type"])
        same("events/data", e["data"][()], ev["data"])
        same("events/episode_id", e["episode_id"][()], ev["episode"])

    for name, s in exp["series"].items():
        p = "processing/" + name
        if p not in f:
            fail(f"/{p} missing")
            continue
        same(f"{p}/timestamps", f[p]["timestamps"][()], s["t"])
        same(f"{p}/data", f[p]["data"][()], s["data"])

    r = f["processing/behavior/rewards"]
    same("rewards/timestamps", r["timestamps"][()], exp["rewards"]["t"])
    same("rewards/data", r["data"][()], exp["rewards"]["v"])

    nn = f["analysis/network_neurons"]
    for k, v in exp["network_neurons"].items():
        same(f"network_neurons/{k}", nn[k][()], v)
    iw = f["analysis/initial_weights"]
    for k, v in exp["initial_weights"].items():
        same(f"initial_weights/{k}", iw[k][()], v)
    wc = exp["weight_changes"]
    if wc["t"]:
        g = f["analysis/weight_changes"]
        for col, key in (("time", "t"), ("synapse_id", "syn"), ("source_id", "src"), ("target_id", "dst"), ("old_weight", "old"), ("new_weight", "new"), ("episode_id", "episode")):
            same(f"weight_changes/{col}", g[col][()], wc[key])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exp = None
    if sys.argv[2] != "-":
        with open(sys.argv[2]) as fh:
            exp = json.load(fh)
    with h5py.File(sys.argv[1], "r") as f:
        objects, typed = check_required(f)
        if not problems and exp is not None:
            check_values(f, exp)
    for p in problems:
        print(" -", p)
    if problems:
        print(f"FAILED {sys.argv[1]}: {len(problems)} problems")
        sys.exit(1)
    print(f"OK {sys.argv[1]}: {objects} objects ({typed} typed) have their required parts; "
          f"compared {compared['values']} values in {compared['datasets']} datasets, all equal")


if __name__ == "__main__":
    main()
