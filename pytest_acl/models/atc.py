"""The ATC recipe: the same ONNX sources compiled on an NPU host.

``atc --framework=5 --model=NAME.onnx --output=DIR/NAME --soc_version=SOC`` (framework 5 is
ONNX). A dynamic model gets ``--input_shape`` with ``-1`` for its unknown dimensions, which
makes ATC write a dynamic-shape om; a model with gears gets the same ``--input_shape`` and
its gears, ``--dynamic_batch_size="1,2,4"`` or ``--dynamic_image_size="8,8;16,16"``, which
makes a static om with one subgraph per gear and the extra input ascend_mbatch_shape_data
(hicann/ge docs/zh/user_guides/atc_tools/CLI_options/--dynamic_batch_size.md,
--dynamic_image_size.md: the -1 only as N, or as H and W of an NCHW input). Bundles cannot
be built by ATC (they need GE's ``aclgrphBundleBuildModel`` C++ API) and are declared as
such in the manifest.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import onnx

from pytest_acl.models.manifest import write_reference
from pytest_acl.models.spec import BUNDLE, DYNAMIC, GEARS, CatalogModel


class AtcUnavailable(RuntimeError):
    pass


def atc_command(model: CatalogModel, onnx_path: Path, out: Path, soc: str) -> list[str]:
    command = ["atc", "--framework=5", f"--model={onnx_path}",
               f"--output={out / model.name}", f"--soc_version={soc}"]
    if model.kind in (DYNAMIC, GEARS):
        graph = onnx.load(onnx_path, load_external_data=False).graph
        initializers = {init.name for init in graph.initializer}
        shapes = []
        for value in graph.input:
            if value.name in initializers:
                continue
            dims = [str(d.dim_value) if d.HasField("dim_value") else "-1"
                    for d in value.type.tensor_type.shape.dim]
            shapes.append(f"{value.name}:{','.join(dims)}")
        command.append(f"--input_shape={';'.join(shapes)}")
    if model.gears is not None:
        command.append(model.gears.gears.atc_option())
    return command


def build_with_atc(model: CatalogModel, out: Path, soc: str | None) -> dict[str, Any]:
    from pytest_acl.models.build import BuildError, _io, gears_entry, references
    from pytest_acl.om.reader import expected_sizes, read_model

    if model.kind == BUNDLE:
        return {"file": None, "reference": None, "skipped": model.atc_note or
                "not buildable with ATC", "inputs": [], "outputs": []}
    if shutil.which("atc") is None:
        raise AtcUnavailable("atc is not on PATH: install the CANN toolkit and source its "
                             "environment (e.g. 'source /usr/local/Ascend/ascend-toolkit/"
                             "set_env.sh'), or build with --target sim")
    if not soc:
        raise BuildError("--target atc needs --soc (e.g. --soc Ascend910B1)")
    spec = model.graphs[0]
    onnx_model = spec.onnx_model()
    onnx_path = out / f"{model.name}.onnx"
    onnx.save(onnx_model, onnx_path)
    result = subprocess.run(atc_command(model, onnx_path, out, soc), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BuildError(f"{model.name}: atc failed ({result.returncode}):\n"
                         f"{result.stderr[-2000:]}")
    write_reference(out / f"{model.name}.npz", references(model, onnx_model))
    inputs, outputs = _io(onnx_model, ())
    work, weight = expected_sizes(read_model((out / f"{model.name}.om").read_bytes()))
    return {"inputs": inputs, "outputs": outputs, "work_size": work,
            "weight_size": weight} | gears_entry(model)
