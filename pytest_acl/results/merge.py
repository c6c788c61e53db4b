"""``pytest-acl merge RUN... --out DIR``: one report over runs from several hosts or devices
(CI shards, one run per host). Each record keeps where it came from (``source``: run id and
host), and the merged header keeps every host's environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_acl.results.compare import load_run
from pytest_acl.results.writer import RESULTS_FILE


def source_labels(headers: list[dict[str, Any]]) -> list[str]:
    """A short, stable name for each merged run: its host; host and devices where a host
    ran several times; host and run id where even that repeats (and the position if the
    same run is given twice). Stable across days, so ``compare`` of two merged runs pairs
    the same host's tests."""
    labels = [str(h.get("host") or "unknown-host") for h in headers]
    for widen in (lambda i, h: "devices " + ",".join(map(str, h.get("devices") or [])),
                  lambda i, h: f"run {h.get('run_id')}", lambda i, h: f"#{i + 1}"):
        labels = [f"{label} {widen(i, h)}" if labels.count(label) > 1 else label
                  for i, (label, h) in enumerate(zip(labels, headers))]
    return labels


def merge(runs: list[Path], out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    loaded = [load_run(run) for run in runs]
    headers = [header for header, _ in loaded]
    records = []
    for (header, tests), label in zip(loaded, source_labels(headers)):
        source = {"run_id": header.get("run_id"), "host": header.get("host"),
                  "devices": header.get("devices"), "label": label}
        # A run that is itself a merge keeps the sources its records already name.
        records += [dict(record, source=record.get("source", source))
                    for record in tests.values()]
    merged = {"type": "header", "run_id": "merged-" + "+".join(
        str(h.get("run_id")) for h in headers), "merged_from": headers,
        "backend": ",".join(sorted({str(h.get("backend")) for h in headers})),
        "level": ",".join(sorted({str(h.get("level")) for h in headers}))}
    out.mkdir(parents=True, exist_ok=True)
    with (out / RESULTS_FILE).open("w", encoding="utf-8") as stream:
        for line in [merged, *records]:
            stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
    return merged, records
