"""Peak memory of building the ``bigweights`` fixture model, as a multiple of its weights.

Target (issue: fixture models): building ``bigweights`` holds at most about 2× its weight
size. Measured as a ratio in one run: the peak RSS of a child process that builds the model,
minus the peak RSS of a baseline child that imports the same modules and builds nothing,
divided by the model's weight size.

Run: ``python benchmarks/bench_bigweights_build_memory.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys
from pathlib import Path
import numpy, onnx, onnx.reference
from pytest_acl.models import build
if sys.argv[1] == "build":
    manifest = build.build_catalog(Path(sys.argv[2]), ["bigweights"], log=lambda line: None)
    weight = manifest["models"]["bigweights"]["weight_size"]
else:
    weight = 0
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "weight": weight}))
"""


def child(mode: str, out: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, mode, out], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        baseline = child("baseline", out)
        built = child("build", out)
    extra = (built["peak_kib"] - baseline["peak_kib"]) * 1024
    ratio = extra / built["weight"]
    print(f"weights {built['weight'] / 2**20:.1f} MiB; baseline peak "
          f"{baseline['peak_kib'] / 1024:.1f} MiB; build peak {built['peak_kib'] / 1024:.1f} MiB")
    print(f"build holds {ratio:.2f}x the weight size (target: at most about 2x)")
    return 0 if ratio <= 2.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
