"""Write a fixture model's reference arrays (a ``.npz`` from ``pytest-acl models build``) as
the raw files the C example reads: ``in_0.bin``, ``in_1.bin`` … then ``out_0.bin`` …, in the
model's input and output order, and print them in the order model_from_mem.c takes them.

    python examples/c/raw_files.py build/models/mlp.npz build/mlp-raw
"""

import sys
from pathlib import Path

import numpy as np


def main(reference, out):
    arrays = np.load(reference, allow_pickle=False)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for side in ("in", "out"):
        names = [key.split(":", 1)[1] for key in arrays.files if key.startswith(side + ":")]
        for index, name in enumerate(names):
            path = out / f"{side}_{index}.bin"
            path.write_bytes(np.ascontiguousarray(arrays[f"{side}:{name}"]).tobytes())
            files.append(str(path))
    print(" ".join(files))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: raw_files.py REFERENCE.npz OUT_DIR")
    sys.exit(main(sys.argv[1], sys.argv[2]))
