"""What a catalog entry is: an ONNX definition, deterministic inputs, and how it is stored.

The catalog itself (``fixtures/catalog.py``) is data built from these types; the builder
turns each entry into an OM file (simulator compiler or ATC), reference arrays and a
manifest entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx

from pytest_acl.om.inout import Gears

# A "gears" model is static in the OM sense (QuerySize reports its work memory) but is built
# with gears — ATC's --dynamic_batch_size / --dynamic_image_size (pytest_acl/sim/dynamic.py).
STATIC, DYNAMIC, BUNDLE, GEARS = "static", "dynamic", "bundle", "gears"
KINDS = (STATIC, DYNAMIC, BUNDLE, GEARS)


@dataclass(frozen=True)
class Graph:
    """One ONNX graph with deterministic reference inputs.

    ``variables`` names graph inputs that are bundle variables (shared device memory, not
    user inputs); ``assign`` maps a variable to the graph output whose value it takes after
    the graph runs (the var-init / var-update graphs of a weight-update bundle)."""

    onnx_model: Callable[[], onnx.ModelProto]
    inputs: Callable[[], dict[str, np.ndarray]]
    variables: tuple[str, ...] = ()
    assign: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GearSet:
    """The gears a model is built with and its reference inputs at each gear (a reference is
    stored for every gear; the graph's own ``inputs`` are those of the largest gear)."""

    gears: Gears
    inputs: Callable[[tuple[int, ...]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class CatalogModel:
    name: str
    kind: str  # STATIC, DYNAMIC, BUNDLE or GEARS
    description: str
    graphs: tuple[Graph, ...]
    atc_buildable: bool = True
    atc_note: str = ""
    gears: GearSet | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if (self.kind == BUNDLE) != (len(self.graphs) > 1):
            raise ValueError(f"{self.name}: a bundle has several graphs, a model one")
        if (self.kind == GEARS) != (self.gears is not None):
            raise ValueError(f"{self.name}: a model with gears, and only one, has a GearSet")
