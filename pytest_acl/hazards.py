"""The hazards of one test, as the simulator's sanitizer reported them.

A suite test asserts that a correct usage pattern produced none: ``assert not
acl_hazards.new()``. Backends without a sanitizer (a real NPU) report ``supported = False``
and an empty list, so the same assertion holds everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass
class HazardLog:
    _source: list[Any] | None
    _start: int

    @classmethod
    def attach(cls, module: ModuleType) -> HazardLog:
        simulator = getattr(module, "__simulator__", None)
        source = simulator.sanitizer.hazards if simulator is not None else None
        return cls(source, len(source) if source is not None else 0)

    @property
    def supported(self) -> bool:
        return self._source is not None

    def new(self) -> list[Any]:
        """Hazards reported since the log was attached (kind, message, model ids, …)."""
        return list(self._source[self._start:]) if self._source is not None else []
