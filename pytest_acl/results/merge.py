"""``pytest-acl merge RUN... --out DIR``: one report over runs from several hosts or devices
(the shards of one ``--acl-shard`` run, or one run per host). Each record keeps where it came
from (``source``: run id and host); the merged header keeps every run's environment, the
tests it collected and its summary, so the merged run's verdict — and ``verify`` — can
check completeness across all of them.

The runs are read twice, line by line through the checking reader (a malformed line or a
test recorded twice is an error naming its file and line, before anything is written):
once for their headers, collections and summaries, once to copy their records. Nothing
holds a whole run in memory, and the merged file replaces ``--out``'s only when complete
(so a run may even be merged into its own directory)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pytest_acl.results.reader import RunLines
from pytest_acl.results.runfile import RESULTS_FILE, RunFile, read_run


def source_labels(headers: list[dict[str, Any]]) -> list[str]:
    """A short, stable name for each merged run: its host; host and devices where a host
    ran several times; host and run id where even that repeats (and the position if the
    same run is given twice). Stable across days, so ``compare`` of two merged runs pairs
    the same host's tests."""
    labels = [str(h.get("host") or "unknown-host") for h in headers]
    for widen in (lambda i, h: "devices " + ",".join(map(str, h.get("devices") or [])),
                  lambda i, h: f"run {h.get('run_id')}", lambda i, h: f"#{i + 1}"):
        labels = [f"{label} {widen(i, h)}" if labels.count(label) > 1 else label
                  for i, (label, h) in enumerate(zip(labels, headers, strict=True))]
    return labels


def shard_gaps(headers: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(what makes the runs not one sharded run, which shards are missing). Runs that are no
    shards at all (one run per host) have neither."""
    shards = [h.get("shard") for h in headers]
    if not any(shards):
        return [], []
    parsed = [tuple(map(int, s.split("/"))) if isinstance(s, str) and "/" in s else None
              for s in shards]
    totals = {p[1] for p in parsed if p}
    indices = [p[0] for p in parsed if p]
    if None in parsed or len(totals) != 1 or len(indices) != len(set(indices)):
        return [f"the runs are not the shards of one run, each once (shards {shards}); merge "
                "the N shards of one --acl-shard run"], []
    total = next(iter(totals))
    return [], [f"{k}/{total}" for k in range(1, total + 1) if k not in indices]


def missing_shards(headers: list[dict[str, Any]]) -> str | None:
    """Why a merged run is incomplete for want of shards (None when it is not)."""
    absent = shard_gaps(headers)[1]
    return f"shard(s) {', '.join(absent)} not merged in" if absent else None


def _keyed(nodeids: list[str] | None, label: str) -> list[str] | None:
    return None if nodeids is None else [f"[{label}] {nodeid}" for nodeid in nodeids]


def merge(runs: list[Path], out: Path) -> tuple[dict[str, Any], int]:
    """Merge ``runs`` into ``out``; (the merged header, how many records it holds)."""
    loaded: list[RunFile] = [read_run(path, records=False) for path in runs]
    headers = [run.header for run in loaded]
    sources: list[dict[str, Any] | None] = []
    collections: list[list[str] | None] = []
    summaries: list[dict[str, Any] | None] = []
    for run, label in zip(loaded, source_labels(headers), strict=True):
        if run.merged:  # a merge of merges keeps the sources its records already name
            sources.append(None)
            collections += run.header.get("merged_collections") or [None]
            summaries += run.header.get("merged_summaries") or [None]
            continue
        sources.append({"run_id": run.header.get("run_id"), "host": run.header.get("host"),
                        "devices": run.header.get("devices"), "label": label})
        collections.append(_keyed(run.collected, label))
        summaries.append(run.summary)
    merged = {"type": "header", "run_id": "merged-" + "+".join(
        str(h.get("run_id")) for h in headers),
        "merged_from": [s for run in loaded for s in (run.header.get("merged_from")
                                                      or [run.header])],
        "merged_collections": collections, "merged_summaries": summaries,
        "backend": ",".join(sorted({str(h.get("backend")) for h in headers})),
        "level": ",".join(sorted({str(h.get("level")) for h in headers}))}
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f".{RESULTS_FILE}.merging-{os.getpid()}"
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as stream:
            stream.write(json.dumps(merged, sort_keys=True, default=str) + "\n")
            for run, source in zip(loaded, sources, strict=True):
                for line in RunLines(run.path):
                    if line.kind == "test":
                        record = line.data if source is None else dict(line.data, source=source)
                        stream.write(json.dumps(record, sort_keys=True, default=str) + "\n")
                        count += 1
        os.replace(partial, out / RESULTS_FILE)
    finally:
        partial.unlink(missing_ok=True)
    return merged, count
