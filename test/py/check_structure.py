#!/usr/bin/env python3
"""An independent structure check of HDF5 files (written by snn-export or by anything else).

Usage: check_structure.py [--json] FILE... [--killed FILE...]   (--killed: for the files after it)

Shares no code with snn-export's writers: it reads the raw bytes of the file with its own
parsers (written from the HDF5 File Format Specification, version 3.0) and asks the HDF5 library
through h5py's low-level API, and compares the two. Checks (the id is printed with each problem):

  S1  superblock: signature, version 0-3, 8-byte offsets and lengths; superblock 2/3: its
      Jenkins lookup3 checksum.
  S2  end-of-file address: equals the file size. Larger files are allowed only when the writer
      has not closed the file (root attribute `status` = `open`: the ts engine keeps sparse zeros
      ahead of the stated end while it writes) or with --killed (a writer killed at any moment).
      Never smaller.
  S3  the superblock's root object header address is the one HDF5 opens as `/`.
  O1  every object header parses: version 1, or version 2 "OHDR" with a valid checksum; messages
      lie inside their chunk; continuation blocks (v2: "OCHK" with a valid checksum) too.
  O2  reference counts: every object's reference count (v1: header prefix; v2: the reference
      count message, 1 without one) = H5Oget_info's rc = the number of hard links naming it,
      counted over every group of the file (the root: one more, the superblock's).
  O3  attribute counts: the attributes HDF5 counts (H5Aget_num_attrs) = those H5Aiterate visits =
      the attribute messages in the header (when the attributes are stored compactly); a v2
      header with attribute messages has an attribute info message.
  O4  every attribute and dataset reads in h5py (all values decoded, chunks decompressed).
  C1  chunk indexes (layout message v3, version-1 B-trees): every node is a "TREE" of node type 1
      (chunks), its level is its parent's minus one, it has 1-2K entries (2K = 64; 0 only for an
      empty root leaf); keys strictly increase within a node and lie between the parent's keys
      around it; the left and right sibling addresses of each level link its nodes in order,
      UNDEF at both ends (with --killed, the right end may point to a node written by a flush
      whose parent update the kill cut off); no node is reached twice.
  C2  chunks: the chunk dimensions of the layout message are the dataset's (h5py) with the
      element size last; a chunk's offset is a multiple of the chunk dimensions in every
      dimension and inside the extent (--killed: beyond it allowed); each chunk appears once;
      its stored size is > 0; the chunks found in the B-tree are exactly those H5Dget_chunk_info
      lists (offset, address, size, filter mask).
  C3  every chunk of the extent exists (snn-export writes every row; HDF5 would read missing
      chunks as fill values, silently).
  F1  chunk shapes as FORMAT.md says (files with `format_name` = snn-export, `format_version`
      2.x), with C = `chunkSize` from `exporter_options`: chunk rows of /timesteps,
      /spikes/counts, /neural_states/timesteps, /rewards/* = C; /spikes/neuron_ids
      max(C, 65536); /neural_states/<var> and /behavior/* max(1, min(C, 1 MiB / row bytes)); /spikes/spike_matrix
      max(1, min(C, 1 MiB / N)); /weight_changes/* and /events/timesteps min(C, 4096); the
      episode table's numeric columns and /spikes/id_offsets 4096; the string columns /events/types, /events/data,
      /episodes/summary 4096. A numeric stream first written at close() may instead have one
      chunk of exactly its rows (rows < the rule's value). Every other chunked dataset: chunk
      rows <= max(rows, 1), chunk bytes <= 1 MiB (or one row). Every chunk spans whole rows
      (all files).
  V1  virtual datasets (data layout message version 4, class 3): the layout names a global heap
      object that exists; it parses as HDF5's encoding version 0 (mapping count, per mapping the
      source file and dataset names and two serialized selections: "all", hyperslab version 1 or
      2, point) with a valid lookup3 checksum; the mappings equal what HDF5 reports
      (H5Pget_virtual_*: h5py's virtual_sources()): source file, dataset and virtual block; the
      virtual blocks lie inside the dataset's extent and do not overlap.
  L1  external links: the target file (relative to the linking file's directory) exists, opens
      in h5py and holds the target object.
  R1  object references (datatype class 7, type 0) in attributes hold the address of an object
      header reached from the root (NWB's VectorIndex `target`).
  H1  variable-length data: every global heap ID in attributes and in unfiltered datasets names
      a "GCOL" collection (version 1) that parses, inside the end of file, holding an object of
      that index with the referenced length.
  A1  space: the structures found (superblock, object headers and continuation blocks, B-tree
      nodes at their full size, chunks at their stored size, global heap collections) do not
      overlap and end within the end-of-file address.
  A2  unaccounted space (end of file minus the bytes of A1) <= 10 % of the end-of-file address
      + 1 MiB + three superseded copies of every dataset's largest stored chunk (rounded up to a
      quarter power of two): a partial chunk rewritten at a flush leaves its old copy, reusable
      two flushes later, so the last flushes' copies stay as holes; what grows beyond this with
      the number of flushes is leaked space. Measured on closed and killed files alike. Applied only when every structure of the file is one the checker parses (the
      pure-TypeScript engine's files; files of the HDF5 library may hold fractal heaps, v2
      B-trees or symbol tables, and then A2 is reported as not applied), and not to SWMR files
      (superblock 3), which never reuse superseded space by design. `h5stat -S` is not
      used for this: it does not count global heap collections (on a demo file it reported 42 %
      unaccounted where A1 finds 0.3 %).

Prints one line per file: "OK <file>: ..." with what was checked, or "FAIL <file>" followed by
one line per problem ("  [ID] ..."). With --json: one JSON object per file instead. Exit 0 when
every file passes, 1 when a check failed, 2 on bad usage or when h5py / numpy is missing.
"""
import json
import mmap
import os
import struct
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the callers (test/helpers.ts) turn this into a skip, or a failure on CI
    print("h5py missing: %s" % e, file=sys.stderr)
    sys.exit(2)

