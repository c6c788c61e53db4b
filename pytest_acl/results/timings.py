"""Load, execute and unload times per load variant, for report.html: the median per test of
what each test spent in each phase (``calls.py`` sums a test's calls by family), and a small
inline SVG plot of them — no script, no external asset.

A bundle's init and load count as loading, its unload as unloading, so every variant has the
same three phases.
"""

from __future__ import annotations

import html
import statistics
from collections import defaultdict
from typing import Any

PHASES = {"load": ("load", "bundle_init", "bundle_load"), "execute": ("execute",),
          "unload": ("unload", "bundle_unload")}
COLOURS = {"load": "#0969da", "execute": "#8250df", "unload": "#bf8700"}


def per_variant(records: list[dict[str, Any]]) -> list[tuple[str, int, dict[str, float]]]:
    """(variant, tests timed, median seconds per phase) for each variant with a timed test,
    by variant name; a test without a variant axis counts under ``-``."""
    seconds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    tests: dict[str, int] = defaultdict(int)
    for record in records:
        timings = record.get("timings") or {}
        if not isinstance(timings, dict) or not timings:
            continue
        variant = str((record.get("axes") or {}).get("variant", "-"))
        tests[variant] += 1
        for phase, families in PHASES.items():
            spent = [timings[f] for f in families if isinstance(timings.get(f), int | float)]
            if spent:
                seconds[variant][phase].append(sum(spent))
    return [(variant, tests[variant],
             {phase: statistics.median(values) for phase, values in seconds[variant].items()})
            for variant in sorted(tests)]


def milliseconds(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.3g} ms"


def plot(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    """Grouped horizontal bars: one row per variant, a bar per phase, one linear scale."""
    if not rows:
        return ""
    label, bars, row_height, top = 300, 400, 24, 24
    longest = max((v for _, _, medians in rows for v in medians.values()), default=0.0) or 1.0
    height = top + row_height * len(rows) + 4
    parts = [f'<svg id="timings-plot" xmlns="http://www.w3.org/2000/svg" '
             f'width="{label + bars + 80}" height="{height}" role="img" font-size="11" '
             'font-family="system-ui,sans-serif">'
             f"<title>median load, execute and unload time per test, by variant (longest "
             f"{milliseconds(longest)})</title>"]
    for index, (phase, colour) in enumerate(COLOURS.items()):
        x = label + index * 90
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="15">{phase}</text>')
    for row, (variant, _, medians) in enumerate(rows):
        y = top + row * row_height
        parts.append(f'<text x="{label - 6}" y="{y + 13}" text-anchor="end">'
                     f"{html.escape(variant)}</text>")
        for index, (phase, colour) in enumerate(COLOURS.items()):
            value = medians.get(phase)
            if value is None:
                continue
            width = max(1.0, bars * value / longest)
            parts.append(f'<rect class="bar {phase}" x="{label}" y="{y + 2 + index * 6}" '
                         f'width="{width:.1f}" height="5" fill="{colour}">'
                         f"<title>{html.escape(variant)} {phase}: {milliseconds(value)}</title>"
                         "</rect>")
        total = max(medians.values(), default=0.0)
        parts.append(f'<text x="{label + bars * total / longest + 6:.1f}" y="{y + 13}" '
                     f'fill="#57606a">{milliseconds(total)}</text>')
    return "".join(parts) + "</svg>"
