"""Run inputs and judge each one: the fuzzer's promise, checked after every input.

For every input (made deterministically from ``(seed, index)``: a base, one to three
mutations, a target and the target's own seed) the runner checks that

- no Python exception escaped a pyACL call (``exception``), nor was raised by an execution
  on a stream (``async-exception``, caught by wrapping the stream's tasks), nor was caught and
  logged by the simulator's own guard (``internal-error``: an aclError hides it from the
  caller, not from us); no call returned an internal-error code without one (``internal-code``);
- after the input's own cleanup the simulator is back to its baseline: device memory in use
  (``get_mem_info`` and the live counts), models, bundles, buffers, datasets, threads
  (``leak``);
- no call took longer than the call limit (``time``) and the process's peak memory did not
  grow by more than the memory limit (``memory``); the address space is capped while inputs
  run, so a runaway allocation is a MemoryError (a finding), not the machine's memory;
- what the API returned is something pyACL can return (``contract``).

One simulator serves every input while it stays clean; after an exception or a leak it is
replaced by a fresh one, so one finding does not colour the next inputs. A replay always
uses a fresh one. True hangs are the worker's watchdog's (worker.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import resource
import shutil
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_acl.constants import MemAttr
from pytest_acl.fuzz import findings as fnd
from pytest_acl.fuzz.bases import Base
from pytest_acl.fuzz.calls import CallLog, TimedModule
from pytest_acl.fuzz.mutators import mutate
from pytest_acl.fuzz.targets import TARGETS, Session

DEFAULT_CALL_LIMIT = 5.0  # seconds one pyACL call may take
DEFAULT_MEMORY_LIMIT = 256 << 20  # growth of the process's peak memory one input may cause
DEFAULT_ADDRESS_SPACE = 4 << 30  # address space the inputs may add to the process
DEFAULT_KEEP = 0  # findings saved per signature: 0 saves every one (all are counted)
HBM = "1GiB"
SIM_LOGGER = "pytest_acl.sim"
EXCEPTIONS = ("exception", "async-exception", "internal-error")


@dataclass(frozen=True)
class FuzzInput:
    index: int
    base: str
    kind: str
    steps: tuple[str, ...]
    target: str
    target_seed: str
    data: bytes = field(repr=False)


@dataclass
class Report:
    seed: int
    start: int
    inputs: int = 0
    per_target: Counter[str] = field(default_factory=Counter)
    loaded: int = 0
    executed: int = 0
    groups: dict[str, fnd.Group] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def findings(self) -> int:
        return sum(g.count for g in self.groups.values())

    def add(self, finding: fnd.Finding, out: Path | None, keep: int) -> None:
        group = self.groups.setdefault(finding.signature,
                                       fnd.Group(finding.signature, finding.kind))
        group.count += 1
        if keep <= 0 or len(group.examples) < keep:
            if out is not None:
                fnd.save(finding, out / "findings")
            finding.data = b"" if out is not None else finding.data
            group.examples.append(finding)

    def merge(self, other: Report) -> None:
        self.inputs += other.inputs
        self.per_target.update(other.per_target)
        self.loaded += other.loaded
        self.executed += other.executed
        self.seconds += other.seconds
        for signature, group in other.groups.items():
            mine = self.groups.setdefault(signature, fnd.Group(signature, group.kind))
            mine.count += group.count
            mine.examples += group.examples

    def summary_line(self) -> str:
        targets = ", ".join(f"{name} {count}" for name, count in sorted(self.per_target.items()))
        return (f"fuzz: {self.inputs} inputs from seed {self.seed} ({targets}); "
                f"{self.loaded} loaded, {self.executed} executed; {self.findings} findings in "
                f"{len(self.groups)} groups; {self.seconds:.1f} s")

    def as_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "start": self.start, "inputs": self.inputs,
                "per_target": dict(sorted(self.per_target.items())), "loaded": self.loaded,
                "executed": self.executed, "findings": self.findings,
                "seconds": round(self.seconds, 3),
                "groups": [g.as_json() for g in fnd.order(self.groups)]}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> Report:
        report = cls(values["seed"], values["start"], values["inputs"],
                     Counter(values["per_target"]), values["loaded"], values["executed"],
                     seconds=values["seconds"])
        for item in values["groups"]:
            group = fnd.Group(item["signature"], item["kind"], item["count"])
            for record in item["records"]:
                with contextlib.suppress(OSError, ValueError):
                    group.examples.append(fnd.load(Path(record)))
            report.groups[group.signature] = group
        return report


class _Capture(logging.Handler):
    """The simulator's logged internal errors during one input."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def sim_log_captured(handler: _Capture) -> Iterator[None]:
    """The simulator's log goes to ``handler`` only (thousands of expected tracebacks are
    findings, not terminal noise)."""
    logger = logging.getLogger(SIM_LOGGER)
    old = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = old