UNDEF = 0xFFFFFFFFFFFFFFFF
MIB = 1 << 20
SIGNATURE = b"\x89HDF\r\n\x1a\n"
# message types (File Format Specification IV.A.2)
NIL, DATASPACE, LINFO, DATATYPE, FILL_OLD, FILL, LINK, EXTERNAL, LAYOUT = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
GINFO, FILTERS, ATTRIBUTE, CONT, STAB, AINFO, REFCOUNT = 0x0A, 0x0B, 0x0C, 0x10, 0x11, 0x15, 0x16
KNOWN_NO_ADDRESS = {NIL, DATASPACE, DATATYPE, FILL_OLD, FILL, LINK, GINFO, FILTERS, 0x0D, 0x0E, 0x12, 0x13, REFCOUNT, 0x09, 0x0F}


# ------------------------------------------------------------------ Jenkins lookup3 (hashlittle)

def _rot(x, k):
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


def lookup3(data, initval=0):
    """hashlittle() of Bob Jenkins' lookup3.c, the checksum of HDF5 metadata (byte-wise form)."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & 0xFFFFFFFF
    i = 0
    M = 0xFFFFFFFF
    while n - i > 12:
        x, y, z = struct.unpack_from("<III", data, i)
        a = (a + x) & M
        b = (b + y) & M
        c = (c + z) & M
        a = (a - c) & M; a ^= _rot(c, 4); c = (c + b) & M
        b = (b - a) & M; b ^= _rot(a, 6); a = (a + c) & M
        c = (c - b) & M; c ^= _rot(b, 8); b = (b + a) & M
        a = (a - c) & M; a ^= _rot(c, 16); c = (c + b) & M
        b = (b - a) & M; b ^= _rot(a, 19); a = (a + c) & M
        c = (c - b) & M; c ^= _rot(b, 4); b = (b + a) & M
        i += 12
    if n - i == 0:
        return c
    tail = bytes(data[i:n]) + bytes(12 - (n - i))
    x, y, z = struct.unpack("<III", tail)
    a = (a + x) & M
    b = (b + y) & M
    c = (c + z) & M
    c ^= b; c = (c - _rot(b, 14)) & M
    a ^= c; a = (a - _rot(c, 11)) & M
    b ^= a; b = (b - _rot(a, 25)) & M
    c ^= b; c = (c - _rot(b, 16)) & M
    a ^= c; a = (a - _rot(c, 4)) & M
    b ^= a; b = (b - _rot(a, 14)) & M
    c ^= b; c = (c - _rot(b, 24)) & M
    return c


# ------------------------------------------------------------------ raw reads

class Problem(Exception):
    pass


class Raw:
    """Little-endian reads of the file's bytes at file addresses (base address added)."""

    def __init__(self, path):
        self.size = os.path.getsize(path)
        self.f = open(path, "rb")
        self.m = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        self.base = 0

    def close(self):
        if self.size:
            self.m.close()
        self.f.close()

    def bytes(self, addr, n):
        a = self.base + addr
        if addr == UNDEF or a < 0 or a + n > self.size:
            raise Problem("read of %d bytes at %s is beyond the file (%d bytes)" % (n, fmt_addr(addr), self.size))
        return self.m[a:a + n]

    def u8(self, addr):
        return self.bytes(addr, 1)[0]

    def u16(self, addr):
        return struct.unpack("<H", self.bytes(addr, 2))[0]

    def u32(self, addr):
        return struct.unpack("<I", self.bytes(addr, 4))[0]

    def u64(self, addr):
        return struct.unpack("<Q", self.bytes(addr, 8))[0]


def fmt_addr(a):
    return "UNDEF" if a == UNDEF else str(a)


def le(b, off, n):
    return int.from_bytes(b[off:off + n], "little")


# ------------------------------------------------------------------ object headers

class Header:
    def __init__(self, addr):
        self.addr = addr
        self.version = 0
        self.messages = []  # (type, flags, data bytes)
        self.regions = []  # (addr, size, what)
        self.refcount = 1


def parse_header(raw, addr):
    """Parses the object header at `addr` (version 1 or 2) with its continuation blocks (O1)."""
    h = Header(addr)
    if raw.bytes(addr, 4) == b"OHDR":
        h.version = 2
        ver, flags = raw.u8(addr + 4), raw.u8(addr + 5)
        if ver != 2:
            raise Problem("object header at %d: OHDR version %d" % (addr, ver))
        p = addr + 6
        if flags & 0x20:
            p += 16
        if flags & 0x10:
            p += 4
        w = 1 << (flags & 3)
        size0 = int.from_bytes(raw.bytes(p, w), "little")
        p += w
        end = p + size0
        check = raw.u32(end)
        got = lookup3(raw.bytes(addr, end - addr))
        if got != check:
            raise Problem("object header at %d: checksum %08x, computed %08x" % (addr, check, got))
        h.regions.append((addr, end + 4 - addr, "object header"))
        conts = []
        read_v2_messages(raw, h, p, end, flags, conts)
        seen = set()
        while conts:
            caddr, clen = conts.pop(0)
            if caddr in seen:
                raise Problem("object header at %d: continuation block %d reached twice" % (addr, caddr))
            seen.add(caddr)
            if raw.bytes(caddr, 4) != b"OCHK":
                raise Problem("object header at %d: continuation block at %d lacks OCHK" % (addr, caddr))
            check = raw.u32(caddr + clen - 4)
            got = lookup3(raw.bytes(caddr, clen - 4))
            if got != check:
                raise Problem("object header at %d: continuation block at %d: checksum %08x, computed %08x" % (addr, caddr, check, got))
            h.regions.append((caddr, clen, "object header continuation"))
            read_v2_messages(raw, h, caddr + 4, caddr + clen - 4, flags, conts)
        for t, _, data in h.messages:
            if t == REFCOUNT:
                if data[0] != 0:
                    raise Problem("object header at %d: reference count message version %d" % (addr, data[0]))
                h.refcount = le(data, 1, 4)
        return h
    ver = raw.u8(addr)
    if ver != 1:
        raise Problem("object header at %d: neither OHDR nor version 1 (first byte %d)" % (addr, ver))
    h.version = 1
    nmsgs = raw.u16(addr + 2)
    h.refcount = raw.u32(addr + 4)
    hsize = raw.u32(addr + 8)
    h.regions.append((addr, 16 + hsize, "object header"))
    conts = []
    read_v1_messages(raw, h, addr + 16, addr + 16 + hsize, conts)
    seen = set()
    while conts:
        caddr, clen = conts.pop(0)
        if caddr in seen:
            raise Problem("object header at %d: continuation block %d reached twice" % (addr, caddr))
        seen.add(caddr)
        h.regions.append((caddr, clen, "object header continuation"))
        read_v1_messages(raw, h, caddr, caddr + clen, conts)
    if len(h.messages) != nmsgs:
        raise Problem("object header at %d: %d messages found, the prefix says %d" % (addr, len(h.messages), nmsgs))
    return h


