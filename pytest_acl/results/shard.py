"""``--acl-shard K/N``: one suite over many hosts.

The collected tests are split into N disjoint shards that together are the whole
collection; every host computes the same split from the same collection, so the shards
need no coordination. With ``--acl-shard-durations RUN`` the shards are balanced by the
test durations of that earlier run (longest first, each to the least-loaded shard); tests
it does not know count as its median. Without it every test weighs the same, which
balances the shards by count. Inside a shard the tests keep their collection order.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_acl.results.runfile import RunFileError, read_run


def split(nodeids: list[str], count: int,
          weights: dict[str, float] | None = None) -> list[list[str]]:
    """The N shards of ``nodeids`` (a list of lists, shard 1 first)."""
    known = [w for w in (weights or {}).values() if w > 0]
    default = statistics.median(known) if known else 1.0
    weight = [max((weights or {}).get(nodeid, default), 1e-6) for nodeid in nodeids]
    loads = [0.0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for index in sorted(range(len(nodeids)), key=lambda i: (-weight[i], i)):
        shard = min(range(count), key=lambda k: (loads[k], k))
        members[shard].append(index)
        loads[shard] += weight[index]
    return [[nodeids[i] for i in sorted(shard)] for shard in members]


def durations(run: Path) -> dict[str, float]:
    """Seconds per test of an earlier run (records hold canonical ids, so a run started
    elsewhere, or a merged run of several hosts, balances this one). A run that cannot be
    read is a usage error naming the file and line."""
    found: dict[str, float] = {}
    try:
        records = read_run(run).final_records().values()
    except (OSError, RunFileError) as exc:
        raise pytest.UsageError(f"--acl-shard-durations {run}: {exc}") from None
    for record in records:
        duration = record.get("duration")
        if isinstance(duration, int | float):
            found[record["nodeid"]] = float(duration)
    return found


def select(ids: list[str], shard: tuple[int, int], weights: dict[str, float] | None,
           together: Callable[[str], str] | None = None) -> set[str]:
    """The (canonical) ids of shard ``(K, N)`` of this collection. ``together``: ids with
    the same key land in the same shard (a parity run's bindings of one test, so a merge
    pairs them up: results/parity.py)."""
    index, count = shard
    if together is None:
        return set(split(ids, count, weights)[index - 1])
    groups: dict[str, list[str]] = {}
    for nodeid in ids:
        groups.setdefault(together(nodeid), []).append(nodeid)
    group_weights = {key: sum(weights[n] for n in members if n in weights)
                     for key, members in groups.items()
                     if any(n in weights for n in members)} if weights else None
    return {nodeid for key in split(list(groups), count, group_weights)[index - 1]
            for nodeid in groups[key]}
