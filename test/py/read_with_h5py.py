#!/usr/bin/env python3
"""Read an snn-export file with plain h5py + numpy, following FORMAT.md only, and check it.

Usage: read_with_h5py.py FILE.h5 EXPECTED.json

EXPECTED.json holds what the TypeScript test gave the exporter (see test/interop.test.ts). Every
rule this script applies on top of those values (dtypes, sorting, sparse encodings, links,
filters) comes from FORMAT.md, not from snn-export's code: this is what a Python user with h5py,
numpy and FORMAT.md can rely on.

Prints "OK <n> checks" and exits 0 when everything matches; otherwise prints every mismatch
(path: what was expected, what was found) and exits 1. Exit 2 on bad usage.
"""
import gzip, hashlib
import json
import math
import re
import sys

import h5py
import numpy as np

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
EPISODE_CHILDREN = {"timesteps", "summary", "neural_states", "spikes", "behavior", "rewards",
                    "weight_changes", "events", "static"}
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


def smallest_unsigned(max_value):
    """FORMAT.md: the smallest unsigned int that holds max_value."""
    for name, top in (("uint8", 0xFF), ("uint16", 0xFFFF), ("uint32", 0xFFFFFFFF)):
        if max_value <= top:
            return name
    return "uint64"


class Reader:
    def __init__(self, f, expected):
        self.f = f
        self.x = expected
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
        self.section("/episodes", self.read_episode_list)
        for ep in x["episodes"]:
            self.section(f"/episodes/episode_{ep['id']:04d}", self.read_episode, ep)
        self.section("/checkpoints", self.read_checkpoints)
        self.section("file profile (dtypes, strings, chunks, filters)", self.read_profile)
        self.section("coverage", self.read_coverage)

    def read_root(self):
        f, x = self.f, self.x["root"]
        self.attr_str(f, "format_name", "snn-export")
        self.attr_str(f, "format_version", "1.0")
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
        for g in ("config", "metadata", "network_structure", "episodes", "checkpoints"):
            self.ok(isinstance(f.get(g), h5py.Group), f"/{g}", "top-level group is missing")

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

    # ---------------------------------------------------------------- episodes
    def read_episode_list(self):
        g = self.group("episodes")
        want = [f"episode_{ep['id']:04d}" for ep in self.x["episodes"]]
        self.ok(sorted(g.keys()) == want, "/episodes", f"expected {want}, got {sorted(g.keys())}")

    def read_episode(self, x):
        p = f"episodes/episode_{x['id']:04d}"
        g = self.group(p)
        T = x["timesteps"]
        per_step = x["spikes"]["per_step"]
        # spikes per FORMAT: ascending ids within a step, step by step
        rows = [sorted(ids) for ids in per_step]
        n_spikes = sum(len(r) for r in rows)
        rewards = x["rewards_per_step"]
        self.ok(len(per_step) == len(T) and len(rewards) == len(T), f"/{p}", "EXPECTED.json: per-step lists differ in length")

        self.attr_num(g, "episode_id", "int64", x["id"])
        status = self.attr_str(g, "status", x["status"])
        self.ok(status in ("running", "completed"), f"/{p}@status",
                f"FORMAT.md documents only 'running' and 'completed', the file says {status!r}")
        self.attr_num(g, "success", "int8", x["success"])
        self.attr_num(g, "total_timesteps", "int64", len(T))
        self.attr_num(g, "total_spikes", "int64", n_spikes)
        total_reward = self.attr_num(g, "total_reward", "float64")
        self.ok(total_reward is None or math.isclose(float(total_reward), math.fsum(rewards), rel_tol=1e-12, abs_tol=1e-12),
                f"/{p}@total_reward", f"expected {math.fsum(rewards)}, got {total_reward}")
        self.attr_num(g, "first_timestep", "int64", T[0] if T else -1)
        self.attr_num(g, "last_timestep", "int64", T[-1] if T else -1)
        rate = x["neural_sampling_rate"]
        self.attr_num(g, "neural_sampling_rate", "int64", rate)
        start, end = self.attr_time(g, "start_time"), self.attr_time(g, "end_time")
        self.ok(None in (start, end) or start <= end, f"/{p}@end_time", f"{end} is before start_time {start}")
        self.ok(set(g.keys()) <= EPISODE_CHILDREN, f"/{p}",
                f"children not described by FORMAT.md: {sorted(set(g.keys()) - EPISODE_CHILDREN)}")

        ts = self.numeric(f"{p}/timesteps", "int64", (len(T),), T)
        self.ok(np.all(np.diff(ts) > 0), f"/{p}/timesteps", "timesteps must be strictly increasing")
        if "summary" in x:
            self.json_equal(f"/{p}/summary", self.text(f"{p}/summary"), x["summary"])
        else:
            self.ok("summary" not in g, f"/{p}/summary", "no summary was given, yet it exists")

        self.section(f"/{p}/neural_states", self.read_neural, p, x)
        self.section(f"/{p}/spikes", self.read_spikes, p, x, rows)
        self.section(f"/{p}/behavior", self.read_behavior, p, x)
        self.section(f"/{p}/rewards", self.read_rewards, p, x)
        self.section(f"/{p}/weight_changes", self.read_weight_changes, p, x)
        self.section(f"/{p}/events", self.read_events, p, x)
        self.section(f"/{p}/static", self.read_static, p, x)

    def read_neural(self, p, x):
        g = self.group(f"{p}/neural_states")
        n = x["neural"]
        K = len(n["timesteps"])
        nts = self.numeric(f"{p}/neural_states/timesteps", "int64", (K,), n["timesteps"])
        if n["every_step"]:  # state given at every step: kept at the 1st, (1+r)th, (1+2r)th ... logged step
            want = np.array(x["timesteps"][::x["neural_sampling_rate"]], dtype=np.int64)
            self.ok(np.array_equal(nts, want), f"/{p}/neural_states/timesteps",
                    f"expected the 1st, (1+r)th, (1+2r)th ... logged step (r={x['neural_sampling_rate']}): {short(want)}, got {short(nts)}")
        want_names = {"timesteps", *n["variables"]}
        self.ok(set(g.keys()) == want_names, f"/{p}/neural_states", f"expected {sorted(want_names)}, got {sorted(g.keys())}")
        for name, v in n["variables"].items():
            self.ok(v["shape"][0] == K, f"/{p}/neural_states/{name}", "EXPECTED.json: first dimension is not K")
            self.numeric(f"{p}/neural_states/{name}", v["dtype"], v["shape"], v["data"])

    def check_link(self, path, target):
        """FORMAT.md "(link)": an HDF5 hard link to the same dataset."""
        link = self.f.get(path, getlink=True)
        self.ok(isinstance(link, h5py.HardLink), f"/{path}", f"expected a hard link, got {type(link).__name__}")
        a, b = self.dataset(path), self.dataset(target)
        self.ok(h5py.h5o.get_info(a.id).addr == h5py.h5o.get_info(b.id).addr, f"/{path}",
                f"is not the same dataset as /{target}")

    def read_spikes(self, p, x, rows):
        s = x["spikes"]
        g = self.group(f"{p}/spikes")
        self.ok(set(g.keys()) == {"timesteps", "counts", "neuron_ids"}, f"/{p}/spikes",
                f"expected timesteps, counts, neuron_ids; got {sorted(g.keys())}")
        self.attr_str(g, "encoding", "csr_time")
        n = s["n_neurons"]
        self.attr_num(g, "n_neurons", "int64", -1 if n is None else n)
        self.check_link(f"{p}/spikes/timesteps", f"{p}/timesteps")
        counts_dtype = "uint32" if n is None else smallest_unsigned(n)
        ids_dtype = "uint32" if n is None else smallest_unsigned(max(0, n - 1))
        # the TS test states the dtype it expects, too; both must agree with the file
        self.ok(s["counts_dtype"] == counts_dtype and s["ids_dtype"] == ids_dtype, f"/{p}/spikes",
                f"EXPECTED.json dtypes {s['counts_dtype']}/{s['ids_dtype']} disagree with FORMAT.md {counts_dtype}/{ids_dtype}")
        counts = [len(r) for r in rows]
        self.numeric(f"{p}/spikes/counts", counts_dtype, (len(rows),), counts)
        self.numeric(f"{p}/spikes/neuron_ids", ids_dtype, (sum(counts),), [i for r in rows for i in r])

        # FORMAT.md's three-line read
        sp = self.f[f"{p}/spikes"]
        neuron_ids = sp["neuron_ids"][:]
        spike_times = np.repeat(sp["timesteps"][:], sp["counts"][:])

        want_t = np.array([t for t, r in zip(x["timesteps"], rows) for _ in r], dtype=np.int64)
        want_ids = np.array([i for r in rows for i in r], dtype=np.int64)
        self.ok(spike_times.dtype == np.int64, f"/{p}/spikes", f"spike times should be int64, got {spike_times.dtype}")
        self.ok(np.array_equal(spike_times, want_t), f"/{p}/spikes", f"spike times: expected {short(want_t)}, got {short(spike_times)}")
        self.ok(np.array_equal(neuron_ids.astype(np.int64), want_ids), f"/{p}/spikes",
                f"neuron ids: expected {short(want_ids)}, got {short(neuron_ids)}")
        if n is not None:
            self.ok(np.all(neuron_ids < n), f"/{p}/spikes/neuron_ids", f"ids must be < n_neurons={n}")

    def read_behavior(self, p, x):
        g = self.group(f"{p}/behavior")
        b = x["behavior"]
        self.ok(set(g.keys()) == {"timesteps", *b}, f"/{p}/behavior", f"expected {sorted({'timesteps', *b})}, got {sorted(g.keys())}")
        self.check_link(f"{p}/behavior/timesteps", f"{p}/timesteps")
        for name, v in b.items():
            self.ok(v["shape"][0] == len(x["timesteps"]), f"/{p}/behavior/{name}", "EXPECTED.json: first dimension is not T")
            self.numeric(f"{p}/behavior/{name}", v["dtype"], v["shape"], v["data"])

    def read_rewards(self, p, x):
        g = self.group(f"{p}/rewards")
        self.ok(set(g.keys()) == {"timesteps", "values"}, f"/{p}/rewards", f"expected timesteps, values; got {sorted(g.keys())}")
        self.attr_str(g, "encoding", "sparse_nonzero")
        nz = [(t, r) for t, r in zip(x["timesteps"], x["rewards_per_step"]) if r != 0]
        self.numeric(f"{p}/rewards/timesteps", "int64", (len(nz),), [t for t, _ in nz])
        self.numeric(f"{p}/rewards/values", "float64", (len(nz),), [r for _, r in nz])

    def read_weight_changes(self, p, x):
        g = self.group(f"{p}/weight_changes")
        names = {n for n, _ in WEIGHT_CHANGE_FIELDS}
        self.ok(set(g.keys()) == names, f"/{p}/weight_changes", f"expected {sorted(names)}, got {sorted(g.keys())}")
        given = x["weight_changes"]  # in the order logged
        ordered = sorted(given, key=lambda c: c["timestep"])  # FORMAT: sorted by timestep, stable
        cols = {
            "timesteps": [c["timestep"] for c in ordered],
            "synapse_ids": [c.get("synapseId", -1) for c in ordered],
            "source_ids": [c.get("sourceId", -1) for c in ordered],
            "target_ids": [c.get("targetId", -1) for c in ordered],
            "old_weights": [c["oldWeight"] for c in ordered],
            "new_weights": [c["newWeight"] for c in ordered],
        }
        for name, dtype in WEIGHT_CHANGE_FIELDS:
            self.numeric(f"{p}/weight_changes/{name}", dtype, (len(ordered),), cols[name])

    def read_events(self, p, x):
        g = self.group(f"{p}/events")
        self.ok(set(g.keys()) == {"timesteps", "types", "data"}, f"/{p}/events", f"expected timesteps, types, data; got {sorted(g.keys())}")
        ev = x["events"]
        self.numeric(f"{p}/events/timesteps", "int64", (len(ev),), [e["timestep"] for e in ev])
        self.strings(f"{p}/events/types", [e["type"] for e in ev])
        data = self.strings(f"{p}/events/data")
        self.ok(len(data) == len(ev), f"/{p}/events/data", f"expected {len(ev)} entries, got {len(data)}")
        for i, (text, e) in enumerate(zip(data, ev)):
            try:
                got = json.loads(text)
            except ValueError:
                self.ok(False, f"/{p}/events/data[{i}]", f"not JSON text: {text!r}")
                continue
            self.json_equal(f"/{p}/events/data[{i}]", got, e["data"])

    def read_static(self, p, x):
        self.read_record(f"{p}/static", x["static"])

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
        r = Reader(f, expected)
        r.run()
    if r.failures:
        print(f"FAILED {len(r.failures)} of {r.checks} checks reading {argv[1]} with h5py {h5py.__version__} "
              f"(HDF5 {h5py.version.hdf5_version}):")
        for msg in r.failures:
            print("  - " + msg)
        return 1
    print(f"OK {r.checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