def read_v2_messages(raw, h, p, end, hflags, conts):
    hdr = 6 if hflags & 0x04 else 4
    while end - p >= hdr:
        t, size, mflags = raw.u8(p), raw.u16(p + 1), raw.u8(p + 3)
        p += hdr
        if p + size > end:
            raise Problem("object header at %d: message type %d of %d bytes runs past its chunk" % (h.addr, t, size))
        data = raw.bytes(p, size)
        p += size
        h.messages.append((t, mflags, data))
        if t == CONT:
            conts.append((le(data, 0, 8), le(data, 8, 8)))
    if p != end and any(raw.bytes(p, end - p)):
        raise Problem("object header at %d: %d stray non-zero bytes at the end of a chunk" % (h.addr, end - p))


def read_v1_messages(raw, h, p, end, conts):
    while end - p >= 8:
        t, size, mflags = raw.u16(p), raw.u16(p + 2), raw.u8(p + 4)
        p += 8
        if p + size > end:
            raise Problem("object header at %d: message type %d of %d bytes runs past its chunk" % (h.addr, t, size))
        data = raw.bytes(p, size)
        p += size
        h.messages.append((t, mflags, data))
        if t == CONT:
            conts.append((le(data, 0, 8), le(data, 8, 8)))


# ------------------------------------------------------------------ message bodies

def parse_dataspace(d):
    """Returns the dims list, or None for a scalar, [] elements 0 for null ('null')."""
    ver, rank, flags = d[0], d[1], d[2]
    if ver == 1:
        off = 8
        kind = 1 if rank > 0 else 0
    elif ver == 2:
        kind = d[3]
        off = 4
    else:
        raise Problem("dataspace message version %d" % ver)
    if kind == 2:
        return "null"
    if kind == 0 or rank == 0:
        return None
    return [le(d, off + 8 * i, 8) for i in range(rank)]


def elements(space):
    if space == "null":
        return 0
    if space is None:
        return 1
    n = 1
    for x in space:
        n *= x
    return n


def datatype_info(d):
    """(class, element size, is a variable-length type)."""
    cls = d[0] & 0x0F
    return cls, le(d, 4, 4), cls == 9


def parse_attribute(d):
    """(name, datatype bytes, dataspace bytes, data bytes) of an attribute message, versions 1-3."""
    ver = d[0]
    nlen, tlen, slen = le(d, 2, 2), le(d, 4, 2), le(d, 6, 2)
    if ver == 1:
        pad = lambda n: (n + 7) & ~7
        p = 8
        name = d[p:p + nlen]; p += pad(nlen)
        t = d[p:p + tlen]; p += pad(tlen)
        s = d[p:p + slen]; p += pad(slen)
    elif ver in (2, 3):
        p = 8 if ver == 2 else 9
        name = d[p:p + nlen]; p += nlen
        t = d[p:p + tlen]; p += tlen
        s = d[p:p + slen]; p += slen
    else:
        raise Problem("attribute message version %d" % ver)
    return name.rstrip(b"\0"), t, s, d[p:]


def parse_layout(d):
    """{'class': 0|1|2, 'version', 'btree', 'dims', 'data', 'addr', 'size', 'index'}."""
    ver = d[0]
    out = {"version": ver}
    if ver == 3:
        cls = d[1]
        out["class"] = cls
        if cls == 0:
            n = le(d, 2, 2)
            out["data"] = d[4:4 + n]
        elif cls == 1:
            out["addr"], out["size"] = le(d, 2, 8), le(d, 10, 8)
        elif cls == 2:
            nd = d[2]
            out["btree"] = le(d, 3, 8)
            out["dims"] = [le(d, 11 + 4 * i, 4) for i in range(nd)]
        return out
    if ver in (1, 2):
        nd, cls = d[1], d[2]
        out["class"] = cls
        p = 8
        if cls != 0:
            out["btree" if cls == 2 else "addr"] = le(d, p, 8)
            p += 8
        out["dims"] = [le(d, p + 4 * i, 4) for i in range(nd)]
        p += 4 * nd
        if cls == 2:
            out["dims"].append(le(d, p, 4))
        return out
    out["class"] = d[1]
    if ver == 4 and d[1] == 3:
        out["heap"] = (le(d, 2, 8), le(d, 10, 4))
        return out
    out["index"] = "layout message version %d" % ver
    return out


def parse_selection(b, p):
    """A serialized dataspace selection at b[p:]: (kind, blocks [(start, end inclusive)...] or None, next p)."""
    sel_type, version = le(b, p, 4), le(b, p + 4, 4)
    if sel_type == 3:  # all
        return "all", None, p + 16
    if sel_type == 0:  # none
        return "none", [], p + 16
    if sel_type == 2 and version == 1:
        length, rank, n = le(b, p + 12, 4), le(b, p + 16, 4), le(b, p + 20, 4)
        if length != 8 + n * rank * 8:
            raise Problem("hyperslab selection v1: length %d, %d blocks of rank %d" % (length, n, rank))
        q = p + 24
        blocks = []
        for _ in range(n):
            start = tuple(le(b, q + 4 * i, 4) for i in range(rank))
            end = tuple(le(b, q + 4 * (rank + i), 4) for i in range(rank))
            blocks.append((start, end))
            q += 8 * rank
        return "hyperslab", blocks, q
    if sel_type == 2 and version == 2:
        flags, length, rank = b[p + 8], le(b, p + 9, 4), le(b, p + 13, 4)
        q = p + 17
        if not flags & 1:
            raise Problem("hyperslab selection v2 without the regular flag")
        start, stride, count, block = [], [], [], []
        for _ in range(rank):
            st, sd, ct, bl = (le(b, q + 8 * i, 8) for i in range(4))
            start.append(st); stride.append(sd); count.append(ct); block.append(bl)
            q += 32
        if any(c != 1 for c in count):
            return "hyperslab", None, q  # regular with several blocks: not checked block by block
        return "hyperslab", [(tuple(start), tuple(st + bl - 1 for st, bl in zip(start, block)))], q
    raise Problem("selection type %d version %d not parsed" % (sel_type, version))


