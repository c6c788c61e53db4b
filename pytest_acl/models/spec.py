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

STATIC, DYNAMIC, BUNDLE = "static", "dynamic", "bundle"


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
class CatalogModel:
    name: str
    kind: str  # STATIC, DYNAMIC or BUNDLE
    description: str
    graphs: tuple[Graph, ...]
    atc_buildable: bool = True
    atc_note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (STATIC, DYNAMIC, BUNDLE):
            raise ValueError(f"{self.name}: kind {self.kind!r} is not static/dynamic/bundle")
        if (self.kind == BUNDLE) != (len(self.graphs) > 1):
            raise ValueError(f"{self.name}: a bundle has several graphs, a model one")
