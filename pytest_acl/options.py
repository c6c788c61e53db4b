"""Every ``--acl-*`` option, resolved in one place: CLI (``--acl-*``, then ``-o``) →
``PYTEST_ACL_*`` env → ini → default.

Each resolved value remembers where it came from, so the report header can say
``devices: 0,1 (from env PYTEST_ACL_DEVICES)`` and a bad value is a ``pytest.UsageError``
naming the option, the value, its source and what would be right (the pytest-django /
pytest-timeout pattern, reference/pytest-conventions.md §1.4).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def parse_backend(text: str) -> tuple[str, ...]:
    """``"sim"`` or a list of distinct bindings for a parity run (``"sim,capi"``), in the
    order given, each a backend installed in the entry-point group pytest_acl.backends."""
    from pytest_acl.backends import installed

    valid = list(installed())
    if not text.strip():
        raise ValueError(f"valid choices are {', '.join(valid)}, or several separated by "
                         "commas (sim,capi) for a parity run")
    names: list[str] = []
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            raise ValueError(f"an empty name in the list; give backends separated by commas, "
                             f"such as sim or sim,capi (installed: {', '.join(valid)})")
        if name not in valid:
            raise ValueError(f"{name!r} is not an installed backend; valid choices are "
                             f"{', '.join(valid)}")
        if name in names:
            raise ValueError(f"backend {name} is listed twice; each binding runs once")
        names.append(name)
    return tuple(names)


def parse_devices(text: str) -> tuple[int, ...]:
    """``"0,1"`` or ``"0-3"`` or ``"0,2-3"`` → device ids, in order, without duplicates."""
    ids: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError("use device ids separated by commas, such as 0,1 or 0-3")
        span = range(int(first), int(last) + 1) if dash else [int(first)]
        if not span:
            raise ValueError(f"the range {part} is empty; write the lower id first")
        for device in span:
            if device in ids:
                raise ValueError(f"device {device} is listed twice")
            ids.append(device)
    return tuple(ids)


def not_a_directory(path: Path) -> str | None:
    """Why ``path`` cannot be used (or made) as a directory — it, or a directory it would be
    made in, is a file — or None."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else f"{candidate} is a file, not a directory"
    return None


def parse_report_dir(text: str) -> Path:
    """Where each run's directory is made (relative to where pytest starts)."""
    directory = Path(text.strip() or "reports").expanduser()
    problem = not_a_directory(directory)
    if problem:
        raise ValueError(f"{problem}; give a directory for the runs' results (it is made if "
                         "missing), such as reports")
    return directory


def parse_model_dir(text: str) -> Path | None:
    """A directory holding a built catalog (``manifest.json``), or None for "build on demand"."""
    if not text.strip():
        return None
    directory = Path(text).expanduser().resolve()
    problem = not_a_directory(directory)
    if problem:
        raise ValueError(f"{problem}; give the directory 'pytest-acl models build --out DIR' "
                         "built a catalog into")
    if not (directory / "manifest.json").is_file():
        raise ValueError(f"{directory} holds no manifest.json; build a catalog there with "
                         f"'pytest-acl models build --out {text}' (add '--target atc --soc "
                         "SOC' on an NPU host)")
    return directory


LEVELS = ("quick", "full")


def parse_level(text: str) -> str:
    value = text.strip().lower()
    if value not in LEVELS:
        raise ValueError(f"valid choices are {', '.join(LEVELS)}")
    return value


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off", ""):
        return False
    raise ValueError("use yes or no")


def parse_cann_version(text: str) -> str | None:
    """A CANN version such as ``8.0.RC3`` or ``8.1.0``; empty: discover it."""
    from pytest_acl.versions import is_version

    if not text.strip():
        return None
    if not is_version(text):
        raise ValueError("use a CANN version such as 8.0.RC3, 8.1.0 or 9.2.0-beta.2")
    return text.strip()


