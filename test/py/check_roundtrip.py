#!/usr/bin/python3
"""Checks an snn-export file (format 2.0) against the model of the property-based round-trip test.

Knows only FORMAT.md: reads every group, dataset and attribute the format names with h5py and
compares it with EXPECTED.json, written by test/roundtrip-experiment.ts from the calls the exporter
accepted. Arrays are compared exactly: dtype, shape and every element (floats bitwise, any NaN
equal to any NaN, -0.0 distinct from 0.0). Groups must hold exactly the expected members, so an
object left behind by a refused call is found.

    check_roundtrip.py FILE.h5 EXPECTED.json     prints "OK <n> checks" or the differences (exit 1)
    check_roundtrip.py --serve                   reads {"file", "expect"} lines, answers one JSON line each

Expected values are JSON with tags: {"\\u0001": "-0"} is -0.0, {"\\u0001": "int", "v": "..."} an
integer, {"\\u0001": "array", "dtype", "b64"} a little-endian array.
"""
import base64
import json
import math
import sys

import h5py
import numpy as np

TAG = "\u0001"


def decode(v):
    if isinstance(v, dict):
        if TAG in v:
            tag = v[TAG]
            if tag == "-0":
                return -0.0
            if tag == "int":
                return int(v["v"])
            if tag == "array":
                return np.frombuffer(base64.b64decode(v["b64"]), dtype=np.dtype(v["dtype"]).newbyteorder("<"))
            raise ValueError("unknown tag %r" % tag)
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


EPISODE_COLUMNS = {
    "episode_id": "int64", "status": "int8", "success": "int8", "total_timesteps": "int64", "total_spikes": "int64",
    "total_reward": "float64", "first_timestep": "int64", "last_timestep": "int64", "neural_sampling_rate": "int64",
    "start_time": "float64", "end_time": "float64", "step_rows": "int64", "spike_rows": "int64", "state_rows": "int64",
    "reward_rows": "int64", "weight_change_rows": "int64", "event_rows": "int64",
}
WEIGHT_COLUMNS = {"timesteps": "int64", "synapse_ids": "int64", "source_ids": "int64", "target_ids": "int64", "old_weights": "float64", "new_weights": "float64"}


