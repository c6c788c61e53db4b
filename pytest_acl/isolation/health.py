"""The device health probe: after a crash or a timeout, before the device gets another test.

It sets the device, allocates and frees device memory, loads the smallest static fixture
model, executes it and compares its outputs with the reference, then releases everything.
It runs in a subprocess of its own (``python -m pytest_acl.isolation.health``) with a time
limit, so a probe that crashes or hangs is a failed probe — never a dead supervisor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_acl.isolation.crashes import exit_text

PROBE_SECONDS = 120.0


@dataclass(frozen=True)
class ProbeResult:
    device: int
    healthy: bool
    detail: str


def smallest_static_model(catalog: Any) -> Any:
    """The static model with the smallest file: the quickest load that still executes."""
    entries = [catalog[name] for name in catalog.names if catalog[name].kind == "static"]
    return min(entries, key=lambda entry: entry.path.stat().st_size)


def _run_probe(backend_name: str, device: int, model_dir: Path | None, build_dir: Path) -> str:
    """The probe itself, in the probe process; returns what was checked or raises."""
    from pytest_acl.backends import load_backend
    from pytest_acl.constants import describe
    from pytest_acl.models.provider import session_catalog
    from pytest_acl.oracles import execute_and_compare

    def ok(ret: int, call: str) -> None:
        if ret != 0:
            raise RuntimeError(f"{call} returned {describe(ret)}")

    backend = load_backend(backend_name)
    acl = backend.module
    ret = acl.init()
    if ret not in (0, 100002):
        ok(ret, "acl.init()")
    ok(acl.rt.set_device(device), f"acl.rt.set_device({device})")
    pointer, ret = acl.rt.malloc(1 << 20, 0)
    ok(ret, "acl.rt.malloc(1 MiB)")
    ok(acl.rt.free(pointer), "acl.rt.free")
    entry = smallest_static_model(session_catalog(model_dir, backend_name, "probe", build_dir,
                                                 simulated=backend.simulated))
    model_id, ret = acl.mdl.load_from_file(str(entry.path))
    ok(ret, f"acl.mdl.load_from_file({entry.path.name})")
    try:
        execute_and_compare(acl, model_id, entry.inputs(), entry.outputs())
    finally:
        ok(acl.mdl.unload(model_id), f"acl.mdl.unload({model_id})")
    ok(acl.rt.reset_device(device), f"acl.rt.reset_device({device})")
    acl.finalize()
    return f"set device, 1 MiB malloc/free, {entry.name} loaded, executed to its reference"


def probe(backend_name: str, device: int, model_dir: Path | None, build_dir: Path,
          seconds: float = PROBE_SECONDS) -> ProbeResult:
    """Probe ``device`` in a subprocess; any failure, crash or hang is an unhealthy device."""
    command = [sys.executable, "-m", "pytest_acl.isolation.health", "--backend", backend_name,
               "--device", str(device), "--build-dir", str(build_dir)]
    if model_dir is not None:
        command += ["--model-dir", str(model_dir)]
    env = None
    if backend_name == "capi":  # the library this session's --acl-capi-lib named
        from pytest_acl.backends.capi import child_environment

        env = child_environment()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds,
                                env=env)
    except subprocess.TimeoutExpired:
        return ProbeResult(device, False, f"the probe hung for {seconds:g} s")
    except OSError as exc:
        return ProbeResult(device, False, f"the probe could not start: {exc}")
    lines = result.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        answer = None
    if result.returncode != 0 or not isinstance(answer, dict):
        tail = (result.stderr or result.stdout).strip()[-500:]
        return ProbeResult(device, False, f"the probe process {exit_text(result.returncode)}"
                           + (f": {tail}" if tail else ""))
    return ProbeResult(device, bool(answer.get("healthy")), str(answer.get("detail")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_acl.isolation.health")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--device", type=int, required=True)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--build-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        detail = _run_probe(args.backend, args.device, args.model_dir, args.build_dir)
        healthy = True
    except BaseException as exc:  # noqa: BLE001 — every failure is an unhealthy device
        healthy, detail = False, f"{type(exc).__name__}: {exc}"
    print(json.dumps({"healthy": healthy, "detail": detail}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