def parse_timeout(text: str) -> float | None:
    """Seconds per test (setup, call and teardown); ``0`` turns the limit off; empty: the
    level's default (``LEVEL_TIMEOUTS``)."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError("use a number of seconds, such as 120, or 0 for no limit") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("use a number of seconds >= 0 (0 turns the limit off)")
    return value


# Per-test limits by level: a quick run on a card takes seconds per test; a full run's
# hypothesis tests run hundreds of examples, each a load and an execution.
LEVEL_TIMEOUTS = {"quick": 120.0, "full": 600.0}
ISOLATION = ("auto", "yes", "no")


def parse_isolate(text: str) -> str:
    value = text.strip().lower()
    value = {"1": "yes", "true": "yes", "on": "yes", "0": "no", "false": "no",
             "off": "no"}.get(value, value)
    if value not in ISOLATION:
        raise ValueError("valid choices are auto (isolated on device backends), yes, no")
    return value


def parse_run_dir(text: str) -> Path | None:
    """A run directory written by an earlier session (it holds ``results.jsonl``)."""
    if not text.strip():
        return None
    directory = Path(text).expanduser().resolve()
    if directory.is_file() and directory.name == "results.jsonl":
        directory = directory.parent
    if not (directory / "results.jsonl").is_file():
        raise ValueError(f"{directory} holds no results.jsonl; give a run directory such "
                         "as reports/20261202-101500-1234")
    return directory


def parse_shard(text: str) -> tuple[int, int] | None:
    """``K/N``: this host runs shard K of N (1 <= K <= N)."""
    if not text.strip():
        return None
    first, slash, second = text.strip().partition("/")
    if not (slash and first.isdigit() and second.isdigit()):
        raise ValueError("use K/N, such as 1/3 for the first of three shards")
    index, count = int(first), int(second)
    if not 1 <= index <= count:
        raise ValueError(f"K must be between 1 and N ({count}), such as 1/{max(count, 1)}")
    return index, count


def parse_capi_lib(text: str) -> Path | None:
    """The ``libascendcl.so`` the capi backend opens; empty: look for it (capi/discovery.py)."""
    if not text.strip():
        return None
    path = Path(text.strip()).expanduser().resolve()
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not a file"
        raise ValueError(f"{path} is {what}; give the path of libascendcl.so, such as "
                         "/usr/local/Ascend/ascend-toolkit/latest/lib64/libascendcl.so or the "
                         "simulator's DIR/lib/libascendcl.so built by 'pytest-acl sim-lib "
                         "--out DIR'")
    return path


def parse_key_file(text: str) -> Path | None:
    if not text.strip():
        return None
    path = Path(text).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"{path} is not a file; create a key pair with 'pytest-acl keygen "
                         "--out DIR' (or 'openssl genpkey -algorithm ed25519')")
    return path


@dataclass(frozen=True)
class OptionSpec:
    """One setting: its CLI flag, env variable, ini key, default and parser."""

    name: str
    help: str
    default: str
    parse: Callable[[str], Any]
    metavar: str
    is_flag: bool = False  # a switch on the command line; yes/no in env and ini

    @property
    def flag(self) -> str:
        return f"--acl-{self.name}"

    @property
    def dest(self) -> str:
        return f"acl_{self.name.replace('-', '_')}"

    @property
    def env(self) -> str:
        return f"PYTEST_ACL_{self.name.replace('-', '_').upper()}"

    @property
    def ini(self) -> str:
        return self.dest


OPTIONS = (
    OptionSpec("backend", "AscendCL implementation under test: sim (built-in simulator), "
               "pyacl (CANN's Python acl module), capi (a binding of libascendcl.so) or another "
               "installed backend; several, comma-separated (sim,capi), run every test "
               "through each binding and report where they disagree", "sim", parse_backend,
               "{sim,pyacl,capi}[,...]"),
    OptionSpec("devices", "Device ids to run on, e.g. 0,1 or 0-3; under pytest-xdist each "
               "worker is pinned to one of them, round robin (default: the simulator's last "
               "device, else 0)", "0", parse_devices, "IDS"),
    OptionSpec("model-dir", "Fixture-model catalog built earlier by 'pytest-acl models "
               "build' (required on NPU backends); without it the simulator builds one into "
               "the pytest cache", "", parse_model_dir, "DIR"),
    OptionSpec("capi-lib", "libascendcl.so for --acl-backend capi; default: found through "
               "ASCEND_TOOLKIT_HOME, ASCEND_HOME_PATH, LD_LIBRARY_PATH or "
               "/usr/local/Ascend/ascend-toolkit/latest", "", parse_capi_lib, "PATH"),
    OptionSpec("level", "quick: few hypothesis examples and threads, not valid for "
               "qualification; full: the qualification run", "quick", parse_level,
               "{quick,full}"),
    OptionSpec("report-dir", "Directory the run's results go to (a sub-directory per run)",
               "reports", parse_report_dir, "DIR"),
    OptionSpec("expectations", "TOML file of known failures (expectation entries scoped by "
               "SoC and CANN version, with reason, bug and expiry)", "",
               lambda text: Path(text).expanduser() if text.strip() else None, "FILE"),
    OptionSpec("cann-version", "CANN version of the stack under test, for expectation "
               "ranges and the results header; default: read from the toolkit's "
               "ascend_toolkit_install.info (the simulator reports the release it follows, "
               "PYTEST_ACL_SIM_CANN)", "",
               parse_cann_version, "VERSION"),
    OptionSpec("timeout", "Per-test time limit in seconds (setup, call and teardown); a test "
               "past it is ended with the stacks of its threads and recorded as a timeout; 0 "
               "turns it off. Default by level: quick 120, full 600", "",
               parse_timeout, "SECONDS"),
    OptionSpec("isolate", "Run the tests in a worker process that is replaced when it "
               "crashes or hangs (pytest-xdist; a run without -n gets one worker): yes, no, or "
               "auto = yes on device backends, no on the simulator", "auto", parse_isolate,
               "{auto,yes,no}"),
    OptionSpec("resume", "Continue an interrupted or killed run in its own directory: tests "
               "with a final record are not run again", "", parse_run_dir, "RUN_DIR"),
    OptionSpec("shard", "Run shard K of N: the collected tests split deterministically into "
               "N disjoint parts, for one host each ('pytest-acl merge' joins them)", "",
               parse_shard, "K/N"),
    OptionSpec("shard-durations", "A previous run (directory or results.jsonl) whose test "
               "durations balance the shards; without it shards are balanced by count", "",
               parse_run_dir, "RUN"),
    OptionSpec("sign-key", "Ed25519 private key (PEM) that signs the qualification bundle "
               "of a full run", "", parse_key_file, "KEY"),
    OptionSpec("strict-expectations", "Fail the run on expired entries, entries that match "
               "nothing, and expected failures that pass", "no", parse_bool, "", is_flag=True),
    OptionSpec("strict-codes", "Fail on behaviour drift (an error code that differs from the "
               "reference implementation's) instead of reporting it as DRIFT", "no",
               parse_bool, "", is_flag=True),
)


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from ("command line", "env …", "ini …", "default")."""

    value: Any
    source: str


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("acl", "AscendCL conformance (pytest-acl)")
    for spec in OPTIONS:
        help_text = (f"{spec.help}. Also {spec.env} or ini {spec.ini}; "
                     f"default {spec.default or 'none'}")
        if spec.is_flag:
            group.addoption(spec.flag, dest=spec.dest, default=None, action="store_const",
                            const="yes", help=help_text)
        else:
            group.addoption(spec.flag, dest=spec.dest, default=None, metavar=spec.metavar,
                            help=help_text)
        parser.addini(spec.ini, f"{spec.help} (default {spec.default or 'none'})", type="string",
                      default=None)


