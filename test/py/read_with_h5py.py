#!/usr/bin/env python3
"""Read an snn-export file with plain h5py + numpy, following FORMAT.md only, and check it.

Usage: read_with_h5py.py FILE.h5 EXPECTED.json

EXPECTED.json holds what the TypeScript test gave the exporter (see test/interop.test.ts), episode
by episode. Every rule this script applies on top of those values (format 2.0's experiment-wide
streams and episode table, row ranges, first_row padding, dtypes, sorting, sparse encodings,
chunks, filters) comes from FORMAT.md, not from snn-export's code: this is what a Python user with
h5py, numpy and FORMAT.md can rely on. The h5py recipe of FORMAT.md ("One episode in h5py") is
executed on the file as written there.

Prints "OK <n> checks" and exits 0 when everything matches; otherwise prints every mismatch
(path: what was expected, what was found) and exits 1. Exit 2 on bad usage.
"""
import datetime
import gzip, hashlib
import json
import math
import os
import re
import sys

import h5py
import numpy as np

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FORMAT_MD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "FORMAT.md")
# FORMAT.md "The episode table": numeric columns (name, dtype, is a [N, 2] row range); `summary` is text
RANGES = ["step_rows", "spike_rows", "state_rows", "reward_rows", "weight_change_rows", "event_rows"]
TABLE = [("episode_id", "int64", False), ("status", "int8", False), ("success", "int8", False),
         ("total_timesteps", "int64", False), ("total_spikes", "int64", False), ("total_reward", "float64", False),
         ("first_timestep", "int64", False), ("last_timestep", "int64", False), ("neural_sampling_rate", "int64", False),
         ("start_time", "float64", False), ("end_time", "float64", False)] + [(r, "int64", True) for r in RANGES]
STATUS_CODES = {0: "running", 1: "completed", 2: "incomplete"}
TIME_UNITS = "seconds since 1970-01-01T00:00:00Z"
# FORMAT.md "HDF5 profile": rows per chunk of the streams and the table
SPIKE_ID_CHUNK, RECORD_CHUNK, TABLE_CHUNK, STATE_CHUNK_BYTES = 65536, 4096, 4096, 1 << 20
WEIGHT_CHANGE_FIELDS = [("timesteps", "int64"), ("synapse_ids", "int64"), ("source_ids", "int64"),
                        ("target_ids", "int64"), ("old_weights", "float64"), ("new_weights", "float64")]


class Mismatch(Exception):
    pass


def short(x, n=300):
    s = repr(x.tolist() if isinstance(x, np.ndarray) else x)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def loc(path):
    """An HDF5 path as printed in messages: always absolute."""
    return "/" + path.lstrip("/")


def rows_owned(ep):
    """The rows an episode owns in each stream (by range column), from what was logged."""
    return {
        "step_rows": len(ep["timesteps"]),
        "spike_rows": sum(len(s) for s in ep["spikes_per_step"]),
        "state_rows": len(ep["neural"]["timesteps"]),
        "reward_rows": sum(1 for r in ep["rewards_per_step"] if r != 0),  # sparse: the non-zero ones
        "weight_change_rows": len(ep["weight_changes"]),
        "event_rows": len(ep["events"]),
    }


def iso_seconds(v):
    """Unix seconds of an ISO 8601 UTC string attribute, or None."""
    if isinstance(v, bytes):
        v = v.decode("utf-8")
    if not isinstance(v, str) or not ISO_UTC.match(v):
        return None
    return datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()


def smallest_unsigned(max_value):
    """FORMAT.md: the smallest unsigned int that holds max_value."""
    for name, top in (("uint8", 0xFF), ("uint16", 0xFFFF), ("uint32", 0xFFFFFFFF)):
        if max_value <= top:
            return name
    return "uint64"


