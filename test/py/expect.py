#!/usr/bin/env python3
"""Checks an HDF5 file against a description of what was written to it, with h5py alone.

Usage: expect.py SPEC.json

SPEC.json: {"files": {"<path>": {"objects": {...}, "same": [[a, b], ...], "complete": true}}}
where objects maps an HDF5 path to
  {"kind": "group", "attrs": {...}, "links": [names]}          links: the group's exact members
  {"kind": "dataset", "dtype": "int32", "shape": [..], "data": [flat values], "chunks": [..],
   "filters": ["shuffle", "deflate"], "attrs": {...}}
  {"kind": "strings", "shape": [n], "data": ["..."], "attrs": {...}}      (variable-length UTF-8)
  {"kind": "text", "value": "...", "attrs": {...}}                       (scalar string dataset)
and attrs maps a name to {"dtype": "float64" | "int8" | "string" | ..., "value": v, "shape": [..]}
(shape [] for a scalar). 64-bit integers may be given as decimal strings. "same" lists paths that
must be one object (hard links); with "complete", the file holds no object or attribute the
description does not name. Keys absent from a description are not checked.

Prints "OK <n> checks" and exits 0, or one line per mismatch and exits 1.
"""
import json
import sys

import h5py
import numpy as np

problems = []
checks = [0]


def check(cond, msg):
    checks[0] += 1
    if not cond:
        problems.append(msg)


def norm(v):
    """Comparable Python value of JSON / numpy data (64-bit integers given as strings: ints)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):
        return [norm(x) for x in v.ravel().tolist()] if v.dtype.kind != "O" else [norm(x) for x in v.ravel()]
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def same_values(got, want, dtype):
    got, want = norm(got), norm(want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(same_values(g, w, dtype) for g, w in zip(got, want))
    if dtype and (dtype.startswith("int") or dtype.startswith("uint")):
        return int(got) == int(want)
    if dtype == "float32":
        return float(np.float32(want)) == float(got)
    return got == want


def check_attrs(where, obj, want, complete):
    have = set(obj.attrs.keys())
    for name, a in want.items():
        if name not in have:
            problems.append("%s: attribute %s missing" % (where, name))
            continue
        aid = h5py.h5a.open(obj.id, name.encode())
        dtype = "string" if aid.dtype.kind in "OS" else str(aid.dtype)
        check(dtype == a["dtype"], "%s attribute %s: dtype %s, expected %s" % (where, name, dtype, a["dtype"]))
        shape = list(aid.shape)
        check(shape == a.get("shape", []), "%s attribute %s: shape %s, expected %s" % (where, name, shape, a.get("shape", [])))
        check(same_values(obj.attrs[name], a["value"], a["dtype"]), "%s attribute %s: %r, expected %r" % (where, name, norm(obj.attrs[name]), a["value"]))
    if complete:
        extra = have - set(want)
        check(not extra, "%s: attributes not written: %s" % (where, sorted(extra)))


def filters_of(ds):
    plist = ds.id.get_create_plist()
    names = {1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip"}
    return [names.get(plist.get_filter(i)[0], str(plist.get_filter(i)[0])) for i in range(plist.get_nfilters())]


def check_file(path, spec):
    f = h5py.File(path, "r")
    complete = spec.get("complete", False)
    objects = spec.get("objects", {})
    for p, o in objects.items():
        where = "%s:%s" % (path, p)
        if p != "/" and p not in f:
            problems.append("%s: missing" % where)
            continue
        obj = f[p]
        kind = o["kind"]
        if kind == "group":
            check(isinstance(obj, h5py.Group), "%s: not a group" % where)
            if "links" in o:
                check(sorted(obj.keys()) == sorted(o["links"]), "%s: members %s, expected %s" % (where, sorted(obj.keys()), sorted(o["links"])))
        elif kind == "dataset":
            check(isinstance(obj, h5py.Dataset) and obj.dtype.kind not in "OS", "%s: not a numeric dataset" % where)
            check(str(obj.dtype) == o["dtype"], "%s: dtype %s, expected %s" % (where, obj.dtype, o["dtype"]))
            check(list(obj.shape) == o["shape"], "%s: shape %s, expected %s" % (where, list(obj.shape), o["shape"]))
            if "chunks" in o:
                check(list(obj.chunks or []) == o["chunks"], "%s: chunks %s, expected %s" % (where, obj.chunks, o["chunks"]))
            if "filters" in o:
                check(filters_of(obj) == o["filters"], "%s: filters %s, expected %s" % (where, filters_of(obj), o["filters"]))
            if "data" in o:
                got = obj[()]
                ok = same_values(got.ravel(), o["data"], o["dtype"])
                if not ok:
                    g, w = norm(got.ravel()), o["data"]
                    first = next((i for i in range(min(len(g), len(w))) if not same_values(g[i], w[i], o["dtype"])), min(len(g), len(w)))
                    problems.append("%s: values differ from element %d (got %r, expected %r; %d vs %d elements)" % (
                        where, first, g[first:first + 3], w[first:first + 3], len(g), len(w)))
                checks[0] += 1
        elif kind == "strings":
            check(isinstance(obj, h5py.Dataset) and h5py.check_string_dtype(obj.dtype) is not None, "%s: not a string dataset" % where)
            check(list(obj.shape) == o["shape"], "%s: shape %s, expected %s" % (where, list(obj.shape), o["shape"]))
            got = [norm(x) for x in obj[()]]
            check(got == o["data"], "%s: strings differ (first %r, expected %r)" % (where, next((g for g, w in zip(got, o["data"]) if g != w), got[len(o["data"]):][:1]), next((w for g, w in zip(got, o["data"]) if g != w), o["data"][len(got):][:1])))
        elif kind == "text":
            check(isinstance(obj, h5py.Dataset) and obj.shape == (), "%s: not a scalar dataset" % where)
            check(norm(obj[()]) == o["value"], "%s: %r, expected %r" % (where, norm(obj[()])[:80], o["value"][:80]))
        check_attrs(where, obj, o.get("attrs", {}), complete)
    for a, b in spec.get("same", []):
        ia, ib = h5py.h5o.get_info(f[a].id), h5py.h5o.get_info(f[b].id)
        check(ia.addr == ib.addr, "%s: %s and %s are different objects" % (path, a, b))
    if complete:
        # by address: an object with several names is visited under one of them
        described = {h5py.h5o.get_info(f[p].id).addr for p in objects if p == "/" or p in f}
        found = {}
        f.visititems(lambda n, o: found.setdefault(h5py.h5o.get_info(o.id).addr, "/" + n) and None)
        extra = sorted(p for a, p in found.items() if a not in described)
        check(not extra, "%s: objects not written: %s" % (path, extra[:10]))
    f.close()


def main(argv):
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    spec = json.load(open(argv[0]))
    for path, s in spec["files"].items():
        try:
            check_file(path, s)
        except Exception as e:
            problems.append("%s: %s: %s" % (path, type(e).__name__, e))
    if problems:
        for p in problems:
            print(p)
        return 1
    print("OK %d checks" % checks[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