def _raw_setting(config: pytest.Config, spec: OptionSpec) -> tuple[str, str]:
    cli = config.getoption(spec.dest, None)
    if cli is not None:
        return cli, "command line"
    override = _override(config, spec.ini)  # -o on the command line: before env and ini
    if override is not None:
        return override, f"-o {spec.ini}"
    env = os.environ.get(spec.env)
    if env is not None and env.strip():
        return env, f"env {spec.env}"
    where = config.inipath.name if config.inipath else "ini"
    try:
        ini = config.getini(spec.ini)
    except TypeError as exc:  # pytest >= 9, [tool.pytest] in TOML: a value that is not a string
        raise pytest.UsageError(f"{spec.flag}: invalid value (from ini {spec.ini} in {where}): "
                                f"{exc}; write it as a TOML string, e.g. "
                                f"{spec.ini} = \"{spec.default}\"") from None
    if ini:
        return ini, f"ini {spec.ini} in {where}"
    return spec.default, "default"


def _override(config: pytest.Config, ini: str) -> str | None:
    """The value ``-o ini=VALUE`` (``--override-ini``) gave, the last one winning as in
    pytest; None without one. pytest's getini returns it as if the ini file said it."""
    found = None
    for item in getattr(config.option, "override_ini", None) or ():
        name, equals, value = item.partition("=")
        if equals and name.strip() == ini:
            found = value
    return found


