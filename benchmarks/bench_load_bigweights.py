"""Loading ``bigweights`` (64 MiB of weights) from memory in the simulator, side by side with
a plain NumPy copy of the same bytes, and the simulator's resident memory once it is loaded.

Targets (issue: model management in the simulator):
- ``load_from_mem`` reaches at least half the throughput of ``numpy.copy`` of the model bytes;
- the simulator's extra resident memory for the loaded model is at most 1.3× its weight plus
  work size (no duplicate copies of the weights).

Run: ``python benchmarks/bench_load_bigweights.py`` (builds the model into build/models).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 10
CHILD = """
import json, sys, time
import numpy as np
from pytest_acl.sim import Simulator

def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024

data = open(sys.argv[1], "rb").read()
acl = Simulator().acl
acl.init()
acl.rt.set_device(0)
ptr = acl.util.bytes_to_ptr(data)
source = np.frombuffer(data, np.uint8)
before = rss()
model_id, ret = acl.mdl.load_from_mem(ptr, len(data))
assert ret == 0, ret
work, weight, _ = acl.mdl.query_size_from_mem(ptr, len(data))
resident = rss() - before
acl.mdl.unload(model_id)
load_times, copy_times = [], []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    model_id, _ = acl.mdl.load_from_mem(ptr, len(data))
    load_times.append(time.perf_counter() - start)
    acl.mdl.unload(model_id)
    start = time.perf_counter()
    copy = np.copy(source)
    copy_times.append(time.perf_counter() - start)
    del copy
print(json.dumps({"bytes": len(data), "work": work, "weight": weight, "resident": resident,
                  "load": sorted(load_times)[len(load_times) // 2],
                  "copy": sorted(copy_times)[len(copy_times) // 2]}))
"""


def main() -> int:
    from pytest_acl.models.build import build_catalog

    out = Path("build/models")
    build_catalog(out, ["bigweights"], log=lambda line: None)
    result = subprocess.run([sys.executable, "-c", CHILD, str(out / "bigweights.om"),
                             str(ROUNDS)], capture_output=True, text=True, check=True)
    r = json.loads(result.stdout)
    mib = 2**20
    throughput = r["copy"] / r["load"]
    memory = r["resident"] / (r["weight"] + r["work"])
    print(f"model {r['bytes'] / mib:.1f} MiB: load_from_mem {r['load'] * 1e3:.1f} ms "
          f"({r['bytes'] / mib / r['load']:.0f} MiB/s), numpy.copy {r['copy'] * 1e3:.1f} ms "
          f"({r['bytes'] / mib / r['copy']:.0f} MiB/s) — {throughput:.2f}x numpy "
          "(target ≥ 0.5x)")
    print(f"resident memory of the loaded model {r['resident'] / mib:.1f} MiB for "
          f"{(r['weight'] + r['work']) / mib:.1f} MiB weight+work — {memory:.2f}x "
          "(target ≤ 1.3x)")
    return 0 if throughput >= 0.5 and memory <= 1.3 else 1


if __name__ == "__main__":
    started = time.perf_counter()
    status = main()
    print(f"({time.perf_counter() - started:.1f} s)")
    raise SystemExit(status)