def parse_vds_block(b):
    """HDF5's encoding (version 0) of a virtual dataset's mappings: [(file, dataset, source, virtual)]."""
    if b[0] != 0:
        raise Problem("VDS heap block encoding version %d, not 0" % b[0])
    if lookup3(bytes(b[:-4])) != le(b, len(b) - 4, 4):
        raise Problem("VDS heap block: lookup3 checksum does not match")
    n = le(b, 1, 8)
    p = 9
    out = []
    for _ in range(n):
        e = b.index(b"\0", p)
        fname = bytes(b[p:e]).decode("utf-8")
        p = e + 1
        e = b.index(b"\0", p)
        dname = bytes(b[p:e]).decode("utf-8")
        p = e + 1
        src = parse_selection(b, p)
        p = src[2]
        virt = parse_selection(b, p)
        p = virt[2]
        out.append((fname.replace("%%", "%"), dname.replace("%%", "%"), src[:2], virt[:2]))
    if p != len(b) - 4:
        raise Problem("VDS heap block: %d bytes after the %d mappings" % (len(b) - 4 - p, n))
    return out


# ------------------------------------------------------------------ version-1 B-trees (chunks)

def key_offsets(b, at, nd):
    size, mask = le(b, at, 4), le(b, at + 4, 4)
    offs = tuple(le(b, at + 8 + 8 * i, 8) for i in range(nd))
    return size, mask, offs


def walk_chunk_btree(raw, root, nd, K2, killed, problems, regions, where):
    """C1: walks the chunk B-tree at `root`; returns {offset: (addr, size, mask)} of the chunks."""
    keysize = 8 + 8 * nd
    nodesize = 24 + K2 * 8 + (K2 + 1) * keysize
    chunks = {}
    levels = {}  # level -> [(addr, left, right)] in key order
    seen = set()

    def node(addr, want_level, lo, hi):
        if addr in seen:
            problems.append(("C1", "%s: B-tree node %d reached twice" % (where, addr)))
            return
        seen.add(addr)
        b = raw.bytes(addr, 24)
        if b[0:4] != b"TREE":
            raise Problem("%s: no TREE signature at B-tree node %d" % (where, addr))
        ntype, level, n = b[4], b[5], le(b, 6, 2)
        left, right = le(b, 8, 8), le(b, 16, 8)
        if ntype != 1:
            problems.append(("C1", "%s: B-tree node %d has node type %d, not 1 (chunks)" % (where, addr, ntype)))
            return
        if want_level is not None and level != want_level:
            problems.append(("C1", "%s: B-tree node %d has level %d, its parent says %d" % (where, addr, level, want_level)))
        if n > K2 or (n == 0 and not (addr == root and level == 0)):
            problems.append(("C1", "%s: B-tree node %d (level %d) has %d entries (1..%d allowed)" % (where, addr, level, n, K2)))
        regions.append((addr, nodesize, "B-tree node of %s" % where))
        levels.setdefault(level, []).append((addr, left, right))
        body = raw.bytes(addr + 24, n * (keysize + 8) + keysize)
        keys, children = [], []
        for i in range(n + 1):
            at = i * (keysize + 8)
            keys.append(key_offsets(body, at, nd))
            if i < n:
                children.append(le(body, at + keysize, 8))
        for i in range(n):
            if not keys[i][2] < keys[i + 1][2]:
                problems.append(("C1", "%s: B-tree node %d: key %d %s is not below key %d %s" % (where, addr, i, keys[i][2], i + 1, keys[i + 1][2])))
        if n and lo is not None and keys[0][2] < lo:
            problems.append(("C1", "%s: B-tree node %d: first key %s below its parent's key %s" % (where, addr, keys[0][2], lo)))
        if n and hi is not None and keys[n][2] > hi:
            problems.append(("C1", "%s: B-tree node %d: last key %s above its parent's next key %s" % (where, addr, keys[n][2], hi)))
        for i in range(n):
            if level == 0:
                size, mask, offs = keys[i]
                if offs in chunks:
                    problems.append(("C2", "%s: chunk %s indexed twice" % (where, offs)))
                chunks[offs] = (children[i], size, mask)
            else:
                node(children[i], level - 1, keys[i][2], keys[i + 1][2])

    node(root, None, None, None)
    for level, nodes in levels.items():
        for j, (addr, left, right) in enumerate(nodes):
            want_left = nodes[j - 1][0] if j > 0 else UNDEF
            want_right = nodes[j + 1][0] if j + 1 < len(nodes) else UNDEF
            if left != want_left:
                problems.append(("C1", "%s: B-tree node %d (level %d, %d of %d): left sibling %s, expected %s" % (where, addr, level, j + 1, len(nodes), fmt_addr(left), fmt_addr(want_left))))
            if right != want_right:
                ok = False
                if killed and j + 1 == len(nodes) and right != UNDEF:
                    # a flush cut off after the node got its new right sibling, before the parent did
                    try:
                        b = raw.bytes(right, 24)
                        ok = b[0:4] == b"TREE" and b[5] == level and le(b, 8, 8) == addr
                    except Problem:
                        ok = False
                if not ok:
                    problems.append(("C1", "%s: B-tree node %d (level %d, %d of %d): right sibling %s, expected %s" % (where, addr, level, j + 1, len(nodes), fmt_addr(right), fmt_addr(want_right))))
    return chunks, len(seen)


# ------------------------------------------------------------------ global heap