class Reader:
    def __init__(self, f, expected, path):
        self.f = f
        self.x = expected
        self.path = path
        self.cache = {}  # stream and table columns, read once, sliced per episode
        self.table = {}
        self.vars, self.beh = {}, {}
        self.recipe_runs = []
        self.checks = 0
        self.failures = []
        self.seen = set()  # object addresses read by this script (hard links share one)

    # ---------------------------------------------------------------- bookkeeping
    def ok(self, cond, where, msg):
        self.checks += 1
        if not cond:
            self.failures.append(f"{where}: {msg}")
        return bool(cond)

    def section(self, where, fn, *args):
        """Runs one part of the reading; a missing object or a raised error becomes a mismatch."""
        try:
            fn(*args)
        except Mismatch as e:
            self.failures.append(f"{where}: {e}")
        except KeyError as e:
            self.failures.append(f"{where}: missing object or attribute ({e})")
        except Exception as e:  # noqa: BLE001 - every failure must be reported, not crash
            self.failures.append(f"{where}: {type(e).__name__}: {e}")

    def mark(self, obj):
        self.seen.add(h5py.h5o.get_info(obj.id).addr)
        return obj

    def group(self, path):
        obj = self.f.get(path)
        if not isinstance(obj, h5py.Group):
            raise Mismatch(f"group {path} is missing (found {type(obj).__name__ if obj is not None else 'nothing'})")
        return self.mark(obj)

    def dataset(self, path):
        obj = self.f.get(path)
        if not isinstance(obj, h5py.Dataset):
            raise Mismatch(f"dataset {path} is missing (found {type(obj).__name__ if obj is not None else 'nothing'})")
        return self.mark(obj)

    # ---------------------------------------------------------------- typed reads
    def attr(self, obj, name):
        """The attribute's value, or None (a recorded mismatch) when it is missing."""
        if not self.ok(name in obj.attrs, f"{obj.name}@{name}", f"attribute is missing (has {sorted(obj.attrs.keys())})"):
            return None
        return obj.attrs[name]

    def attr_dtype(self, obj, name):
        return obj.attrs.get_id(name).dtype

    def attr_str(self, obj, name, expected=None):
        v = self.attr(obj, name)
        if v is None:
            return None
        where = f"{obj.name}@{name}"
        info = h5py.check_string_dtype(self.attr_dtype(obj, name))
        self.ok(info is not None and info.length is None and info.encoding == "utf-8", where,
                f"expected a variable-length UTF-8 string attribute, got dtype {self.attr_dtype(obj, name)}")
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        self.ok(isinstance(v, str), where, f"expected a string, got {short(v)}")
        if expected is not None:
            self.ok(v == expected, where, f"expected {expected!r}, got {v!r}")
        return v

    def attr_num(self, obj, name, dtype, expected=None, shape=()):
        v = self.attr(obj, name)
        if v is None:
            return None
        where = f"{obj.name}@{name}"
        dt = self.attr_dtype(obj, name)
        self.ok(dt == np.dtype(dtype), where, f"expected dtype {dtype}, got {dt}")
        self.ok(np.shape(v) == tuple(shape), where, f"expected shape {tuple(shape)}, got {np.shape(v)}")
        if expected is not None:
            self.ok(np.array_equal(np.asarray(v), np.asarray(expected)), where,
                    f"expected {short(expected)}, got {short(np.asarray(v))}")
        return v

    def attr_time(self, obj, name):
        v = self.attr_str(obj, name)
        if v is None:
            return None
        self.ok(ISO_UTC.match(v) is not None, f"{obj.name}@{name}", f"expected ISO 8601 UTC time, got {v!r}")
        return v

    def text(self, path):
        """FORMAT.md "JSON text": scalar variable-length UTF-8 string dataset -> json.loads(ds[()])."""
        ds = self.dataset(path)
        info = h5py.check_string_dtype(ds.dtype)
        self.ok(info is not None and info.length is None and info.encoding == "utf-8", loc(path),
                f"expected variable-length UTF-8 string, got dtype {ds.dtype}")
        self.ok(ds.shape == (), loc(path), f"expected a scalar dataset, got shape {ds.shape}")
        raw = ds[()]
        try:
            return json.loads(raw)
        except ValueError as e:
            raise Mismatch(f"{path} is not JSON text ({e}): {short(raw)}")

    def strings(self, path, expected=None):
        ds = self.dataset(path)
        info = h5py.check_string_dtype(ds.dtype)
        self.ok(info is not None and info.length is None and info.encoding == "utf-8", loc(path),
                f"expected variable-length UTF-8 strings, got dtype {ds.dtype}")
        self.ok(ds.ndim == 1, loc(path), f"expected a 1-D string dataset, got shape {ds.shape}")
        vals = [s.decode("utf-8") if isinstance(s, bytes) else s for s in ds[()]]
        if expected is not None:
            self.ok(vals == list(expected), loc(path), f"expected {short(expected)}, got {short(vals)}")
        return vals

    def numeric(self, path, dtype, shape=None, data=None):
        """A numeric dataset of `dtype`; `data` is flat row-major, None meaning NaN."""
        ds = self.dataset(path)
        self.ok(ds.dtype == np.dtype(dtype), loc(path), f"expected dtype {dtype}, got {ds.dtype}")
        if shape is not None:
            self.ok(ds.shape == tuple(shape), loc(path), f"expected shape {tuple(shape)}, got {ds.shape}")
        arr = ds[()]
        if data is not None:
            floats = np.dtype(dtype).kind == "f" or ds.dtype.kind == "f"
            want = np.array([math.nan if v is None else v for v in data], dtype=np.float64 if floats else np.int64)
            got = np.asarray(arr).reshape(-1)
            if got.shape != want.shape:
                self.ok(False, loc(path), f"expected {want.size} values, got {got.size}: {short(got)}")
            else:
                # exact: a float32 value is compared as the float64 the TS test saw in its Float32Array
                g = got.astype(np.float64) if floats else got.astype(np.int64)
                if floats:
                    bad = np.flatnonzero(~((g == want) | (np.isnan(g) & np.isnan(want))))
                else:
                    bad = np.flatnonzero(g != want)
                i = int(bad[0]) if bad.size else 0
                self.ok(bad.size == 0, loc(path), f"values differ at flat index {i}: expected {short(want[i] if bad.size else None)}, "
                        f"got {short(g[i] if bad.size else None)} ({bad.size} differences; expected {short(want)}, got {short(g)})")
        return arr

    def json_equal(self, where, got, expected):
        return self.ok(got == expected, where, f"expected {short(expected)}, got {short(got)}")

    # ---------------------------------------------------------------- whole file
    def run(self):
        x = self.x
        self.mark(self.f)
        self.section("/ (root attributes)", self.read_root)
        self.section("/config", self.read_config)
        self.section("/metadata", self.read_metadata)
        self.section("/network_structure", self.read_network)
        try:
            self.plan()
        except Mismatch as e:
            self.failures.append(f"EXPECTED.json: {e}")
            return
        self.section("/episodes (the episode table)", self.read_table)
        self.section("streams (/timesteps, /spikes, /neural_states, /behavior, /rewards, /weight_changes, /events)", self.read_streams)
        if self.table and all(p in self.cache for p in ("timesteps", "spikes/counts", "spikes/neuron_ids", "neural_states/timesteps",
                                                         "rewards/timesteps", "rewards/values", "events/types", "events/data")):
            for ep in x["episodes"]:
                self.section(f"episode {ep['id']}", self.read_episode, ep)
        else:
            self.failures.append("episodes: not read, the episode table or a stream could not be read (see above)")
        self.section("/episode_static", self.read_static)
        if x.get("format_recipe"):
            self.section("FORMAT.md recipe \"One episode in h5py\"", self.read_recipe)
        self.section("/checkpoints", self.read_checkpoints)
        self.section("file profile (dtypes, strings, chunks, filters)", self.read_profile)
        self.section("coverage", self.read_coverage)

    def read_root(self):
        f, x = self.f, self.x["root"]
        self.attr_str(f, "format_name", "snn-export")
        self.attr_str(f, "format_version", "2.0")
        self.attr_str(f, "layout", "optimized")
        self.attr_str(f, "experiment_name", x["experiment_name"])
        start = self.attr_time(f, "start_time")
        end = self.attr_time(f, "end_time")
        self.ok(None in (start, end) or start <= end, "/@end_time", f"end_time {end} is before start_time {start}")
        self.attr_str(f, "status", "closed")
        self.attr_num(f, "episode_count", "int64", len(self.x["episodes"]))
        opts = json.loads(self.attr_str(f, "exporter_options") or "{}")
        for k, v in x["exporter_options"].items():
            self.ok(opts.get(k) == v, "/@exporter_options", f"option {k}: expected {v!r}, got {opts.get(k)!r}")
        creator = self.attr_str(f, "creator") or ""
        # FORMAT.md: snn-export's version and the write engine
        self.ok("snn-export" in creator and ("TypeScript" in creator or "h5wasm" in creator), "/@creator", f"expected snn-export and its write engine, got {creator!r}")
        for g in ("config", "metadata", "network_structure", "episodes", "checkpoints", "spikes", "neural_states",
                  "behavior", "rewards", "weight_changes", "events"):
            self.ok(isinstance(f.get(g), h5py.Group), f"/{g}", "top-level group is missing")
        self.ok(isinstance(f.get("timesteps"), h5py.Dataset), "/timesteps", "top-level dataset is missing")

    def read_config(self):
        g = self.group("config")
        want = self.x["config"]
        cfg = self.text("config/json")
        self.json_equal("/config/json", cfg, want)
        # attributes: a convenience copy of every top-level number / string (<= 1024 chars) / boolean
        scalars = {k: v for k, v in cfg.items()
                   if isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 1024)}
        for k, v in scalars.items():
            where = f"/config@{k}"
            if not self.ok(k in g.attrs, where, f"top-level key {k}={short(v)} has no attribute copy"):
                continue
            got = g.attrs[k]
            if isinstance(v, bool):
                self.ok(self.attr_dtype(g, k) == np.int8 and int(got) == int(v), where,
                        f"boolean {v} should be int8 {int(v)}, got {short(got)} ({self.attr_dtype(g, k)})")
            elif isinstance(v, str):
                self.attr_str(g, k, v)
            else:
                self.ok(np.ndim(got) == 0 and float(got) == float(v), where, f"expected {v!r}, got {short(got)}")
        for k in g.attrs:
            self.ok(k in scalars, f"/config@{k}",
                    f"attribute {short(g.attrs[k])} does not match config/json, where {k!r} is "
                    f"{short(cfg[k]) if k in cfg else 'absent'}")

    def read_metadata(self):
        self.group("metadata")
        self.json_equal("/metadata/user", self.text("metadata/user"), self.x["metadata"])
        self.read_provenance()

    def read_provenance(self):
        f = self.f
        if "metadata/runtime" in f:
            rt = self.text("metadata/runtime")
            self.ok(isinstance(rt.get("versions"), dict) and "snnExport" in rt["versions"], "/metadata/runtime", f"no versions: {short(rt)}")
        if "metadata/git" in f:
            g = self.text("metadata/git")
            self.ok(isinstance(g.get("available"), bool) and "diff" not in g, "/metadata/git", f"unexpected: {short(g)}")
            if "metadata/git_diff" in f:
                ds = self.dataset("metadata/git_diff")
                self.ok(h5py.check_string_dtype(ds.dtype) is not None and ds.shape == (), "/metadata/git_diff", "expected scalar text")
        if "metadata/code_snapshot" in f:
            g = self.group("metadata/code_snapshot")
            self.attr_str(g, "root")
            for e in self.text("metadata/code_snapshot/index"):
                if not e["stored"]:
                    self.ok(isinstance(e.get("reason"), str), "/metadata/code_snapshot/index", f"skipped without reason: {short(e)}")
                    continue
                ds = self.dataset(f"metadata/code_snapshot/{e['dataset']}")
                self.ok(ds.dtype == np.uint8 and ds.ndim == 1, loc(ds.name), f"expected 1-D uint8, got {ds.dtype} {ds.shape}")
                raw = gzip.decompress(ds[:].tobytes())
                self.attr_str(ds, "encoding", "gzip"); self.attr_str(ds, "path", e["path"])
                self.attr_str(ds, "sha256", hashlib.sha256(raw).hexdigest()); self.attr_num(ds, "size", "int64", len(raw))

    # ---------------------------------------------------------------- entries
    def read_entry(self, path, e):
        """One stored value: a dataset, a string list, a CSR group or JSON text."""
        kind = e["kind"]
        if kind == "dataset":
            self.numeric(path, e["dtype"], e["shape"], e["data"])
        elif kind == "strings":
            self.strings(path, e["values"])
        elif kind == "json":
            ds = self.dataset(path)
            self.attr_str(ds, "encoding", "json")
            self.json_equal(loc(path), self.text(path), e["value"])
        elif kind == "csr":
            self.read_csr(path, e["weights"])
        else:
            raise Mismatch(f"EXPECTED.json: unknown entry kind {kind!r}")

    def expected_csr(self, w):
        """The CSR matrix FORMAT.md promises for the caller's dense / COO / CSR input."""
        rows, cols = w["shape"]
        if w["source_format"] == "dense":
            dense = np.array(w["dense"], dtype=np.float64).reshape(rows, cols)
            r, c = np.nonzero(dense)  # row-major order, non-zero entries only
            data = dense[r, c]
        elif w["source_format"] == "coo":
            src, dst, vals = w["coo"]["rows"], w["coo"]["cols"], w["coo"]["values"]
            order = sorted(range(len(src)), key=lambda i: (src[i], dst[i]))  # stable: repeats keep input order
            r = np.array([src[i] for i in order], dtype=np.int64)
            c = np.array([dst[i] for i in order], dtype=np.int64)
            data = np.array([vals[i] for i in order], dtype=np.float64)
        else:
            return (np.array(w["csr"]["indptr"], dtype=np.int64), np.array(w["csr"]["indices"], dtype=np.int64),
                    np.array(w["csr"]["data"], dtype=np.float64))
        indptr = np.zeros(rows + 1, dtype=np.int64)
        np.add.at(indptr, np.asarray(r, dtype=np.int64) + 1, 1)
        return np.cumsum(indptr), np.asarray(c, dtype=np.int64), data

    def read_csr(self, path, w):
        g = self.group(path)
        rows, cols = w["shape"]
        self.attr_str(g, "format", "csr")
        self.attr_str(g, "source_format", w["source_format"])
        self.attr_num(g, "shape", "int64", w["shape"], shape=(2,))
        indptr = self.numeric(f"{path}/indptr", "int64", (rows + 1,))
        indices = self.numeric(f"{path}/indices", "uint32" if cols < 2 ** 32 else "int64")
        data = self.numeric(f"{path}/data", w["dtype"])
        nnz = len(data)
        self.ok(indptr[0] == 0 and indptr[-1] == nnz and np.all(np.diff(indptr) >= 0), f"{loc(path)}/indptr",
                f"must start at 0, never decrease and end at nnz={nnz}: {short(indptr)}")
        self.ok(len(indices) == nnz, f"{loc(path)}/indices", f"expected nnz={nnz} entries, got {len(indices)}")
        if len(indices) == nnz and indptr[-1] == nnz:
            self.ok(all(np.all(np.diff(indices[indptr[r]:indptr[r + 1]].astype(np.int64)) >= 0) for r in range(rows)),
                    f"{loc(path)}/indices", f"columns are not sorted within a row: {short(indices)}")
            self.ok(np.all(indices < cols), f"{loc(path)}/indices", f"column ids must be < {cols}: {short(indices)}")
        want_ptr, want_idx, want_data = self.expected_csr(w)
        self.ok(np.array_equal(indptr, want_ptr), f"{loc(path)}/indptr", f"expected {short(want_ptr)}, got {short(indptr)}")
        self.ok(np.array_equal(indices.astype(np.int64), want_idx), f"{loc(path)}/indices",
                f"expected {short(want_idx)}, got {short(indices)}")
        self.ok(np.array_equal(data.astype(np.float64), want_data), f"{loc(path)}/data",
                f"expected {short(want_data)}, got {short(data)}")
        # the FORMAT.md recipe without scipy: rebuild the dense matrix from indptr/indices/data
        dense = np.zeros((rows, cols), dtype=np.float64)
        for r in range(rows):
            np.add.at(dense[r], indices[indptr[r]:indptr[r + 1]].astype(np.int64), data[indptr[r]:indptr[r + 1]])
        if w["source_format"] == "dense":
            self.ok(np.array_equal(dense, np.array(w["dense"], dtype=np.float64).reshape(rows, cols)), loc(path),
                    "the matrix rebuilt from CSR differs from the dense input")
            self.ok(np.all(data != 0), f"{loc(path)}/data", "dense input must keep only its non-zero entries")

    def read_record(self, path, fields):
        g = self.f.get(path)
        if g is None:
            self.ok(not fields, loc(path), f"group is missing; expected fields {sorted(fields)}")
            return
        self.mark(g)
        self.ok(set(g.keys()) == set(fields), loc(path), f"expected fields {sorted(fields)}, got {sorted(g.keys())}")
        for name, e in fields.items():
            self.section(f"{loc(path)}/{name}", self.read_entry, f"{loc(path)}/{name}", e)

    def read_network(self):
        g = self.group("network_structure")
        x = self.x["network"]
        if x["n_neurons"] is None:
            self.ok("n_neurons" not in g.attrs, "/network_structure@n_neurons", "the neuron count was never given")
        else:
            self.attr_num(g, "n_neurons", "int64", x["n_neurons"])
        self.read_record("network_structure/neurons", x["neurons"])
        self.read_record("network_structure/connections", x["connections"])
        if x["weights"] is None:
            self.ok("initial_weights" not in g, "/network_structure/initial_weights", "no weights were given")
        else:
            self.read_csr("network_structure/initial_weights", x["weights"])

    # ---------------------------------------------------------------- the plan (from EXPECTED.json + FORMAT.md)
    def plan(self):
        """What the streams and the episode table must hold, derived from the per-episode inputs in
        EXPECTED.json with FORMAT.md's rules only: the rows each episode owns in each stream (episode
        after episode, so episode i's ranges start where i-1's end), and for every neural state
        variable and behaviour key its dtype, row shape and `first_row` (the row at which it was
        first given)."""
        eps = self.x["episodes"]
        for e, ep in enumerate(eps):
            if ep["id"] != e:
                raise Mismatch(f"EXPECTED.json: episode {e} has id {ep['id']}; FORMAT.md: row i of the table is episode i")
            n = len(ep["timesteps"])
            if len(ep["spikes_per_step"]) != n or len(ep["rewards_per_step"]) != n:
                raise Mismatch(f"EXPECTED.json: episode {e}'s per-step lists differ in length")
        self.rows = {name: [] for name in RANGES}  # per episode: (first, end)
        at = dict.fromkeys(RANGES, 0)
        for ep in eps:
            for name, n in rows_owned(ep).items():
                self.rows[name].append((at[name], at[name] + n))
                at[name] += n
        self.totals = at  # each stream's length: the sum over the episodes
        self.vars = self.keyed("neural state variable", [ep["neural"]["variables"] for ep in eps], "state_rows")
        self.beh = self.keyed("behaviour key", [ep["behavior"] for ep in eps], "step_rows")

    def keyed(self, what, per_episode, range_name):
        """name -> {dtype, row_shape, first_row} of the variables (or behaviour keys) of the whole experiment."""
        specs = {}
        for e, table in enumerate(per_episode):
            first, end = self.rows[range_name][e]
            for name, v in table.items():
                s = specs.setdefault(name, {"dtype": v["dtype"], "row_shape": list(v["row_shape"]), "first_row": None})
                if (s["dtype"], s["row_shape"]) != (v["dtype"], list(v["row_shape"])):
                    raise Mismatch(f"EXPECTED.json: {what} {name} is {v['dtype']} {v['row_shape']} in episode {e} but "
                                   f"{s['dtype']} {s['row_shape']} before; FORMAT.md fixes both for the experiment")
                if len(v["rows"]) != end - first:
                    raise Mismatch(f"EXPECTED.json: {what} {name} has {len(v['rows'])} rows in episode {e}, expected {end - first}")
                given = [i for i, r in enumerate(v["rows"]) if r is not None]
                if given and s["first_row"] is None:
                    s["first_row"] = first + given[0]
        for name, s in specs.items():
            if s["first_row"] is None:
                raise Mismatch(f"EXPECTED.json: {what} {name} is listed but never given")
        return specs

    def keyed_rows(self, spec, given, n):
        """An episode's expected rows of a variable / behaviour key as float64 [n, *row_shape]:
        the values given, padding (NaN for floats, 0 for integers) where it was not given."""
        size = int(np.prod(spec["row_shape"], dtype=np.int64))
        out = np.full((n, size), math.nan if np.dtype(spec["dtype"]).kind == "f" else 0.0)
        if given is not None:
            for i, r in enumerate(given["rows"]):
                if r is not None:
                    out[i] = [math.nan if v is None else v for v in r]
        return out.reshape((n, *spec["row_shape"]))

    def same(self, where, got, want, what="values"):
        """Exact comparison of an array read from the file with the expected one (NaN equals NaN)."""
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape:
            return self.ok(False, where, f"{what}: expected shape {want.shape}, got {got.shape}: {short(got)}")
        if got.dtype.kind in "iu" and want.dtype.kind in "iu":
            bad = np.flatnonzero(got.astype(np.int64).reshape(-1) != want.astype(np.int64).reshape(-1))
        else:
            # a float32 value is compared as the float64 the TS test saw in its Float32Array
            g, w = got.astype(np.float64).reshape(-1), want.astype(np.float64).reshape(-1)
            bad = np.flatnonzero(~((g == w) | (np.isnan(g) & np.isnan(w))))
        if bad.size == 0:
            return self.ok(True, where, "")
        i = int(bad[0])
        return self.ok(False, where, f"{what} differ at flat index {i} ({bad.size} differences): expected "
                       f"{short(want.reshape(-1)[i])}, got {short(got.reshape(-1)[i])}; expected {short(want)}, got {short(got)}")

    def col(self, path, dtype, shape):
        """A stream or table column, checked for dtype and shape and read once (episodes slice it)."""
        if path not in self.cache:
            if dtype == "str":
                vals = self.strings(path)
                self.ok(len(vals) == shape[0], loc(path), f"expected {shape[0]} strings, got {len(vals)}")
                self.cache[path] = vals
            else:
                self.cache[path] = np.asarray(self.numeric(path, dtype, shape))
        return self.cache[path]

    # ---------------------------------------------------------------- the episode table
    def read_table(self):
        g = self.group("episodes")
        eps = self.x["episodes"]
        N = len(eps)
        names = {name for name, _, _ in TABLE} | {"summary"}
        self.ok(set(g.keys()) == names, "/episodes", f"expected the columns {sorted(names)}, got {sorted(g.keys())}")
        t = {}
        for name, dtype, is_range in TABLE:
            t[name] = self.col(f"episodes/{name}", dtype, (N, 2) if is_range else (N,))
        self.table = t

        self.same("/episodes/episode_id", t["episode_id"], np.arange(N))
        st = self.dataset("episodes/status")
        codes = self.attr_str(st, "codes")
        try:
            codes = json.loads(codes) if codes is not None else {}
        except ValueError:
            self.ok(False, "/episodes/status@codes", f"not JSON text: {codes!r}")
            codes = {}
        self.json_equal("/episodes/status@codes", codes, {str(k): v for k, v in STATUS_CODES.items()})
        got_status = [codes.get(str(int(s)), f"<code {int(s)}>") for s in t["status"]]
        self.json_equal("/episodes/status", got_status, [ep["status"] for ep in eps])
        self.ok("running" not in got_status, "/episodes/status", "a closed file has no running episode")
        self.same("/episodes/success", t["success"], np.array([ep["success"] for ep in eps]))
        self.same("/episodes/total_timesteps", t["total_timesteps"], np.array([len(ep["timesteps"]) for ep in eps]))
        self.same("/episodes/total_spikes", t["total_spikes"], np.array([sum(len(s) for s in ep["spikes_per_step"]) for ep in eps]))
        for i, ep in enumerate(eps):
            want = math.fsum(ep["rewards_per_step"])
            self.ok(math.isclose(float(t["total_reward"][i]), want, rel_tol=1e-12, abs_tol=1e-12),
                    f"/episodes/total_reward[{i}]", f"expected {want}, got {t['total_reward'][i]}")
        self.same("/episodes/first_timestep", t["first_timestep"], np.array([ep["timesteps"][0] if ep["timesteps"] else -1 for ep in eps]))
        self.same("/episodes/last_timestep", t["last_timestep"], np.array([ep["timesteps"][-1] if ep["timesteps"] else -1 for ep in eps]))
        self.same("/episodes/neural_sampling_rate", t["neural_sampling_rate"], np.array([ep["neural_sampling_rate"] for ep in eps]))

        # times: Unix seconds (attribute units), within the file's start and end, one episode after the other
        root_start, root_end = (iso_seconds(self.f.attrs.get(k)) for k in ("start_time", "end_time"))
        for name in ("start_time", "end_time"):
            self.attr_str(self.dataset(f"episodes/{name}"), "units", TIME_UNITS)
        start, end = t["start_time"], t["end_time"]
        self.ok(np.all(np.isfinite(start)) and np.all(np.isfinite(end)), "/episodes/start_time,end_time",
                f"a closed file's episodes all have finite times: {short(start)} {short(end)}")
        self.ok(np.all(start <= end), "/episodes/end_time", f"an episode ends before it starts: {short(start)} {short(end)}")
        self.ok(N < 2 or np.all(start[1:] >= end[:-1]), "/episodes/start_time", "an episode starts before the one before it ended")
        if N and root_start is not None and root_end is not None:
            # the root's times are ISO 8601 with milliseconds: allow their rounding
            self.ok(start[0] >= root_start - 1e-3 and end[-1] <= root_end + 1e-3, "/episodes/start_time,end_time",
                    f"episodes run from {start[0]} to {end[-1]}, outside the file's {root_start} .. {root_end}")

        # row ranges: [first, end), episode i's start where i-1's end, the last end the stream's length
        for name in RANGES:
            r = t[name].astype(np.int64)
            where = f"/episodes/{name}"
            if r.shape != (N, 2):
                continue  # reported by col()
            self.ok(N == 0 or r[0, 0] == 0, where, f"the first episode's rows start at {r[0, 0] if N else None}, not 0")
            self.ok(np.all(r[:, 1] >= r[:, 0]), where, f"a range ends before it starts: {short(r)}")
            self.ok(N < 2 or np.array_equal(r[1:, 0], r[:-1, 1]), where, f"ranges are not contiguous (episode i starts where i-1 ends): {short(r)}")
            self.same(where, r, np.array(self.rows[name], dtype=np.int64).reshape(N, 2), "row ranges")

        summaries = self.col("episodes/summary", "str", (N,))  # M = ended episodes: every one in a closed file
        for i, ep in enumerate(eps):
            s = summaries[i] if i < len(summaries) else None
            if "summary" not in ep:
                self.ok(s == "", f"/episodes/summary[{i}]", f"no summary was given: expected \"\", got {s!r}")
                continue
            try:
                self.json_equal(f"/episodes/summary[{i}]", json.loads(s), ep["summary"])
            except (TypeError, ValueError):
                self.ok(False, f"/episodes/summary[{i}]", f"not JSON text: {s!r}")

    # ---------------------------------------------------------------- the streams as a whole
    def read_streams(self):
        x, tot = self.x, self.totals
        T, S, K, R = tot["step_rows"], tot["spike_rows"], tot["state_rows"], tot["reward_rows"]
        self.col("timesteps", "int64", (T,))

        sp = self.group("spikes")
        self.ok(set(sp.keys()) == {"counts", "neuron_ids", "id_offsets"}, "/spikes", f"expected counts, neuron_ids, id_offsets; got {sorted(sp.keys())}")
        self.attr_str(sp, "encoding", "csr_time")
        s = x["spikes"]
        n = s["n_neurons"]
        self.attr_num(sp, "n_neurons", "int64", -1 if n is None else n)
        counts_dtype = "uint32" if n is None else smallest_unsigned(n)
        ids_dtype = "uint32" if n is None else smallest_unsigned(max(0, n - 1))
        # the TS test states the dtypes it expects, too; both must agree with FORMAT.md
        self.ok(s["counts_dtype"] == counts_dtype and s["ids_dtype"] == ids_dtype, "/spikes",
                f"EXPECTED.json dtypes {s['counts_dtype']}/{s['ids_dtype']} disagree with FORMAT.md {counts_dtype}/{ids_dtype}")
        self.col("spikes/counts", counts_dtype, (T,))
        ids = self.col("spikes/neuron_ids", ids_dtype, (S,))
        if n is not None:
            self.ok(np.all(ids < n), "/spikes/neuron_ids", f"ids must be < n_neurons={n}")
        # FORMAT.md: id_offsets[k] = the neuron_ids row where step row k * every starts
        every = int(self.attr_num(sp["id_offsets"], "every", "int64") or 1) if "id_offsets" in sp else 1
        size = json.loads(self.f.attrs["exporter_options"])["chunkSize"]
        self.ok(every == size, "/spikes/id_offsets", f"attribute every = {every}, expected chunkSize {size}")
        offs = self.col("spikes/id_offsets", "int64", ((T + every - 1) // every,))
        counts_all = self.cache["spikes/counts"] if "spikes/counts" in self.cache else sp["counts"][:]
        want_offs = np.concatenate([[0], np.cumsum(counts_all.astype(np.int64))])[0:T:every]
        self.same("/spikes/id_offsets", offs, want_offs, "spike-id row at every `every`-th step row")

        ns = self.group("neural_states")
        want = {"timesteps", *self.vars}
        self.ok(set(ns.keys()) == want, "/neural_states", f"expected {sorted(want)}, got {sorted(ns.keys())}")
        self.col("neural_states/timesteps", "int64", (K,))
        for name, spec in self.vars.items():
            self.section(f"/neural_states/{name}", self.read_keyed, f"neural_states/{name}", spec, K)

        b = self.group("behavior")
        self.ok(set(b.keys()) == set(self.beh), "/behavior", f"expected {sorted(self.beh)}, got {sorted(b.keys())}")
        for name, spec in self.beh.items():
            self.section(f"/behavior/{name}", self.read_keyed, f"behavior/{name}", spec, T)

        rw = self.group("rewards")
        self.ok(set(rw.keys()) == {"timesteps", "values"}, "/rewards", f"expected timesteps, values; got {sorted(rw.keys())}")
        self.attr_str(rw, "encoding", "sparse_nonzero")
        self.col("rewards/timesteps", "int64", (R,))
        self.col("rewards/values", "float64", (R,))

        wc = self.group("weight_changes")
        names = {c for c, _ in WEIGHT_CHANGE_FIELDS}
        self.ok(set(wc.keys()) == names, "/weight_changes", f"expected {sorted(names)}, got {sorted(wc.keys())}")
        for c, dtype in WEIGHT_CHANGE_FIELDS:
            self.col(f"weight_changes/{c}", dtype, (tot["weight_change_rows"],))

        ev = self.group("events")
        self.ok(set(ev.keys()) == {"timesteps", "types", "data"}, "/events", f"expected timesteps, types, data; got {sorted(ev.keys())}")
        E = tot["event_rows"]
        self.col("events/timesteps", "int64", (E,))
        self.col("events/types", "str", (E,))
        self.col("events/data", "str", (E,))

    def read_keyed(self, path, spec, rows):
        """A neural state variable or behaviour key: dtype and shape for the experiment, attribute first_row."""
        self.col(path, spec["dtype"], (rows, *spec["row_shape"]))
        self.attr_num(self.dataset(path), "first_row", "int64", spec["first_row"])

    # ---------------------------------------------------------------- one episode: its slices
    def read_episode(self, x):
        i = x["id"]
        t = self.table
        a, b = (int(v) for v in t["step_rows"][i])
        where = f"episode {i} (/timesteps[{a}:{b}])"
        T = x["timesteps"]
        ts = self.cache["timesteps"][a:b]
        self.same(where, ts, np.array(T, dtype=np.int64), "timesteps")
        self.ok(np.all(np.diff(ts) > 0), where, "timesteps must be strictly increasing within an episode")
        self.section(f"episode {i} spikes", self.read_spikes, x, a, b)
        self.section(f"episode {i} neural_states", self.read_neural, x)
        self.section(f"episode {i} behavior", self.read_behavior, x, a, b)
        self.section(f"episode {i} rewards", self.read_rewards, x)
        self.section(f"episode {i} weight_changes", self.read_weight_changes, x)
        self.section(f"episode {i} events", self.read_events, x)

    def read_spikes(self, x, a, b):
        i = x["id"]
        s0, s1 = (int(v) for v in self.table["spike_rows"][i])
        rows = [sorted(ids) for ids in x["spikes_per_step"]]  # FORMAT.md: ascending within a step
        counts = self.cache["spikes/counts"][a:b]
        ids = self.cache["spikes/neuron_ids"][s0:s1]
        self.same(f"episode {i} (/spikes/counts[{a}:{b}])", counts, np.array([len(r) for r in rows], dtype=np.int64), "spike counts")
        self.same(f"episode {i} (/spikes/neuron_ids[{s0}:{s1}])", ids, np.array([k for r in rows for k in r], dtype=np.int64), "neuron ids")
        self.ok(int(counts.sum(dtype=np.int64)) == s1 - s0 == int(self.table["total_spikes"][i]), f"episode {i} spikes",
                f"sum(counts[a:b]) = {int(counts.sum(dtype=np.int64))}, spike_rows {s0}:{s1} and total_spikes {self.table['total_spikes'][i]} disagree")
        # FORMAT.md: spike_times = np.repeat(f["timesteps"][a:b], f["spikes/counts"][a:b])
        times = np.repeat(self.cache["timesteps"][a:b], counts)
        self.ok(times.dtype == np.int64, f"episode {i} spikes", f"spike times should be int64, got {times.dtype}")
        self.same(f"episode {i} spike times", times, np.array([t for t, r in zip(x["timesteps"], rows) for _ in r], dtype=np.int64), "spike times")

    def read_neural(self, x):
        i = x["id"]
        k0, k1 = (int(v) for v in self.table["state_rows"][i])
        n = x["neural"]
        nts = self.cache["neural_states/timesteps"][k0:k1]
        self.same(f"episode {i} (/neural_states/timesteps[{k0}:{k1}])", nts, np.array(n["timesteps"], dtype=np.int64), "kept timesteps")
        if n["every_step"]:  # state given at every step: kept at the 1st, (1+r)th, (1+2r)th ... logged step
            r = x["neural_sampling_rate"]
            self.same(f"episode {i} (/neural_states/timesteps[{k0}:{k1}])", nts, np.array(x["timesteps"][::r], dtype=np.int64),
                      f"the 1st, (1+r)th, (1+2r)th ... logged step (r={r})")
        self.read_keyed_slice(f"episode {i}", "neural_states", self.vars, n["variables"], k0, k1)

    def read_behavior(self, x, a, b):
        self.read_keyed_slice(f"episode {x['id']}", "behavior", self.beh, x["behavior"], a, b)

    def read_keyed_slice(self, ep, group, specs, given, r0, r1):
        """Every variable's (or key's) rows [r0, r1): values where given, padding before first_row and
        where left out; an episode whose rows all lie before first_row did not have it at all."""
        for name, spec in specs.items():
            path = f"{group}/{name}"
            if path not in self.cache:
                continue  # reported by read_streams
            got = self.cache[path][r0:r1]
            where = f"{ep} (/{path}[{r0}:{r1}])"
            if r1 <= spec["first_row"]:
                had = name in given and any(r is not None for r in given[name]["rows"])
                self.ok(not had, where, f"the episode gave {name}, yet its rows lie before first_row={spec['first_row']}")
            self.same(where, got, self.keyed_rows(spec, given.get(name), r1 - r0))

    def read_rewards(self, x):
        i = x["id"]
        r0, r1 = (int(v) for v in self.table["reward_rows"][i])
        nz = [(t, r) for t, r in zip(x["timesteps"], x["rewards_per_step"]) if r != 0]
        where = f"episode {i} (/rewards/*[{r0}:{r1}])"
        self.same(where, self.cache["rewards/timesteps"][r0:r1], np.array([t for t, _ in nz], dtype=np.int64), "reward timesteps")
        vals = self.cache["rewards/values"][r0:r1]
        self.same(where, vals, np.array([r for _, r in nz], dtype=np.float64), "reward values")
        self.ok(math.isclose(math.fsum(vals.tolist()), float(self.table["total_reward"][i]), rel_tol=1e-12, abs_tol=1e-12), where,
                f"the slice's rewards sum to {math.fsum(vals.tolist())}, total_reward says {self.table['total_reward'][i]}")

    def read_weight_changes(self, x):
        i = x["id"]
        w0, w1 = (int(v) for v in self.table["weight_change_rows"][i])
        given = x["weight_changes"]  # in the order logged
        cols = {
            "timesteps": [c["timestep"] for c in given],
            "synapse_ids": [c.get("synapseId", -1) for c in given],
            "source_ids": [c.get("sourceId", -1) for c in given],
            "target_ids": [c.get("targetId", -1) for c in given],
            "old_weights": [c["oldWeight"] for c in given],
            "new_weights": [c["newWeight"] for c in given],
        }
        got = {c: self.cache[f"weight_changes/{c}"][w0:w1] for c, _ in WEIGHT_CHANGE_FIELDS}
        for c, dtype in WEIGHT_CHANGE_FIELDS:
            self.same(f"episode {i} (/weight_changes/{c}[{w0}:{w1}], in the order logged)", got[c], np.array(cols[c], dtype=dtype))
        # FORMAT.md: sorted by timestep (stable) with order = np.argsort(t, kind="stable") on the slice
        order = np.argsort(got["timesteps"], kind="stable")
        ordered = sorted(range(len(given)), key=lambda k: given[k]["timestep"])  # Python's sort is stable
        for c, dtype in WEIGHT_CHANGE_FIELDS:
            self.same(f"episode {i} (/weight_changes/{c}[{w0}:{w1}][order])", got[c][order],
                      np.array([cols[c][k] for k in ordered], dtype=dtype), "sorted by timestep (stable)")

    def read_events(self, x):
        i = x["id"]
        e0, e1 = (int(v) for v in self.table["event_rows"][i])
        ev = x["events"]
        where = f"episode {i} (/events/*[{e0}:{e1}])"
        self.same(where, self.cache["events/timesteps"][e0:e1], np.array([e["timestep"] for e in ev], dtype=np.int64), "event timesteps")
        self.json_equal(where, self.cache["events/types"][e0:e1], [e["type"] for e in ev])
        data = self.cache["events/data"][e0:e1]
        for k, (text, e) in enumerate(zip(data, ev)):
            try:
                got = json.loads(text)
            except ValueError:
                self.ok(False, f"/events/data[{e0 + k}]", f"not JSON text: {text!r}")
                continue
            self.json_equal(f"/events/data[{e0 + k}] (episode {i})", got, e["data"])

    # ---------------------------------------------------------------- /episode_static
    def read_static(self):
        eps = self.x["episodes"]
        want = {f"episode_{ep['id']:04d}": ep["static"] for ep in eps if ep["static"]}
        g = self.f.get("episode_static")
        if g is None:
            self.ok(not want, "/episode_static", f"group is missing; expected {sorted(want)}")
            return
        self.group("episode_static")
        self.ok(set(g.keys()) == set(want), "/episode_static",
                f"expected groups for the episodes that stored static data only, {sorted(want)}; got {sorted(g.keys())}")
        for name, fields in want.items():
            self.read_record(f"episode_static/{name}", fields)

    # ---------------------------------------------------------------- FORMAT.md's recipe, executed
    def read_recipe(self):
        """Runs the code block after "One episode in h5py" in FORMAT.md on the file: verbatim (i = 42)
        when the file has episode 42, and with `i = 42` replaced by other episode ids; checks what it
        reads against the expected data."""
        with open(FORMAT_MD, encoding="utf-8") as fh:
            md = fh.read()
        m = re.search(r"One episode in h5py[^\n]*\n+```python\n(.*?)^```", md, re.S | re.M)
        if not m:
            raise Mismatch(f"{FORMAT_MD} has no ```python block after \"One episode in h5py\"")
        code = m.group(1)
        self.ok(len(re.findall(r"\bi = 42\b", code)) == 1, "FORMAT.md recipe", "expected the recipe to pick its episode with `i = 42`")
        self.ok(os.path.basename(self.path) == "experiment_data.h5", "FORMAT.md recipe", f"the recipe opens experiment_data.h5; the file is {self.path}")
        eps = self.x["episodes"]
        N = len(eps)
        picks = set(range(N)) if N <= 12 else {0, 1, N - 1, *range(0, N, max(1, N // 8))}
        picks |= set([ep["id"] for ep in eps if not ep["timesteps"]][:2])  # episodes without steps
        if N > 42:
            picks.add(42)
        self.recipe_runs = []
        for i in sorted(picks):
            self.section(f"FORMAT.md recipe, i = {i}{' (verbatim)' if i == 42 else ''}", self.run_recipe, code, i)

    def run_recipe(self, code, i):
        src = code if i == 42 else re.sub(r"\bi = 42\b", f"i = {i}", code)
        ns = {"__name__": "format_md_recipe"}
        cwd = os.getcwd()
        os.chdir(os.path.dirname(os.path.abspath(self.path)))
        try:
            exec(compile(src, f"{FORMAT_MD} (One episode in h5py, i = {i})", "exec"), ns)
        finally:
            os.chdir(cwd)
            if isinstance(ns.get("f"), h5py.File):
                ns["f"].close()
        self.recipe_runs.append(i)
        x = self.x["episodes"][i]
        where = f"FORMAT.md recipe, i = {i}"
        rows = [sorted(ids) for ids in x["spikes_per_step"]]
        self.same(where, ns["spike_ids"], np.array([k for r in rows for k in r], dtype=np.int64), "spike_ids")
        self.same(where, ns["spike_times"], np.array([t for t, r in zip(x["timesteps"], rows) for _ in r], dtype=np.int64), "spike_times")
        self.ok(ns["spike_times"].dtype == np.int64, where, f"spike_times should be int64, got {ns['spike_times'].dtype}")
        if "v" not in self.vars:
            raise Mismatch("the recipe reads neural_states/v, which EXPECTED.json does not have")
        self.same(where, ns["v"], self.keyed_rows(self.vars["v"], x["neural"]["variables"].get("v"), len(x["neural"]["timesteps"])), "v")
        eps = self.x["episodes"]
        want = np.array([math.fsum(ep["rewards_per_step"]) for ep in eps])
        self.ok(ns["rewards"].shape == want.shape and np.allclose(ns["rewards"], want, rtol=1e-12, atol=1e-12), where,
                f"rewards (learning curve): expected {short(want)}, got {short(ns['rewards'])}")
        self.same(where, ns["success"], np.array([ep["success"] for ep in eps], dtype=np.int64), "success")

    # ---------------------------------------------------------------- checkpoints
    def read_checkpoints(self):
        g = self.group("checkpoints")
        cps = self.x["checkpoints"]
        self.ok(set(g.keys()) == set(cps), "/checkpoints", f"expected {sorted(cps)}, got {sorted(g.keys())}")
        for name, cp in cps.items():
            path = f"checkpoints/{name}"
            cg = self.group(path)
            self.attr_time(cg, "created_at")
            self.attr_num(cg, "episode_count", "int64", cp["episode_count"])
            self.read_record(path, cp["entries"])

    # ---------------------------------------------------------------- profile
    def read_profile(self):
        gzip = self.x["compression"] == "gzip"
        objs = []
        self.f.visititems(lambda name, obj: objs.append((name, obj)))
        for name, obj in [("/", self.f)] + objs:
            for a in obj.attrs:
                self.check_type(f"/{name}@{a}".replace("//", "/"), obj.attrs.get_id(a).get_type(), self.attr_dtype(obj, a))
            if not isinstance(obj, h5py.Dataset):
                continue
            where = f"/{name}"
            self.check_type(where, obj.id.get_type(), obj.dtype)
            if obj.chunks is None:
                continue
            self.ok(obj.maxshape[0] is None, where, f"chunked dataset should grow: maxshape {obj.maxshape}")
            self.check_chunks(name, obj)
            plist = obj.id.get_create_plist()
            filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
            for fid in filters:
                self.ok(h5py.h5z.filter_avail(fid), where, f"filter {fid} is not available in this HDF5")
            if h5py.check_string_dtype(obj.dtype) is not None:
                # FORMAT.md: growing string columns are chunked but not compressed
                self.ok(filters == [], where, f"expected no filter on a string column, got filter ids {filters}")
            elif gzip:
                # FORMAT.md: deflate, preceded by shuffle for elements wider than one byte (engine "ts"),
                # or deflate alone (engine "h5wasm")
                ok = filters in ([h5py.h5z.FILTER_DEFLATE], [h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_DEFLATE])
                self.ok(ok, where, f"expected [shuffle,] deflate, got filter ids {filters}")
            else:
                self.ok(filters == [], where, f"written with compression 'none' but has filter ids {filters}")

    def check_chunks(self, name, ds):
        """FORMAT.md "HDF5 profile": rows per chunk of the streams and the episode table. A dataset
        first written at close() has a single chunk of exactly its rows."""
        if h5py.check_string_dtype(ds.dtype) is not None:
            # string columns (events/types, events/data, episodes/summary): FORMAT.md's numbers are
            # not checked for them (the writer chunks them by 4096 rows whatever chunkSize is and even
            # when first written at close(); see the report of the interop2 branch)
            return
        size = json.loads(self.f.attrs["exporter_options"])["chunkSize"]
        row_bytes = ds.dtype.itemsize * int(np.prod(ds.shape[1:], dtype=np.int64))
        top = name.split("/")[0]
        if name in ("timesteps", "spikes/counts", "neural_states/timesteps") or top in ("behavior", "rewards"):
            rows = size
        elif top == "neural_states":
            rows = min(size, max(1, STATE_CHUNK_BYTES // max(1, row_bytes)))
        elif name == "spikes/neuron_ids":
            rows = max(size, SPIKE_ID_CHUNK)
        elif name == "spikes/id_offsets":
            rows = TABLE_CHUNK
        elif top in ("weight_changes", "events"):
            rows = min(size, RECORD_CHUNK)
        elif top == "episodes":
            rows = TABLE_CHUNK
        else:
            return  # datasets written whole: chunks are the writer's choice
        where = f"/{name}"
        n = ds.shape[0]
        self.ok(ds.chunks[0] == rows or (n < rows and ds.chunks[0] == max(1, n)), where,
                f"expected {rows} rows per chunk (or one chunk of exactly its {n} rows), got chunks {ds.chunks}")
        self.ok(tuple(ds.chunks[1:]) == tuple(ds.shape[1:]), where, f"a chunk holds whole rows: chunks {ds.chunks}, shape {ds.shape}")

    def check_type(self, where, tid, dtype):
        info = h5py.check_string_dtype(dtype)
        if info is not None:
            self.ok(info.length is None and info.encoding == "utf-8", where,
                    f"strings must be variable-length UTF-8, got {dtype}")
        elif dtype.kind in "iuf":
            if dtype.itemsize > 1:
                self.ok(tid.get_order() == h5py.h5t.ORDER_LE, where, f"{dtype} is not little-endian")
        else:
            self.ok(False, where, f"dtype {dtype} is neither a number nor a UTF-8 string (no blobs allowed)")

    def read_coverage(self):
        unread = []

        def visit(name, obj):
            if h5py.h5o.get_info(obj.id).addr not in self.seen:
                unread.append("/" + name)
        self.f.visititems(visit)
        self.ok(not unread, "file", f"objects FORMAT.md does not describe (or EXPECTED.json does not list): {unread}")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as fh:
        expected = json.load(fh)
    with h5py.File(argv[1], "r") as f:
        r = Reader(f, expected, argv[1])
        r.run()
    if r.failures:
        print(f"FAILED {len(r.failures)} of {r.checks} checks reading {argv[1]} with h5py {h5py.__version__} "
              f"(HDF5 {h5py.version.hdf5_version}):")
        for msg in r.failures:
            print("  - " + msg)
        return 1
    print(f"OK {r.checks} checks")
    if r.recipe_runs:
        print(f"FORMAT.md \"One episode in h5py\" ran for episodes {r.recipe_runs}"
              f"{' (verbatim for i = 42)' if 42 in r.recipe_runs else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
