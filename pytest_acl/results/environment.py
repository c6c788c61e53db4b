"""A run's environment as people read it (report.html): the facts of the verdict banner, also
over the runs a merged run came from, and every header field with a label, dates in the run
host's local time.

Dates come from the header only (``started`` and the host's ``utc_offset``), never from the
reading machine's clock or time zone: the page is a pure function of the results, which is
how ``verify`` checks it. A header without an offset (an older run) gives UTC.
"""

from __future__ import annotations

import datetime
import json
import shlex
from typing import Any

FACTS = (("SoC", "soc"), ("CANN", "cann_version"), ("driver", "driver_version"),
         ("backend", "backend"), ("host", "host"))
LABELS = {"run_id": "run id", "started": "started", "backend": "backend",
          "backend_version": "backend version", "soc": "SoC", "devices": "devices",
          "hbm_bytes": "HBM per device", "cann_version": "CANN version",
          "driver_version": "driver version", "host": "host", "python": "Python",
          "suite_version": "suite version", "suite_hash": "suite fingerprint",
          "suite_prefix": "suite node ids begin", "git_commit": "git commit", "level": "level",
          "shard": "shard", "args": "arguments", "npu_smi": "npu-smi info"}
HIDDEN = {"type", "options", "merged_from", "merged_collections", "merged_summaries",
          "utc_offset"}


def sources(header: dict[str, Any]) -> list[dict[str, Any]]:
    """The headers of the runs behind this one: a merged run's sources, else itself."""
    merged = header.get("merged_from")
    return [h for h in merged if isinstance(h, dict)] if isinstance(merged, list) else [header]


def local_time(header: dict[str, Any]) -> str:
    """``started`` in the run host's local time: ``2026-03-02 14:05:09 UTC+08:00``."""
    started, offset = header.get("started"), header.get("utc_offset")
    if not isinstance(started, int | float) or isinstance(started, bool):
        return "unknown"
    zone = datetime.timezone(datetime.timedelta(seconds=offset)) \
        if isinstance(offset, int) and abs(offset) < 86400 else datetime.UTC
    return datetime.datetime.fromtimestamp(started, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _values(headers: list[dict[str, Any]], key: str) -> str:
    seen = dict.fromkeys(str(h[key]) for h in headers if h.get(key) not in (None, ""))
    return ", ".join(seen) or "unknown"


def facts(header: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for the banner: SoC, CANN, driver, backend, host, date, level."""
    runs = sources(header)
    found = [(label, _values(runs, key)) for label, key in FACTS]
    dated = sorted((h for h in runs if isinstance(h.get("started"), int | float)),
                   key=lambda h: h["started"])
    found.append(("date", local_time(dated[0]) if dated else "unknown"))
    level = str(header.get("level", "unknown"))
    found.append(("level", level + (" (not valid for qualification)"
                                    if level == "quick" else "")))
    return found


def value_text(key: str, value: Any) -> str:
    """A header value as text: sizes in GiB, argument lists as a shell line, ``—`` for none."""
    if value is None or value == "":
        return "—"
    if key == "hbm_bytes" and isinstance(value, int):
        return f"{value / 2**30:g} GiB ({value} bytes)"
    if key == "args" and isinstance(value, list):
        return shlex.join(map(str, value))
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def fields(header: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for every header field people read, labelled ones first."""
    shown = [(LABELS[key], local_time(header) if key == "started"
              else value_text(key, header.get(key)))
             for key in LABELS if key in header]
    shown += [(key, value_text(key, value)) for key, value in sorted(header.items())
              if key not in LABELS and key not in HIDDEN]
    return shown


def options(header: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(option, value, where it came from) of the run's resolved options."""
    found = header.get("options")
    if not isinstance(found, dict):
        return []
    return [(name, value_text(name, entry.get("value")), str(entry.get("source", "")))
            if isinstance(entry, dict) else (name, value_text(name, entry), "")
            for name, entry in sorted(found.items())]