class Heap:
    def __init__(self, raw, problems):
        self.raw = raw
        self.problems = problems
        self.collections = {}  # addr -> {index: length} or None when broken

    def collection(self, addr):
        if addr in self.collections:
            return self.collections[addr]
        objs = None
        try:
            b = self.raw.bytes(addr, 16)
            if b[0:4] != b"GCOL" or b[4] != 1:
                raise Problem("no GCOL version 1 at %d" % addr)
            size = le(b, 8, 8)
            body = self.raw.bytes(addr, size)
            objs = {}
            p = 16
            while p + 16 <= size:
                idx, size_o = le(body, p, 2), le(body, p + 8, 8)
                if idx == 0:
                    if p + size_o > size:
                        raise Problem("GCOL at %d: free space object of %d bytes at %d runs past the collection (%d)" % (addr, size_o, p, size))
                    break
                if p + 16 + size_o > size:
                    raise Problem("GCOL at %d: object %d of %d bytes runs past the collection (%d bytes)" % (addr, idx, size_o, size))
                if idx in objs:
                    raise Problem("GCOL at %d: object index %d twice" % (addr, idx))
                objs[idx] = size_o
                p += 16 + ((size_o + 7) & ~7)
            self.collections[addr] = objs
            self.sizes = getattr(self, "sizes", {})
            self.sizes[addr] = size
        except Problem as e:
            self.problems.append(("H1", str(e)))
            self.collections[addr] = None
        return self.collections[addr]

    def object_bytes(self, addr, idx):
        """The bytes of heap object `idx` of the collection at `addr` (None when absent)."""
        if not self.collection(addr) or idx not in self.collections[addr]:
            return None
        body = self.raw.bytes(addr, self.sizes[addr])
        p = 16
        while p + 16 <= len(body):
            i, n = le(body, p, 2), le(body, p + 8, 8)
            if i == idx:
                return body[p + 16:p + 16 + n]
            if i == 0:
                break
            p += 16 + ((n + 7) & ~7)
        return None

    def refs(self, data, count, where):
        """Checks `count` vlen elements (16 bytes each: length, collection address, index)."""
        for i in range(count):
            n, addr, idx = struct.unpack_from("<IQI", data, 16 * i)
            if addr == 0 and idx == 0:
                if n != 0:
                    self.problems.append(("H1", "%s: element %d: %d bytes but no heap object" % (where, i, n)))
                continue
            objs = self.collection(addr)
            if objs is None:
                self.problems.append(("H1", "%s: element %d names collection %d, which does not parse" % (where, i, addr)))
                continue
            if idx not in objs:
                self.problems.append(("H1", "%s: element %d names object %d of collection %d, which has none" % (where, i, idx, addr)))
            elif objs[idx] != n:
                self.problems.append(("H1", "%s: element %d: heap object %d/%d holds %d bytes, the reference says %d" % (where, i, addr, idx, objs[idx], n)))


