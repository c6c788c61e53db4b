"""Work-memory planning: every intermediate tensor gets an offset, reusing dead space.

A tensor is live from the step that produces it to the last step that reads it (both
inclusive: an operator's inputs and outputs are live together). Tensors are placed in
production order at the lowest aligned offset that does not overlap any tensor live at the
same time (first fit), so a chain of operators needs the peak of two neighbours, not the sum
of all intermediates. The work size is the end of the highest placement.
"""

from __future__ import annotations

from dataclasses import dataclass

WORK_ALIGNMENT = 64


@dataclass(frozen=True)
class Interval:
    name: str
    nbytes: int
    first: int  # step that produces it
    last: int  # last step that reads it


@dataclass(frozen=True)
class Placement:
    name: str
    offset: int
    nbytes: int


def _align(value: int) -> int:
    return (value + WORK_ALIGNMENT - 1) // WORK_ALIGNMENT * WORK_ALIGNMENT


def plan(intervals: list[Interval]) -> tuple[dict[str, Placement], int]:
    """Placements by tensor name, and the work size (peak end, aligned)."""
    placed: list[tuple[Interval, Placement]] = []
    result: dict[str, Placement] = {}
    peak = 0
    for tensor in sorted(intervals, key=lambda t: (t.first, -t.nbytes, t.name)):
        busy = sorted((p.offset, p.offset + _align(p.nbytes)) for other, p in placed
                      if other.first <= tensor.last and tensor.first <= other.last)
        offset = 0
        for start, end in busy:
            if offset + _align(tensor.nbytes) <= start:
                break
            offset = max(offset, end)
        placement = Placement(tensor.name, offset, tensor.nbytes)
        placed.append((tensor, placement))
        result[tensor.name] = placement
        peak = max(peak, offset + _align(tensor.nbytes))
    return result, peak