class Check:
    def __init__(self, f, exp):
        self.f = f
        self.exp = exp
        self.errors = []
        self.checks = 0

    def ok(self, cond, where, msg):
        self.checks += 1
        if not cond:
            self.errors.append("%s: %s" % (where, msg))
        return cond

    # ------------------------------------------------------------ values

    def same_values(self, got, exp, where):
        """Elements of two 1-D arrays of one dtype: bitwise for floats (any NaN equals any NaN)."""
        got = np.ascontiguousarray(got).reshape(-1)
        exp = np.ascontiguousarray(exp).reshape(-1)
        if not self.ok(got.size == exp.size, where, "%d elements, expected %d" % (got.size, exp.size)):
            return
        if got.dtype.kind == "f":
            exp = exp.astype(got.dtype) if exp.dtype != got.dtype else exp
            gb = got.view(np.dtype("u%d" % got.dtype.itemsize))
            eb = exp.view(np.dtype("u%d" % exp.dtype.itemsize))
            same = (gb == eb) | (np.isnan(got) & np.isnan(exp))
        else:
            same = got == exp
        bad = np.nonzero(~same)[0]
        self.ok(bad.size == 0, where, "differs at %s: %r, expected %r" % (bad[:5].tolist(), got[bad[:5]].tolist(), exp[bad[:5]].tolist()) if bad.size else "")

    def dataset(self, path, dtype, shape, data, where=None):
        """A numeric dataset: dtype (a name or a list of allowed names), shape, elements."""
        where = where or path
        if not self.ok(isinstance(self.f.get(path), h5py.Dataset), where, "missing"):
            return None
        ds = self.f[path]
        allowed = dtype if isinstance(dtype, list) else [dtype]
        self.ok(ds.dtype.name in allowed, where, "dtype %s, expected %s" % (ds.dtype, " or ".join(allowed)))
        self.ok(ds.dtype.byteorder in "<=|", where, "not little-endian: %s" % ds.dtype.str)
        if shape is not None:
            self.ok(list(ds.shape) == list(shape), where, "shape %s, expected %s" % (list(ds.shape), list(shape)))
        got = ds[()]
        if data is not None and list(ds.shape) == list(shape or ds.shape):
            exp = np.asarray(data)
            if exp.dtype != got.dtype and got.dtype.kind != "f":
                exp = np.array([int(x) for x in exp.reshape(-1)], dtype=object)
                got = np.array([int(x) for x in np.asarray(got).reshape(-1)], dtype=object)
            self.same_values(got, exp, where)
        return ds

    def same_json(self, got, exp, where):
        if isinstance(exp, bool) or isinstance(got, bool):
            self.ok(type(got) is type(exp) and got == exp, where, "%r, expected %r" % (got, exp))
        elif isinstance(exp, (int, float)) and not isinstance(exp, bool):
            if not self.ok(isinstance(got, (int, float)) and not isinstance(got, bool), where, "%r, expected the number %r" % (got, exp)):
                return
            if isinstance(got, int) and isinstance(exp, int):
                self.ok(got == exp, where, "%r, expected %r" % (got, exp))
            else:
                self.ok(float(got) == float(exp) and math.copysign(1, float(got)) == math.copysign(1, float(exp)), where, "%r, expected %r" % (got, exp))
        elif isinstance(exp, list):
            if self.ok(isinstance(got, list) and len(got) == len(exp), where, "%r, expected a list of %d" % (got, len(exp))):
                for i, (g, e) in enumerate(zip(got, exp)):
                    self.same_json(g, e, "%s[%d]" % (where, i))
        elif isinstance(exp, dict):
            if self.ok(isinstance(got, dict) and sorted(got) == sorted(exp), where, "keys %r, expected %r" % (sorted(got) if isinstance(got, dict) else got, sorted(exp))):
                for k in exp:
                    self.same_json(got[k], exp[k], "%s.%s" % (where, k))
        else:
            self.ok(got == exp, where, "%r, expected %r" % (got, exp))

    def text(self, path):
        return self.f[path].asstr()[()]

    def json_text(self, path, exp, where=None):
        where = where or path
        if not self.ok(isinstance(self.f.get(path), h5py.Dataset), where, "missing"):
            return
        ds = self.f[path]
        self.ok(h5py.check_string_dtype(ds.dtype) is not None and ds.shape == (), where, "not a scalar string dataset")
        self.same_json(json.loads(self.text(path)), exp, where)

    def strings(self, path, exp, where=None):
        where = where or path
        if not self.ok(isinstance(self.f.get(path), h5py.Dataset), where, "missing"):
            return
        ds = self.f[path]
        self.ok(h5py.check_string_dtype(ds.dtype) is not None, where, "not a string dataset")
        got = list(ds.asstr()[()]) if ds.shape != (0,) else []
        self.ok(got == exp, where, "%r, expected %r" % (got[:5], exp[:5]))

    def members(self, path, exp, where=None):
        where = where or path
        g = self.f.get(path)
        if exp is None:
            self.ok(g is None, where, "exists, expected absent")
            return False
        if not self.ok(isinstance(g, h5py.Group), where, "missing group"):
            return False
        self.ok(sorted(g.keys()) == sorted(exp), where, "members %r, expected %r" % (sorted(g.keys()), sorted(exp)))
        return True

    def attr(self, path, name, exp, dtype=None):
        where = "%s@%s" % (path, name)
        attrs = self.f[path].attrs
        if exp is None:
            self.ok(name not in attrs, where, "present, expected absent")
            return
        if not self.ok(name in attrs, where, "missing"):
            return
        v = attrs[name]
        if isinstance(v, bytes):
            v = v.decode()
        if dtype is not None:
            self.ok(np.asarray(v).dtype.name == dtype, where, "dtype %s, expected %s" % (np.asarray(v).dtype, dtype))
        if isinstance(exp, str):
            self.ok(v == exp, where, "%r, expected %r" % (v, exp))
        elif isinstance(exp, list):
            self.ok(np.asarray(v).tolist() == exp, where, "%r, expected %r" % (v, exp))
        else:
            got = np.asarray(v).item()
            self.same_json(got if not isinstance(got, bool) else int(got), exp, where)

    # ------------------------------------------------------------ stored values

    def stored(self, path, e):
        kind = e["kind"]
        if kind == "nd":
            ds = self.dataset(path, e["data"].dtype.name, e["shape"], e["data"])
            if ds is not None:
                self.attr(path, "logical_dtype", "bool" if e["bool"] else None)
        elif kind == "strings":
            self.strings(path, e["list"])
        elif kind == "csr":
            self.csr(path, e["csr"])
        else:
            if self.ok(isinstance(self.f.get(path), h5py.Dataset), path, "missing"):
                self.attr(path, "encoding", "json")
                self.json_text(path, e["value"])

    def csr(self, path, e):
        if not self.members(path, ["indptr", "indices", "data"]):
            return
        indptr = np.array(e["indptr"], dtype=np.int64)
        self.dataset(path + "/indptr", "int64", [len(indptr)], indptr)
        self.dataset(path + "/indices", e["indices"].dtype.name, [e["indices"].size], e["indices"])
        self.dataset(path + "/data", e["data"].dtype.name, [e["data"].size], e["data"])
        self.attr(path, "shape", list(e["shape"]), "int64")
        self.attr(path, "format", "csr")
        self.attr(path, "source_format", e["sourceFormat"])

    def record(self, path, fields):
        if not self.members(path, list(fields)):
            return
        for k, e in fields.items():
            self.stored(path + "/" + k, e)

    # ------------------------------------------------------------ the file

    def run(self):
        f, x = self.f, self.exp
        for name, value in [("format_name", "snn-export"), ("format_version", "2.0"), ("layout", "optimized"), ("status", "closed"), ("experiment_name", x["experiment_name"])]:
            self.attr("/", name, value)
        self.attr("/", "episode_count", x["episode_count"], "int64")
        top = ["config", "metadata", "network_structure", "checkpoints", "episodes", "timesteps", "spikes", "neural_states", "behavior", "rewards", "weight_changes", "events"]
        if x["static"]:
            top.append("episode_static")
        self.members("/", top)

        # config and metadata
        if self.members("/config", ["json"] if x["config"] is not None else []):
            if x["config"] is not None:
                self.json_text("/config/json", x["config"])
            attrs = f["config"].attrs
            self.ok(sorted(attrs.keys()) == sorted(x["config_attrs"]), "/config attributes", "%r, expected %r" % (sorted(attrs.keys()), sorted(x["config_attrs"])))
            for k, v in x["config_attrs"].items():
                if k in attrs:
                    if isinstance(v, bool):
                        self.attr("/config", k, int(v), "int8")
                    elif isinstance(v, str):
                        self.attr("/config", k, v)
                    else:
                        self.attr("/config", k, v, "float64")
        self.members("/metadata", ["user"] if x["metadata"] is not None else [])
        if x["metadata"] is not None:
            self.json_text("/metadata/user", x["metadata"])

        # network structure
        net = x["network"]
        ns_members = []
        if net["saved"]:
            ns_members = ["neurons", "connections"] + (["initial_weights"] if net["weights"] is not None else [])
        self.members("/network_structure", ns_members)
        self.attr("/network_structure", "n_neurons", net["n_neurons"], "int64" if net["n_neurons"] is not None else None)
        if net["saved"]:
            self.record("/network_structure/neurons", net["neurons"])
            self.record("/network_structure/connections", net["connections"])
            if net["weights"] is not None:
                self.csr("/network_structure/initial_weights", net["weights"])

        # the time axis and the streams
        ts = x["timesteps"]
        self.dataset("/timesteps", "int64", [ts.size], ts)
        sp = x["spikes"]
        # FORMAT.md: id_offsets (from format 2.0's lazy windows), like every stream, exists in a closed file
        self.members("/spikes", ["counts", "id_offsets", "neuron_ids"])
        if isinstance(self.f.get("/spikes/id_offsets"), h5py.Dataset):
            # id_offsets[k]: the row of neuron_ids where step row k * every starts, ceil(T / every) of them
            every = int(self.f["/spikes/id_offsets"].attrs.get("every", 0))
            if self.ok(every > 0, "/spikes/id_offsets@every", "missing or not positive: %r" % every):
                starts = np.concatenate([[0], np.cumsum(np.array([int(c) for c in sp["counts"]], dtype=np.int64))])[::every][: -(-ts.size // every)]
                self.dataset("/spikes/id_offsets", "int64", [starts.size], starts)
        self.attr("/spikes", "encoding", "csr_time")
        self.attr("/spikes", "n_neurons", sp["n_neurons"], "int64")
        self.dataset("/spikes/counts", sp["counts_dtypes"], [len(sp["counts"])], np.array(sp["counts"], dtype=object) if sp["counts"] else np.zeros(0))
        self.dataset("/spikes/neuron_ids", sp["ids_dtypes"], [len(sp["neuron_ids"])], np.array(sp["neuron_ids"], dtype=object) if sp["neuron_ids"] else np.zeros(0))
        every = int(f["/spikes/id_offsets"].attrs.get("every", 0)) if "/spikes/id_offsets" in f else 0
        if self.ok(every == x["chunk_size"], "/spikes/id_offsets@every", "%r, expected %r" % (every, x["chunk_size"])):
            starts = np.concatenate([[0], np.cumsum(np.array(sp["counts"], dtype=np.int64))])[:len(sp["counts"])]
            offsets = starts[::every] if len(sp["counts"]) else np.zeros(0, dtype=np.int64)
            self.dataset("/spikes/id_offsets", "int64", [len(offsets)], offsets.astype(np.int64))
        nst = x["neural_states"]
        self.members("/neural_states", ["timesteps"] + list(nst["vars"]))
        self.dataset("/neural_states/timesteps", "int64", [nst["timesteps"].size], nst["timesteps"])
        for name, v in nst["vars"].items():
            p = "/neural_states/" + name
            if self.dataset(p, v["data"].dtype.name, v["shape"], v["data"]) is not None:
                self.attr(p, "first_row", v["first_row"], "int64")
                self.ok(f[p].chunks is not None and f[p].maxshape[0] is None, p, "not chunked with an unlimited first dimension")
                row_bytes = max(1, int(np.prod(v["shape"][1:])) * f[p].dtype.itemsize)
                self.ok(f[p].chunks[0] * row_bytes <= max(1 << 20, row_bytes), p, "chunk of %s rows of %d bytes is over 1 MiB" % (f[p].chunks, row_bytes))
        self.members("/behavior", list(x["behavior"]))
        for key, v in x["behavior"].items():
            p = "/behavior/" + key
            if self.dataset(p, v["data"].dtype.name, v["shape"], v["data"]) is not None:
                self.attr(p, "first_row", v["first_row"], "int64")
                row_bytes = max(1, int(np.prod(v["shape"][1:])) * f[p].dtype.itemsize)
                self.ok(f[p].chunks[0] * row_bytes <= max(1 << 20, row_bytes), p, "chunk of %s rows of %d bytes is over 1 MiB" % (f[p].chunks, row_bytes))
        rw = x["rewards"]
        self.members("/rewards", ["timesteps", "values"])
        self.attr("/rewards", "encoding", "sparse_nonzero")
        self.dataset("/rewards/timesteps", "int64", [rw["timesteps"].size], rw["timesteps"])
        self.dataset("/rewards/values", "float64", [rw["values"].size], rw["values"])
        wc = x["weight_changes"]
        self.members("/weight_changes", list(WEIGHT_COLUMNS))
        for name, dtype in WEIGHT_COLUMNS.items():
            self.dataset("/weight_changes/" + name, dtype, [wc[name].size], wc[name])
        ev = x["events"]
        self.members("/events", ["timesteps", "types", "data"])
        self.dataset("/events/timesteps", "int64", [ev["timesteps"].size], ev["timesteps"])
        self.strings("/events/types", ev["types"])
        if self.ok(isinstance(f.get("/events/data"), h5py.Dataset), "/events/data", "missing"):
            texts = list(f["/events/data"].asstr()[()]) if f["/events/data"].shape != (0,) else []
            if self.ok(len(texts) == len(ev["data"]), "/events/data", "%d rows, expected %d" % (len(texts), len(ev["data"]))):
                for i, (t, e) in enumerate(zip(texts, ev["data"])):
                    self.same_json(json.loads(t), e, "/events/data[%d]" % i)

        # the episode table
        ep = x["episodes"]
        n = len(ep["episode_id"])
        self.members("/episodes", list(EPISODE_COLUMNS) + ["summary"])
        for name, dtype in EPISODE_COLUMNS.items():
            p = "/episodes/" + name
            if name.endswith("_rows"):
                self.dataset(p, dtype, [n, 2], ep[name])
            elif name in ("start_time", "end_time"):
                ds = self.dataset(p, dtype, [n], None)
                if ds is not None:
                    self.attr(p, "units", "seconds since 1970-01-01T00:00:00Z")
                    self.ok(bool(np.all(np.isfinite(ds[()]))), p, "not finite: %r" % ds[()][:5])
            else:
                self.dataset(p, dtype, [n], ep[name])
        if n:
            self.ok(bool(np.all(f["/episodes/end_time"][()] >= f["/episodes/start_time"][()])), "/episodes/end_time", "before start_time")
        self.attr("/episodes/status", "codes", '{"0":"running","1":"completed","2":"incomplete"}')
        if self.ok(isinstance(f.get("/episodes/summary"), h5py.Dataset), "/episodes/summary", "missing"):
            texts = list(f["/episodes/summary"].asstr()[()]) if f["/episodes/summary"].shape != (0,) else []
            if self.ok(len(texts) == len(ep["summary"]), "/episodes/summary", "%d rows, expected %d" % (len(texts), len(ep["summary"]))):
                for i, (t, e) in enumerate(zip(texts, ep["summary"])):
                    if e == "":
                        self.ok(t == "", "/episodes/summary[%d]" % i, "%r, expected none" % t)
                    else:
                        self.same_json(json.loads(t), e["json"], "/episodes/summary[%d]" % i)

        # every object: HDF5's attribute count is what iteration finds; numeric streams compressed as asked
        def visit(name, obj):
            self.ok(len(obj.attrs) == len(list(obj.attrs.keys())), "/" + name, "HDF5 counts %d attributes, iteration finds %d" % (len(obj.attrs), len(list(obj.attrs.keys()))))
        self.ok(len(f.attrs) == len(list(f.attrs.keys())), "/", "HDF5 counts %d attributes, iteration finds %d" % (len(f.attrs), len(list(f.attrs.keys()))))
        f.visititems(visit)
        for p in ["/timesteps", "/spikes/counts", "/rewards/values", "/episodes/total_reward"] + ["/neural_states/" + k for k in nst["vars"]]:
            if isinstance(f.get(p), h5py.Dataset):
                self.ok(f[p].compression == x["compression"], p, "compression %r, expected %r" % (f[p].compression, x["compression"]))

        # static episode data and checkpoints
        if x["static"]:
            self.members("/episode_static", list(x["static"]))
            for name, fields in x["static"].items():
                self.record("/episode_static/" + name, fields)
        self.members("/checkpoints", list(x["checkpoints"]))
        for name, cp in x["checkpoints"].items():
            p = "/checkpoints/" + name
            if self.members(p, list(cp["entries"])):
                self.attr(p, "episode_count", cp["episode_count"], "int64")
                self.ok("created_at" in f[p].attrs, p, "no created_at")
                for k, e in cp["entries"].items():
                    self.stored(p + "/" + k, e)


def check(file, expect_path):
    with open(expect_path, encoding="utf-8") as fh:
        exp = decode(json.load(fh))
    with h5py.File(file, "r") as f:
        c = Check(f, exp)
        try:
            c.run()
        except Exception as err:  # a read h5py could not do is a failure too
            import traceback
            c.errors.append("exception: %s" % "".join(traceback.format_exception_only(type(err), err)).strip() + " " + traceback.format_exc().splitlines()[-3])
    return c


def main():
    if sys.argv[1:] == ["--serve"]:
        for line in sys.stdin:
            req = json.loads(line)
            try:
                c = check(req["file"], req["expect"])
                answer = {"ok": not c.errors, "checks": c.checks, "errors": c.errors[:50]}
            except Exception as err:
                answer = {"ok": False, "errors": ["cannot check %s: %r" % (req["file"], err)]}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
        return 0
    c = check(sys.argv[1], sys.argv[2])
    if c.errors:
        print("\n".join(c.errors))
        return 1
    print("OK %d checks" % c.checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