def size_class(n):
    """n rounded up to a quarter power of two (at least 256): the space a rewritten partial chunk takes."""
    if n <= 256:
        return 256
    step = 1 << max(0, n.bit_length() - 1 - 2)
    return -(-n // step) * step


# ------------------------------------------------------------------ FORMAT.md chunk shapes (F1)

def format_chunk_rule(path, rows, row_shape, itemsize, is_string, opts):
    """(expected chunk rows, may be 'whole') for snn-export 2.x datasets, or None: generic rule."""
    C = opts.get("chunkSize", 10000)
    row_elems = 1
    for x in row_shape:
        row_elems *= x
    if path in ("/timesteps", "/spikes/counts", "/neural_states/timesteps", "/rewards/timesteps", "/rewards/values"):
        return C, True
    if path == "/spikes/neuron_ids":
        return max(C, 65536), True
    if path.startswith("/neural_states/") or path.startswith("/behavior/"):
        return max(1, min(C, MIB // max(1, row_elems * itemsize))), True
    if path == "/spikes/spike_matrix":
        return max(1, min(C, MIB // max(1, row_elems))), True
    if path.startswith("/weight_changes/") or path == "/events/timesteps":
        return min(C, 4096), True
    if path == "/spikes/id_offsets":
        return 4096, True
    if path in ("/events/types", "/events/data", "/episodes/summary"):
        return 4096, False
    if path.startswith("/episodes/") and path.count("/") == 2:
        return 4096, True
    return None


# ------------------------------------------------------------------ one file

class Result:
    def __init__(self, path):
        self.path = path
        self.problems = []  # (id, text)
        self.stats = {}
        self.notes = []

    @property
    def ok(self):
        return not self.problems


def attr_text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == () and v.dtype.kind in "OS":
        return attr_text(v[()])
    return v if isinstance(v, str) else None


def check_file(path, killed=False):
    res = Result(path)
    P = res.problems
    raw = Raw(path)
    try:
        _check(raw, path, killed, res)
    except Problem as e:
        P.append(("O1", str(e)))
    except Exception as e:  # h5py refusing the file is a finding too
        P.append(("O4", "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")))
    finally:
        raw.close()
    return res


def _check(raw, path, killed, res):
    P = res.problems
    regions = []  # (addr, size, what)
    complete = [True, []]  # can A2 be applied; why not

    def incomplete(why):
        if why not in complete[1]:
            complete[1].append(why)
        complete[0] = False

    # ---- superblock (S1)
    base = None
    for at in [0] + [512 << i for i in range(20)]:
        if at + 8 > raw.size:
            break
        if raw.m[at:at + 8] == SIGNATURE:
            base = at
            break
    if base is None:
        raise Problem("no HDF5 signature")
    raw.base = base
    sb_ver = raw.u8(8)
    K2 = 64
    if sb_ver in (2, 3):
        so, sl = raw.u8(9), raw.u8(10)
        flags = raw.u8(11)
        ext, eof, root = raw.u64(20), raw.u64(28), raw.u64(36)
        check = raw.u32(44)
        got = lookup3(raw.bytes(0, 44))
        if got != check:
            P.append(("S1", "superblock checksum %08x, computed %08x" % (check, got)))
        sb_size = 48
        if flags and sb_ver == 2:
            P.append(("S1", "superblock 2 with file consistency flags %d" % flags))
        if sb_ver == 3:
            # SWMR files never reuse superseded space (a reader may hold older metadata; FORMAT.md)
            incomplete("superblock 3 (SWMR: superseded space is never reused)")
        if ext != UNDEF:
            h = parse_header(raw, ext)
            regions.extend(h.regions)
            incomplete("superblock extension")
    elif sb_ver in (0, 1):
        so, sl = raw.u8(13), raw.u8(14)
        p = 24
        if sb_ver == 1:
            K2 = 2 * raw.u16(24)
            p = 28
        eof = raw.u64(p + 16)
        root = raw.u64(p + 32 + 8)
        sb_size = p + 32 + 40
        incomplete("superblock version %d (symbol-table groups)" % sb_ver)
    else:
        raise Problem("superblock version %d" % sb_ver)
    if (so, sl) != (8, 8):
        raise Problem("superblock: sizes of offsets/lengths %d/%d, not 8/8" % (so, sl))
    regions.append((0, sb_size, "superblock"))
    res.stats["superblock"] = sb_ver
    res.stats["eof"] = eof
    res.stats["size"] = raw.size - base

    f = h5py.File(path, "r")
    try:
        root_id = h5py.h5g.open(f.id, b"/")
        # ---- S2
        status = attr_text(f.attrs["status"]) if "status" in f.attrs else None
        size = raw.size - base
        if eof > size:
            P.append(("S2", "end-of-file address %d beyond the file size %d" % (eof, size)))
        elif eof < size and not killed and status != "open":
            P.append(("S2", "end-of-file address %d, but the file has %d bytes (%d more) and its status is %r" % (eof, size, size - eof, status)))
        res.stats["status"] = status
        # ---- S3
        root_info = h5py.h5o.get_info(root_id)
        if root_info.addr != root:
            P.append(("S3", "superblock names root %d, HDF5 opened %d" % (root, root_info.addr)))

        # ---- names: every hard link of every group, each group visited once
        names = {root_info.addr: 1}  # the superblock's reference
        paths = {root_info.addr: "/"}
        kinds = {root_info.addr: h5py.h5o.TYPE_GROUP}
        queue = [("/", root_id)]
        externals = []
        seen_groups = {root_info.addr}
        while queue:
            gpath, gid = queue.pop(0)
            found = []
            gid.links.iterate(lambda n, info: found.append((n, info.type, info.u)) and None, info=True)
            for name, ltype, addr in found:
                if ltype == h5py.h5l.TYPE_EXTERNAL:
                    externals.append((gpath, gid, name))
                if ltype != h5py.h5l.TYPE_HARD:
                    continue
                names[addr] = names.get(addr, 0) + 1
                child = (gpath.rstrip("/") + "/" + name.decode("utf-8", "replace"))
                if addr not in paths:
                    paths[addr] = child
                    oid = h5py.h5o.open(gid, name)
                    kinds[addr] = h5py.h5o.get_info(oid).type
                    if kinds[addr] == h5py.h5o.TYPE_GROUP and addr not in seen_groups:
                        seen_groups.add(addr)
                        queue.append((child, oid))
        res.stats["objects"] = len(paths)
        res.stats["links"] = sum(names.values()) - 1
        # ---- L1 external links
        res.stats["external_links"] = len(externals)
        for gpath, gid, name in externals:
            where = gpath.rstrip("/") + "/" + name.decode("utf-8", "replace")
            try:
                tfile, tobj = gid.links.get_val(name)
                tfile, tobj = tfile.decode("utf-8"), tobj.decode("utf-8")
                target = tfile if os.path.isabs(tfile) else os.path.join(os.path.dirname(os.path.abspath(path)), tfile)
                if not os.path.isfile(target):
                    P.append(("L1", "%s: external link to %s, which does not exist" % (where, tfile)))
                    continue
                with h5py.File(target, "r") as tf:
                    if tobj != "/" and tobj not in tf:
                        P.append(("L1", "%s: external link to %s:%s, which has no such object" % (where, tfile, tobj)))
            except Exception as e:  # noqa: BLE001 - any failure to follow is the finding
                P.append(("L1", "%s: external link does not open: %s" % (where, e)))

        heap = Heap(raw, P)
        opts = {}
        snn2 = False
        if "format_name" in f.attrs and attr_text(f.attrs["format_name"]) == "snn-export":
            ver = attr_text(f.attrs.get("format_version", b"")) or ""
            snn2 = ver.startswith("2.")
            try:
                opts = json.loads(attr_text(f.attrs["exporter_options"]))
            except Exception:
                opts = {}
            if snn2 and not isinstance(opts.get("chunkSize"), int):
                # not written by DataExporter (a hand-made fixture): FORMAT.md's chunk rules do not apply
                snn2 = False
                res.notes.append("F1 not applied: no chunkSize in exporter_options")
        n_chunks = n_nodes = 0
        slack = 0  # A2: three superseded copies of each dataset's largest chunk
        for addr, opath in sorted(paths.items(), key=lambda kv: kv[1]):
            oid = h5py.h5o.open(root_id, opath.encode()) if opath != "/" else root_id
            info = h5py.h5o.get_info(oid)
            where = opath
            # ---- O1 raw header
            h = parse_header(raw, addr)
            regions.extend(h.regions)
            # ---- O2
            if not (h.refcount == info.rc == names[addr]):
                P.append(("O2", "%s: reference count %d in the header, %d by HDF5, %d names" % (where, h.refcount, info.rc, names[addr])))
            # ---- O3
            iterated = []
            h5py.h5a.iterate(oid, lambda n: iterated.append(n) and None)
            counted = h5py.h5a.get_num_attrs(oid)
            msgs = [m for m in h.messages if m[0] == ATTRIBUTE]
            ainfo = [m for m in h.messages if m[0] == AINFO]
            dense = False
            if ainfo:
                d = ainfo[0][2]
                off = 2 + (2 if d[1] & 1 else 0)
                dense = le(d, off, 8) != UNDEF
                if dense:
                    incomplete("dense attribute storage")
            if counted != len(iterated) or (not dense and len(msgs) != len(iterated)):
                P.append(("O3", "%s: HDF5 counts %d attributes, iteration visits %d, the header holds %d attribute messages" % (where, counted, len(iterated), len(msgs))))
            if h.version == 2 and msgs and not ainfo:
                P.append(("O3", "%s: version-2 header with %d attribute messages and no attribute info message" % (where, len(msgs))))
            for t, mflags, d in h.messages:
                if mflags & 0x02:
                    incomplete("shared messages")
                    continue
                if t == ATTRIBUTE:
                    name, ty, sp, data = parse_attribute(d)
                    cls, _, vlen = datatype_info(ty)
                    if vlen:
                        heap.refs(data, elements(parse_dataspace(sp)), "%s attribute %s" % (where, name.decode("utf-8", "replace")))
                    elif cls in (6, 10):
                        incomplete("compound or array attribute types")
                    elif cls == 7 and (ty[1] & 0x0F) == 0:
                        # ---- R1 object references name the header of an object of this file
                        for k in range(elements(parse_dataspace(sp))):
                            ref = le(data, 8 * k, 8)
                            if ref not in paths:
                                P.append(("R1", "%s attribute %s: object reference %s names no object header of the file" % (where, name.decode("utf-8", "replace"), fmt_addr(ref))))
                elif t in (STAB, 0x0D) or (t == LINFO and le(d, 2 + (8 if d[1] & 1 else 0), 8) != UNDEF):
                    incomplete("symbol tables or dense link storage")
                elif t not in KNOWN_NO_ADDRESS and t not in (LAYOUT, ATTRIBUTE, CONT, AINFO, LINFO):
                    incomplete("message type %d" % t)
            # ---- O4 attributes read
            for n in iterated:
                a = h5py.h5a.open(oid, n)
                buf = np.empty(a.shape, dtype=a.dtype)
                a.read(buf)
            if info.type != h5py.h5o.TYPE_DATASET:
                continue
            ds = f[opath]
            ds[()]  # O4: every chunk decompresses, every string decodes
            lay = [parse_layout(d) for t, _, d in h.messages if t == LAYOUT]
            dtmsg = [d for t, _, d in h.messages if t == DATATYPE]
            has_filters = any(t == FILTERS for t, _, _ in h.messages)
            if not lay or not dtmsg:
                P.append(("O1", "%s: dataset header without %s message" % (where, "layout" if not lay else "datatype")))
                continue
            lay = lay[0]
            cls, esize, vlen = datatype_info(dtmsg[0])
            if cls in (6, 10):
                incomplete("compound or array datasets")
            if lay["class"] == 3 and "heap" in lay:
                # ---- V1 virtual dataset
                haddr, hidx = lay["heap"]
                block = heap.object_bytes(haddr, hidx)
                if block is None:
                    P.append(("V1", "%s: the virtual layout names heap object %d of collection %d, which does not exist" % (where, hidx, haddr)))
                    continue
                try:
                    maps = parse_vds_block(block)
                except (Problem, ValueError, IndexError) as e:
                    P.append(("V1", "%s: %s" % (where, e)))
                    continue
                lib = ds.virtual_sources()
                if len(lib) != len(maps):
                    P.append(("V1", "%s: %d mappings encoded, HDF5 reports %d" % (where, len(maps), len(lib))))
                    continue
                dims = list(ds.shape)
                covered = []
                for k, ((fname, dname, src, virt), m) in enumerate(zip(maps, lib)):
                    if (fname, dname) != (m.file_name, m.dset_name):
                        P.append(("V1", "%s: mapping %d: source %s:%s, HDF5 says %s:%s" % (where, k, fname, dname, m.file_name, m.dset_name)))
                    if virt[1] is not None:
                        lo, hi = m.vspace.get_select_bounds()
                        if virt[1] and (tuple(lo), tuple(hi)) != (virt[1][0][0], virt[1][-1][1]):
                            P.append(("V1", "%s: mapping %d: virtual block %s, HDF5 says %s" % (where, k, virt[1], (lo, hi))))
                        for start, end in virt[1]:
                            if any(e >= d for e, d in zip(end, dims)):
                                P.append(("V1", "%s: mapping %d: virtual block %s-%s outside the extent %s" % (where, k, start, end, dims)))
                            covered.append((start, end, k))
                covered.sort()
                for (s1, e1, k1), (s2, e2, k2) in zip(covered, covered[1:]):
                    if all(a <= d and c <= b for a, b, c, d in zip(s1, e1, s2, e2)):
                        P.append(("V1", "%s: the virtual blocks of mappings %d and %d overlap" % (where, k1, k2)))
                res.stats["virtual_mappings"] = res.stats.get("virtual_mappings", 0) + len(maps)
                continue
            if lay["class"] == 0 and vlen:
                heap.refs(lay["data"], int(np.prod(ds.shape)), where)
            elif lay["class"] == 1:
                if lay["addr"] != UNDEF:
                    regions.append((lay["addr"], lay["size"], "contiguous data of %s" % where))
                    if vlen:
                        heap.refs(raw.bytes(lay["addr"], lay["size"]), ds.size, where)
            elif lay["class"] == 2:
                if "index" in lay:
                    incomplete(lay["index"])
                    continue
                dims = list(ds.shape)
                chunk = list(ds.chunks)
                nd = len(dims) + 1
                if lay["dims"] != chunk + [esize]:
                    P.append(("C2", "%s: layout message chunk dims %s, HDF5 says %s + element size %d" % (where, lay["dims"], chunk, esize)))
                    continue
                chunks = {}
                if lay["btree"] != UNDEF:
                    chunks, nodes = walk_chunk_btree(raw, lay["btree"], nd, K2, killed, P, regions, where)
                    n_nodes += nodes
                n_chunks += len(chunks)
                if chunks:
                    slack += 3 * size_class(max(c[1] for c in chunks.values()))
                # ---- C2 against HDF5
                lib = {}
                for i in range(ds.id.get_num_chunks()):
                    ci = ds.id.get_chunk_info(i)
                    lib[tuple(ci.chunk_offset) + (0,)] = (ci.byte_offset, ci.size, ci.filter_mask)
                # a killed writer may have indexed the next flush's chunks before the header's new
                # extent was written (C2 allows chunks beyond it then): both sides compared within it
                within = lambda m: {k: v for k, v in m.items() if all(k[d] < dims[d] for d in range(len(dims)))}
                mine = within(chunks) if killed else chunks
                if killed:
                    lib = within(lib)
                if lib != mine:
                    only_lib = sorted(set(lib) - set(mine))[:3]
                    only_mine = sorted(set(mine) - set(lib))[:3]
                    differ = sorted(k for k in set(lib) & set(mine) if lib[k] != mine[k])[:3]
                    P.append(("C2", "%s: B-tree chunks differ from H5Dget_chunk_info: only HDF5 %s, only the B-tree %s, differing %s" % (where, only_lib, only_mine, [(k, lib[k], mine[k]) for k in differ])))
                for offs, (caddr, csize, mask) in chunks.items():
                    if offs[-1] != 0 or any(offs[d] % chunk[d] for d in range(len(dims))):
                        P.append(("C2", "%s: chunk offset %s is not a multiple of the chunk %s" % (where, offs, chunk)))
                    if not killed and any(offs[d] >= dims[d] for d in range(len(dims))):
                        P.append(("C2", "%s: chunk %s lies beyond the extent %s" % (where, offs, dims)))
                    if csize == 0:
                        P.append(("C2", "%s: chunk %s has size 0" % (where, offs)))
                    regions.append((caddr, csize, "chunk %s of %s" % (list(offs[:-1]), where)))
                    if vlen:
                        if has_filters:
                            incomplete("filtered variable-length data")
                        else:
                            heap.refs(raw.bytes(caddr, csize), csize // 16, "%s chunk %s" % (where, list(offs[:-1])))
                # ---- C3
                want = 1
                for d in range(len(dims)):
                    want *= -(-dims[d] // chunk[d])
                inside = [o for o in chunks if all(o[d] < dims[d] for d in range(len(dims)))]
                if len(inside) != want:
                    P.append(("C3", "%s: %d chunks indexed inside the extent %s, %d expected with chunks %s" % (where, len(inside), dims, want, chunk)))
                # ---- F1
                if chunk[1:] != dims[1:]:
                    P.append(("F1", "%s: chunk %s does not span whole rows of %s" % (where, chunk, dims)))
                rows = dims[0] if dims else 0
                itemsize = ds.dtype.itemsize
                rule = format_chunk_rule(opath, rows, dims[1:], itemsize, vlen, opts) if snn2 else None
                if not snn2:
                    pass  # not a file of DataExporter's format 2.x: no rule to hold it to
                elif rule is not None:
                    want_rows, whole_ok = rule
                    if chunk[0] != want_rows and not (whole_ok and rows < want_rows and chunk[0] == max(1, rows)):
                        alt = " or %d (its rows, written whole at close)" % max(1, rows) if whole_ok and rows < want_rows else ""
                        P.append(("F1", "%s: %d rows per chunk, FORMAT.md says %d%s (chunkSize %s)" % (where, chunk[0], want_rows, alt, opts.get("chunkSize"))))
                else:
                    row_bytes = itemsize
                    for x in dims[1:]:
                        row_bytes *= x
                    if chunk[0] > max(1, rows):
                        P.append(("F1", "%s: %d rows per chunk for %d rows" % (where, chunk[0], rows)))
                    if chunk[0] > 1 and chunk[0] * row_bytes > MIB:
                        P.append(("F1", "%s: chunks of %d bytes (> 1 MiB)" % (where, chunk[0] * row_bytes)))
        res.stats["chunks"] = n_chunks
        res.stats["superseded_allowance"] = slack
        res.stats["btree_nodes"] = n_nodes
        for addr, size in getattr(heap, "sizes", {}).items():
            regions.append((addr, size, "global heap collection"))
        res.stats["heap_collections"] = len(getattr(heap, "sizes", {}))
    finally:
        f.close()

    # ---- A1
    regions = [r for r in regions if r[1] > 0]
    regions.sort()
    total = 0
    last_end, last_what = 0, None
    for addr, size, what in regions:
        if addr + size > eof:
            P.append(("A1", "%s at %d+%d ends beyond the end-of-file address %d" % (what, addr, size, eof)))
        if addr < last_end:
            P.append(("A1", "%s at %d+%d overlaps %s (ends at %d)" % (what, addr, size, last_what, last_end)))
        if addr + size > last_end:
            total += addr + size - max(addr, last_end)
            last_end, last_what = addr + size, "%s at %d" % (what, addr)
    unaccounted = eof - total
    if os.environ.get("CHECK_STRUCTURE_GAPS"):
        gaps, end, prev = [], 0, "start"
        for addr, size, what in regions + [(eof, 0, "end of file")]:
            if addr > end:
                gaps.append((addr - end, end, prev, what))
            if addr + size > end:
                end, prev = addr + size, what
        for g in sorted(gaps, reverse=True)[:int(os.environ["CHECK_STRUCTURE_GAPS"])]:
            print("  gap of %d bytes at %d, after %s, before %s" % g, file=sys.stderr)
    res.stats["unaccounted"] = unaccounted
    bound = eof // 10 + MIB + res.stats.get("superseded_allowance", 0)
    res.stats["bound"] = bound
    if complete[0]:
        if unaccounted > bound:
            P.append(("A2", "%d bytes unaccounted (%.1f %% of %d), more than the bound %d (10 %% + 1 MiB + three superseded copies of each dataset's largest chunk)" % (unaccounted, 100.0 * unaccounted / max(1, eof), eof, bound)))
    else:
        res.notes.append("A2 not applied: %s" % ", ".join(complete[1]))


def main(argv):
    as_json = "--json" in argv
    jobs, killed = [], False
    for a in argv:
        if a == "--killed":
            killed = True  # for the files that follow
        elif a == "--json":
            pass
        elif a.startswith("--"):
            jobs = []
            break
        else:
            jobs.append((a, killed))
    if not jobs:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    failed = 0
    for path, killed in jobs:
        r = check_file(path, killed)
        if not r.ok:
            failed += 1
        if as_json:
            print(json.dumps({"file": path, "ok": r.ok, "problems": [list(p) for p in r.problems], "stats": r.stats, "notes": r.notes}), flush=True)
            continue
        s = r.stats
        if r.ok:
            un = s.get("unaccounted", 0)
            print("OK %s: superblock %s, %s objects, %s links, %s chunks in %s B-tree nodes, %s heap collections, %d bytes unaccounted (%.1f %%, bound %s)%s" % (
                path, s.get("superblock"), s.get("objects"), s.get("links"), s.get("chunks"), s.get("btree_nodes"), s.get("heap_collections"),
                un, 100.0 * un / max(1, s.get("eof", 1)), s.get("bound"), "; " + "; ".join(r.notes) if r.notes else ""), flush=True)
        else:
            print("FAIL %s" % path)
            for pid, text in r.problems[:50]:
                print("  [%s] %s" % (pid, text))
            if len(r.problems) > 50:
                print("  ... %d more" % (len(r.problems) - 50))
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