def backend_names(config: pytest.Config) -> tuple[str, ...]:
    """The backend setting alone (a UsageError when bad), for a session not awake yet: a test
    that uses an ACL fixture is parametrized by binding at collection, before such a session
    wakes, and a parity run set only by PYTEST_ACL_BACKEND must not lose its bindings."""
    spec = next(spec for spec in OPTIONS if spec.name == "backend")
    raw, source = _raw_setting(config, spec)
    try:
        names: tuple[str, ...] = spec.parse(raw)
    except ValueError as exc:
        raise pytest.UsageError(
            f"{spec.flag}: invalid value {raw!r} (from {source}): {exc}") from None
    return names


def resolve(config: pytest.Config) -> dict[str, Resolved]:
    """All settings, or a UsageError for the first bad one."""
    settings = {}
    for spec in OPTIONS:
        raw, source = _raw_setting(config, spec)
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            raise pytest.UsageError(
                f"{spec.flag}: invalid value {raw!r} (from {source}): {exc}") from None
        settings[spec.name] = Resolved(value, source)
    timeout = settings["timeout"]
    if timeout.value is None:
        level = settings["level"].value
        settings["timeout"] = Resolved(LEVEL_TIMEOUTS[level], f"default for level {level}")
    count = _known_device_count(settings["backend"].value[0])
    _check_device_ids(config, settings, count)
    if settings["devices"].source == "default" and count and count > 1:
        # Not device 0: a load or allocation that ignores the current device shows only
        # on another one.
        settings["devices"] = Resolved((count - 1,), f"default: the last of {count} devices")
    return settings


def _check_device_ids(config: pytest.Config, settings: dict[str, Resolved],
                      count: int | None) -> None:
    """Device ids the backend does not have are a usage error when its device count is known
    before any test runs, not a failing test per device and worker."""
    devices = settings["devices"]
    if count is None or devices.source == "default":
        return
    missing = [device for device in devices.value if device >= count]
    if not missing:
        return
    spec = next(spec for spec in OPTIONS if spec.name == "devices")
    raw = _raw_setting(config, spec)[0]
    backend = settings["backend"].value[0]
    hint = " (PYTEST_ACL_SIM_DEVICES sets the simulator's count)" if backend == "sim" else ""
    listed = "0" if count == 1 else f"0-{count - 1}"
    raise pytest.UsageError(
        f"{spec.flag}: invalid value {raw!r} (from {devices.source}): the {backend} backend "
        f"has {count} device{'s' if count != 1 else ''}{hint}, so "
        f"{'devices' if len(missing) > 1 else 'device'} {', '.join(map(str, missing))} "
        f"{'do' if len(missing) > 1 else 'does'} not exist; use ids {listed}")


def _known_device_count(backend: str) -> int | None:
    """The backend's device count when it is known without starting the runtime: the
    simulator's configuration (PYTEST_ACL_SIM_DEVICES); None elsewhere."""
    if backend != "sim":
        return None
    from pytest_acl.sim.config import SimConfig, SimConfigError

    try:
        return SimConfig.from_env().device_count
    except SimConfigError:
        return None  # the backend reports it when it is loaded
