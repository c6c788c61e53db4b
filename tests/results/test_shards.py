"""``--acl-shard K/N``: the shards are disjoint, cover the collection, are the same on every
host, and balance by a previous run's durations; three shards of a full run, merged, verify
CONFORMANT — and fewer than all of them, or one shard twice, do not."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_acl.options import parse_shard
from pytest_acl.results.shard import split

SCRIPT = Path(sys.executable).with_name("pytest-acl")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


NAMES = [f"suites/t.py::test_{i:03d}" for i in range(100)]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 100, 150])
def test_shards_are_disjoint_cover_everything_and_keep_collection_order(count):
    shards = split(NAMES, count)
    assert len(shards) == count
    assert sorted(n for shard in shards for n in shard) == sorted(NAMES)
    assert len({n for shard in shards for n in shard}) == len(NAMES)
    assert all(shard == sorted(shard, key=NAMES.index) for shard in shards)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1  # by count when nothing else is known
    assert split(list(NAMES), count) == shards  # the same on every host


def test_durations_balance_the_shards():
    weights = dict.fromkeys(NAMES, 1.0)
    weights[NAMES[0]] = 60.0  # one slow test takes a shard to itself, nearly
    weights[NAMES[1]] = 30.0
    shards = split(NAMES, 3, weights)
    loads = [sum(weights[n] for n in shard) for shard in shards]
    assert max(loads) - min(loads) <= 2.0, loads
    unknown = split(NAMES + ["suites/t.py::test_new"], 3, weights)  # median for new tests
    assert sum(map(len, unknown)) == len(NAMES) + 1


@pytest.mark.parametrize(("text", "message"), [
    ("0/3", "K must be between 1 and N"), ("4/3", "K must be between 1 and N"),
    ("1", "use K/N"), ("a/b", "use K/N"), ("1/0", "K must be between 1 and N")])
def test_bad_shards_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_shard(text)


@pytest.mark.whole_suite
@pytest.mark.timeout(900)
def test_three_shards_merge_into_a_conformant_run(run_suite, full_run, tmp_path):
    def shard(k: int):  # three hosts, at the same time
        return run_suite(tmp_path / f"shard{k}", "--acl-level", "full", "--acl-shard", f"{k}/3",
                         "--acl-shard-durations", str(full_run.directory))

    with ThreadPoolExecutor(max_workers=3) as pool:
        shards = list(pool.map(shard, (1, 2, 3)))
    for k, shard in enumerate(shards, 1):
        assert shard.result.returncode == 0, shard.output[-3000:]
        assert shard.lines[0]["shard"] == f"{k}/3"
        assert shard.lines[0]["options"]["shard-durations"]["value"] == str(full_run.directory)
    ids = [set(shard.records) for shard in shards]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert set.union(*ids) == set(full_run.records)
    seconds = {n: r["duration"] for n, r in full_run.records.items()}
    loads = [sum(seconds[n] for n in i) for i in ids]
    # longest first, to the least-loaded shard: within 4/3 of the best split (Graham)
    best = max(max(seconds.values()), sum(seconds.values()) / 3)
    assert max(loads) <= 4 / 3 * best + 0.5, loads
    assert cli("verify", str(shards[0].directory)).stdout.startswith("verdict: INVALID")

    merged = tmp_path / "merged"
    result = cli("merge", *(str(s.directory) for s in shards), "--out", str(merged))
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout and (merged / "qualification.json").is_file()
    output = cli("verify", str(merged)).stdout
    assert output.startswith("verdict: CONFORMANT"), output

    partial = tmp_path / "partial"
    cli("merge", str(shards[0].directory), str(shards[1].directory), "--out", str(partial))
    assert not (partial / "qualification.json").exists()  # an incomplete merge: no bundle
    assert cli("verify", str(partial)).stdout.startswith("verdict: INCOMPLETE")
    twice = tmp_path / "twice"
    cli("merge", *(str(s.directory) for s in shards), str(shards[0].directory), "--out",
        str(twice))
    output = cli("verify", str(twice)).stdout
    assert output.startswith("verdict: INVALID") and "not the shards of one run" in output
    header = json.loads((merged / "results.jsonl").read_text().splitlines()[0])
    assert [s["shard"] for s in header["merged_from"]] == ["1/3", "2/3", "3/3"]