def _address_space_now() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def address_space_capped(extra: int) -> Iterator[None]:
    """RLIMIT_AS at the current size plus ``extra`` while inputs run (0: no cap)."""
    now = _address_space_now()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = now + extra
    capped = bool(extra and now) and (soft == resource.RLIM_INFINITY or soft > limit) and \
        (hard == resource.RLIM_INFINITY or hard >= limit)
    if capped:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        if capped:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _scratch_root() -> str | None:
    """Memory-backed /dev/shm when there is one: half the targets write the input to a
    file, and a disk-backed directory made that a third of the time per input."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _internal_errors_counted() -> int:
    """How many internal errors the simulator's guard has counted (0 if it counts none)."""
    from pytest_acl.sim import pyargs

    count = getattr(getattr(pyargs, "INTERNAL_ERRORS", None), "count", 0)
    return count if isinstance(count, int) else 0


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


_RET = re.compile(r"^(?P<api>[^=]+)=(?P<code>[1-9]\d*)$")


def _first_refusal(notes: Sequence[str]) -> str:
    for note in notes:
        if (found := _RET.match(note)) is not None:
            return f"{found['api']} refused ({found['code']})"
    return "no refusal"


class Fuzzer:
    """Makes and runs the inputs of one seed against the simulator."""

    def __init__(self, bases: Sequence[Base], seed: int = 1, *,
                 targets: Sequence[str] | None = None, out: Path | None = None,
                 cann: str | None = None, call_limit: float = DEFAULT_CALL_LIMIT,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT,
                 address_space: int = DEFAULT_ADDRESS_SPACE, keep: int = DEFAULT_KEEP) -> None:
        unknown = sorted(set(targets or ()) - set(TARGETS))
        if unknown:
            raise ValueError(f"unknown target(s) {', '.join(unknown)}; the targets are "
                             f"{', '.join(TARGETS)}")
        self.bases = list(bases)
        self.seed = seed
        self.out = out
        self.cann = cann
        self.call_limit = call_limit
        self.memory_limit = memory_limit
        self.address_space = address_space
        self.keep = keep
        # Told before and after each input of run() (the worker's watchdog).
        self.on_input: Callable[[FuzzInput], None] | None = None
        self.on_done: Callable[[FuzzInput], None] | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="pytest-acl-fuzz-", dir=_scratch_root()))
        self._capture = _Capture()
        self._async_errors: list[BaseException] = []
        self._sim: Any = None
        mdl = self._open().acl.mdl
        self.targets = [name for name in (targets or TARGETS)
                        if not TARGETS[name].requires or hasattr(mdl, TARGETS[name].requires)]
        if not self.targets:
            raise ValueError("none of the targets is exposed by this simulator release")

    # -- the simulator ---------------------------------------------------------------------
    def _open(self) -> Any:
        """A fresh simulator, initialised, device 0 set, one stream; its baseline taken."""
        from pytest_acl.sim import Simulator

        self._sim = Simulator(devices=1, hbm=HBM, cann=self.cann, sanitizer="off")
        acl = self._sim.acl
        acl.init()
        acl.rt.set_device(0)
        self._stream, ret = acl.rt.create_stream()
        if ret != 0:
            raise RuntimeError(f"the simulator cannot create a stream ({ret})")
        self._watch_stream()
        self._baseline = self._state()
        return self._sim

    def _watch_stream(self) -> None:
        """Wrap the stream's tasks so an exception raised by an execution on it is seen
        with its traceback (the stream itself only records an error code)."""
        from pytest_acl.sim.handles import Kind
        from pytest_acl.sim.pyargs import AclFail

        stream = self._sim.runtime.handles.get(Kind.STREAM, self._stream)
        if stream is None or not hasattr(stream, "submit"):
            return
        submit, errors = stream.submit, self._async_errors

        def watched(task: Callable[[], None]) -> None:
            def run() -> None:
                try:
                    task()
                except AclFail:
                    raise
                except Exception as exc:
                    errors.append(exc)
                    raise

            submit(run)

        stream.submit = watched

    def _close_sim(self) -> None:
        sim, self._sim = self._sim, None
        if sim is None:
            return
        acl = sim.acl
        with contextlib.suppress(Exception):
            acl.rt.destroy_stream(self._stream)
            acl.rt.reset_device(0)
        with contextlib.suppress(Exception):
            acl.finalize()

    def _state(self) -> dict[str, int]:
        state = dict(self._sim.live_counts())
        free, _total, ret = self._sim.acl.rt.get_mem_info(int(MemAttr.ACL_HBM_MEM))
        state["get_mem_info.free"] = free if ret == 0 else -1
        return state

    def close(self) -> None:
        self._close_sim()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Fuzzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inputs ----------------------------------------------------------------------------
    def make_input(self, index: int) -> FuzzInput:
        """Input ``index`` of this seed: the same bytes and choices on every machine."""
        rng = random.Random(f"pytest-acl-fuzz/{self.seed}/{index}")
        target = TARGETS[rng.choice(self.targets)]
        fitting = [b for b in self.bases if b.kind == target.kind]
        base = rng.choice(fitting if fitting and rng.random() < 0.92 else self.bases)
        mutated = mutate(rng, base.data, base.kind)
        return FuzzInput(index, base.name, base.kind, mutated.steps, target.name,
                         f"{self.seed}/{index}/{target.name}", mutated.data)

    def run_input(self, item: FuzzInput, report: Report | None = None) -> list[fnd.Finding]:
        """Run one input through its target and judge it; the findings (not saved)."""
        if self._sim is None:
            self._open()
        log = CallLog()
        session = Session(TimedModule(self._sim.acl, log), self._tmp, self._stream,
                          random.Random(item.target_seed))
        self._capture.records.clear()
        self._async_errors.clear()
        threads = threading.active_count()
        counted = _internal_errors_counted()
        peak = _peak_rss()
        primary: fnd.Finding | None = None
        with warnings.catch_warnings(), sim_log_captured(self._capture):
            warnings.simplefilter("ignore")  # NumPy's overflow warnings are not findings
            try:
                TARGETS[item.target].fn(session, item.data)
            except Exception as exc:
                primary = fnd.from_exception("exception", exc, log.current)
            with contextlib.suppress(Exception):  # queued executions end before any free
                self._sim.acl.rt.synchronize_stream(self._stream)
            for what, release in reversed(session.cleanups):
                try:
                    release()
                except Exception as exc:
                    if primary is None:
                        primary = fnd.from_exception("exception", exc, log.current or what)
                        primary.message += f" (while releasing: {what})"
        found = [primary] if primary is not None else []
        found += self._logged_errors()
        uncaptured = _internal_errors_counted() - counted - len(self._capture.records)
        if uncaptured > 0:  # counted by the simulator's guard, but not logged to us
            found.append(fnd.Finding("internal-error", f"{uncaptured} internal simulator "
                                                       "error(s) counted but not logged",
                                     key="internal simulator errors counted, not logged"))
        found += [fnd.from_exception("async-exception", exc,
                                     "acl.mdl.execute_async (the execution on the stream)")
                  for exc in self._async_errors]
        explained = any(f.kind in EXCEPTIONS for f in found)
        for kind, key, detail in session.problems:
            if kind == "internal-code" and explained:
                continue
            found.append(fnd.Finding(kind, f"{key}: {detail}" if detail else key, key=key))
        api, seconds = log.slowest
        if seconds > self.call_limit:
            found.append(fnd.Finding("time", f"{api} took {seconds:.2f} s (limit "
                                             f"{self.call_limit:g} s)", api=api, key=api))
        grown = _peak_rss() - peak
        if grown > self.memory_limit:
            found.append(fnd.Finding("memory", f"peak memory grew by {grown >> 20} MiB (limit "
                                               f"{self.memory_limit >> 20} MiB)",
                                     key=f"{item.target} grew the peak memory"))
        leaked = self._leaks(threads)
        if leaked:
            left = ", ".join(f"{k} {was} -> {now}" for k, (was, now) in sorted(leaked.items()))
            if explained:
                for finding in found:
                    if finding.kind in EXCEPTIONS:
                        finding.message += f"; left behind: {left}"
            else:
                refusal = _first_refusal(session.notes)
                found.append(fnd.Finding(
                    "leak", f"left behind after {refusal}: {left}",
                    key=f"{', '.join(sorted(leaked))} left after {re.sub(r'[(].*', '', refusal)}"
                        f" ({item.target})"))
        for finding in found:
            finding.seed, finding.index, finding.base = self.seed, item.index, item.base
            finding.steps, finding.target = item.steps, item.target
            finding.target_seed, finding.notes = item.target_seed, tuple(session.notes)
            finding.cann, finding.data = self._sim.runtime.release.version, item.data
        if explained or leaked:
            self._close_sim()  # a fresh simulator for the next input
        if report is not None:
            report.inputs += 1
            report.per_target[item.target] += 1
            report.loaded += session.loaded
            report.executed += session.executed
        return found

    def _logged_errors(self) -> list[fnd.Finding]:
        found = []
        for record in self._capture.records:
            message = record.getMessage()
            api = message.split(":", 1)[0]
            if record.exc_info and record.exc_info[1] is not None:
                finding = fnd.from_exception("internal-error", record.exc_info[1], api,
                                             record.exc_info[2])
            else:
                finding = fnd.Finding("internal-error", message, api=api, key=message)
            found.append(finding)
        return found

    def _leaks(self, threads: int) -> dict[str, tuple[int, int]]:
        try:
            now = self._state()
        except Exception as exc:  # the simulator cannot even answer: all is lost
            return {f"state ({type(exc).__name__})": (0, 1)}
        leaked = {k: (self._baseline.get(k, 0), v) for k, v in now.items()
                  if v != self._baseline.get(k, 0)}
        if threading.active_count() > threads:
            leaked["threads"] = (threads, threading.active_count())
        return leaked

    def run(self, count: int, start: int = 0, report: Report | None = None) -> Report:
        """Inputs ``start`` .. ``start + count - 1``, added to ``report`` (a new one by
        default); findings saved in ``out`` (if given), ``keep`` per signature."""
        report = report if report is not None else Report(self.seed, start)
        began = time.perf_counter()
        with address_space_capped(self.address_space):
            for index in range(start, start + count):
                item = self.make_input(index)
                if self.on_input is not None:
                    self.on_input(item)
                found = self.run_input(item, report)
                if self.on_done is not None:
                    self.on_done(item)
                for finding in found:
                    report.add(finding, self.out, self.keep)
        report.seconds += time.perf_counter() - began
        return report

    def replay(self, finding: fnd.Finding) -> list[fnd.Finding]:
        """A saved finding's input again, on a fresh simulator."""
        self._close_sim()
        item = FuzzInput(finding.index, finding.base, "", tuple(finding.steps), finding.target,
                         finding.target_seed, finding.data)
        with address_space_capped(self.address_space):
            return self.run_input(item)
