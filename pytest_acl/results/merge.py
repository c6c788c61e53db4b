"""``pytest-acl merge RUN... --out DIR``: one report over runs from several hosts or devices
(CI shards, one run per host). Each record keeps where it came from (``source``: run id and
host), and the merged header keeps every host's environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_acl.results.compare import load_run
from pytest_acl.results.writer import RESULTS_FILE


def merge(runs: list[Path], out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    headers, records = [], []
    for run in runs:
        header, tests = load_run(run)
        headers.append(header)
        source = {"run_id": header.get("run_id"), "host": header.get("host")}
        records += [dict(record, source=source) for record in tests.values()]
    merged = {"type": "header", "run_id": "merged-" + "+".join(
        str(h.get("run_id")) for h in headers), "merged_from": headers,
        "backend": ",".join(sorted({str(h.get("backend")) for h in headers})),
        "level": ",".join(sorted({str(h.get("level")) for h in headers}))}
    out.mkdir(parents=True, exist_ok=True)
    with (out / RESULTS_FILE).open("w", encoding="utf-8") as stream:
        for line in [merged, *records]:
            stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
    return merged, records
