#!/usr/bin/env python3
"""Time to first data, the h5py side of `npm run bench -- --read`: open the file and get episode 0's
spikes as README's h5py snippet does (its neuron ids and one timestep per spike), then print one JSON
line with the wall clock at that moment (first_data_epoch_ms; the parent subtracts the time it
started this process) and `seconds` from open to then.

usage: /usr/bin/python3 h5py_first.py FILE.h5
"""
import json, resource, sys, time
import h5py
import numpy as np


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        ep = f["episodes"]
        a, b = ep["step_rows"][0]
        s0, s1 = ep["spike_rows"][0]
        neuron_ids = f["spikes/neuron_ids"][s0:s1]
        spike_times = np.repeat(f["timesteps"][a:b], f["spikes/counts"][a:b])
        now = time.time()
        t1 = time.perf_counter()
    assert len(spike_times) == len(neuron_ids)
    print(json.dumps({"peer": "h5py-first", "mode": "first", "file": path, "first_data_epoch_ms": now * 1000, "seconds": round(t1 - t0, 4),
                      "spikes": int(len(neuron_ids)), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
