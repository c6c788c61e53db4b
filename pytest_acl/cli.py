"""The ``pytest-acl`` command.

``pytest-acl run-sim -- CMD ...`` runs an unmodified pyACL program with the simulator as its
``acl`` module: a directory whose ``acl.py`` stands in for CANN's is put first on
``PYTHONPATH``, so ``import acl`` in the program (and in anything it starts) gets the simulator.
A C or C++ program gets the simulator's ``libascendcl.so`` first on ``LD_LIBRARY_PATH`` (built
by ``pytest-acl sim-lib``, into ``./.acl-cache/simlib/<key>`` unless ``--sim-lib DIR``
names one).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_acl import __version__

SHIM_DIR = Path(__file__).parent / "sim" / "shim"


def _sim_library(directory: str | None) -> Path | None:
    """The lib/ directory of a built simulator library (``directory``, else
    ``./.acl-cache/simlib/<key>``), built there if missing or stale; None after saying why it
    cannot be built."""
    from pytest_acl.capi.simlib.build import BuildError, NotWritable, build, default_build_dir
    from pytest_acl.options import not_a_directory

    problem = directory is not None and ("empty" if not directory.strip() else
                                         not_a_directory(Path(directory)))
    if problem:
        print(f"pytest-acl run-sim: --sim-lib {shlex.quote(directory or '')}: {problem}; give "
              "the directory of 'pytest-acl sim-lib --out DIR'", file=sys.stderr)
        return None
    try:
        built = build(Path(directory) if directory else default_build_dir())
    except NotWritable as exc:
        print(f"pytest-acl run-sim: {exc}; " + ("give --sim-lib a directory you can write" if
              directory else "run it from a directory you can write, or give --sim-lib DIR"),
              file=sys.stderr)
        return None
    except BuildError as exc:
        print(f"pytest-acl run-sim: {exc}", file=sys.stderr)
        return None
    return built.library.parent


def _is_python(executable: str | None) -> bool:
    """A Python interpreter, or a script it runs (pytest's, pip's: a ``#!...python`` line):
    such a program gets the simulator as its ``acl`` module and needs no C library."""
    if executable is None:
        return False
    if re.fullmatch(r"python[0-9.]*", Path(executable).name):
        return True
    try:
        with open(executable, "rb") as stream:
            first = stream.readline(256)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def _run_sim(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("pytest-acl run-sim: no command given; use e.g. "
              "'pytest-acl run-sim -- python app.py'", file=sys.stderr)
        return 2
    # python/python3: the Python that has the simulator, even when it is not on PATH
    found = sys.executable if command[0] in ("python", "python3") else shutil.which(command[0])
    if found is None and not command[0].endswith(".py"):
        print(f"pytest-acl run-sim: command not found: {command[0]}", file=sys.stderr)
        return 127
    python = command[0].endswith(".py") or _is_python(found)
    if command[0].endswith(".py"):
        command.insert(0, sys.executable)
    elif command[0] in ("python", "python3"):  # the Python that has the simulator (and
        command[0] = sys.executable  # numpy), even when its environment is not activated
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM_DIR), env.get("PYTHONPATH")]))
    if args.sim_lib is not None or not python:  # a C program: the simulator as its libascendcl.so
        library = _sim_library(args.sim_lib)
        if library is None:
            return 2
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            filter(None, [str(library), env.get("LD_LIBRARY_PATH")]))
    for flag, variable in (("devices", "PYTEST_ACL_SIM_DEVICES"), ("soc", "PYTEST_ACL_SIM_SOC"),
                           ("hbm", "PYTEST_ACL_SIM_HBM"), ("cann", "PYTEST_ACL_SIM_CANN")):
        if getattr(args, flag) is not None:
            env[variable] = str(getattr(args, flag))
    try:
        return subprocess.call(command, env=env)
    except FileNotFoundError:
        print(f"pytest-acl run-sim: command not found: {command[0]}", file=sys.stderr)
        return 127
    except KeyboardInterrupt:
        return 130


def _sim_lib(args: argparse.Namespace) -> int:
    from pytest_acl.capi.simlib.build import BuildError, NotWritable, build
    from pytest_acl.options import not_a_directory

    hint = "give a directory for the library and headers (it is made if missing)"
    problem = "empty" if not args.out.strip() else not_a_directory(Path(args.out))
    if problem:
        print(f"pytest-acl sim-lib: --out {shlex.quote(args.out)}: {problem}; {hint}",
              file=sys.stderr)
        return 2
    try:
        built = build(Path(args.out), verbose=args.verbose)
    except NotWritable as exc:
        print(f"pytest-acl sim-lib: {exc}; give --out a directory you can write",
              file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"pytest-acl sim-lib: {exc}", file=sys.stderr)
        return 2
    state = "built" if built.compiled else "up to date, reused"
    print(f"library: {built.library} ({state})")
    print(f"headers: {built.include / 'acl'} (#include \"acl/acl.h\")")
    print(f"compile: {built.compile_line()}")
    print(f"run:     pytest-acl run-sim --sim-lib {shlex.quote(args.out)} -- ./app")
    return 0


def _cann_release(text: str) -> str:
    from pytest_acl.sim.releases import UnknownRelease, release

    try:
        return release(text).version
    except UnknownRelease as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def suite_arguments(args: list[str], directory: Path, invocation: Path) -> list[str]:
    """pytest's arguments for the shipped suite: its own settings (``suite.ini``), its
    package as the root (node ids ``suites/...`` as in a checkout), the cache where pytest
    starts; ``suites/FILE::TEST`` arguments name tests of the shipped suite."""
    mapped, named = [], False
    for arg in args:
        if arg == "suites" or arg.startswith(("suites/", "suites::")):
            mapped.append(str(directory) + arg[len("suites"):])
            named = True
        else:
            mapped.append(arg)
    return ["-c", str(directory / "suite.ini"), "--rootdir", str(directory.parent),
            "-o", f"cache_dir={invocation / '.pytest_cache'}", *mapped,
            *([] if named else [str(directory)])]


_XDIST_OPTIONS = ("-n", "--numprocesses", "--maxprocesses", "--max-worker-restart", "--dist",
                  "--tx")


def _xdist_option(pytest_args: list[str]) -> str | None:
    """The first pytest-xdist option among the arguments (``-n 2``, ``-n2``,
    ``--numprocesses=2``…), so that running without xdist says what to install instead of
    pytest's "unrecognized arguments"."""
    for argument in pytest_args:
        if argument == "--":
            return None
        name = argument.split("=", 1)[0]
        if name in _XDIST_OPTIONS:
            return name
        if argument.startswith("-n") and argument[2:].isalnum():  # -n2, -nauto
            return "-n"
    return None


def run_suite(pytest_args: list[str]) -> int:
    """``pytest-acl run [pytest args]``: every argument goes to pytest (so ``--help`` is
    pytest's, listing the --acl-* options). pytest replaces this process, so it imports the
    plugin itself (and rewrites its asserts, as in any pytest run) and gets signals
    directly."""
    from pytest_acl.suite import suite_dir

    directory = suite_dir()
    if directory is None:
        print("pytest-acl run: this installation has no conformance suite (the package "
              "pytest_acl.suites is missing); reinstall pytest-acl", file=sys.stderr)
        return 2
    if pytest_args and pytest_args[0] == "--":
        pytest_args = pytest_args[1:]
    xdist_option = _xdist_option(pytest_args)
    if xdist_option is not None and importlib.util.find_spec("xdist") is None:
        print(f"pytest-acl run: {xdist_option} is pytest-xdist's option, and pytest-xdist is "
              "not installed: pip install 'pytest-acl[xdist]'", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "pytest",
               *suite_arguments(pytest_args, directory, Path.cwd())]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def _models_build(args: argparse.Namespace) -> int:
    from pytest_acl.models.atc import AtcUnavailable
    from pytest_acl.models.build import BuildError, build_catalog
    from pytest_acl.models.catalog import CatalogNotFound
    from pytest_acl.options import not_a_directory

    problem = not_a_directory(Path(args.out))
    if problem:
        print(f"pytest-acl models build: --out {args.out}: {problem}; give a directory for "
              "the catalog (it is made if missing)", file=sys.stderr)
        return 2
    try:
        manifest = build_catalog(Path(args.out), args.only or None, args.target, args.soc,
                                 log=lambda line: print(line, flush=True))
    except (AtcUnavailable, BuildError, CatalogNotFound) as exc:
        print(f"pytest-acl models build: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. --out is a file, or not writable
        where = f" {exc.filename}" if exc.filename else ""
        print(f"pytest-acl models build: cannot write{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"manifest: {Path(args.out) / 'manifest.json'} ({len(manifest['models'])} models)")
    return 0


def _models_inspect(args: argparse.Namespace) -> int:
    from pytest_acl.om.files import ModelFileError
    from pytest_acl.om.inspect import inspect_file, verdict

    worst = 0
    for name in args.files:
        try:  # a regular file of at most MODEL_FILE_LIMIT bytes: no FIFO, device or directory
            lines, code = inspect_file(name)
        except ModelFileError as exc:
            print(f"pytest-acl models inspect: {exc}", file=sys.stderr)
            worst = worst or 1
            continue
        print("\n".join(lines))
        print(f"verdict: {verdict(code)}")
        worst = worst or (1 if code else 0)
    return worst


def _out(text: str) -> None:
    """Print ``text``; when the reader of stdout has gone (``| head``), the rest is dropped
    quietly — no BrokenPipeError, and the command still exits with its own status."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so what is still buffered (Python flushes it at exit) goes
    nowhere instead of raising again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _unreadable(command: str, exc: Exception) -> int:
    """Exit status 2 with one line: a run that is not there, cannot be read or is malformed
    (the reader's message names file and line and what was expected)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename and \
            not str(exc).startswith(str(exc.filename)):
        message = f"{exc.filename}: {exc.strerror}"
    else:
        message = str(exc)
    print(f"pytest-acl {command}: {message}", file=sys.stderr)
    return 2


def _compare(args: argparse.Namespace) -> int:
    import json

    from pytest_acl.results.compare import compare_runs, markdown
    from pytest_acl.results.reader import RunFileError

    try:
        comparison = compare_runs(Path(args.base), Path(args.new))
    except (OSError, RunFileError) as exc:
        return _unreadable("compare", exc)
    if args.format == "json":
        _out(json.dumps(comparison.as_dict(), indent=2, sort_keys=True))
    else:
        _out(markdown(comparison, args.base, args.new))
    return comparison.exit_status(args.fail_on)


def _clause_catalog(args: argparse.Namespace) -> dict[str, Any]:
    """The clauses for a merged run's report: ``--clauses``, else the installed suite's
    catalog (from the package, wherever the command runs). A ``--clauses`` that is missing or
    malformed is an error (ValueError); no catalog at all is said on stderr, as the report
    then has no clause table."""
    import tomllib

    from pytest_acl.clauses import CatalogError, load_clauses
    from pytest_acl.suite import catalog_file

    catalog = Path(args.clauses) if args.clauses else catalog_file()
    if catalog is None:
        print("pytest-acl merge: this installation has no clause catalog (the package "
              "pytest_acl.suites is missing): report.html has no clause table; give "
              "--clauses suites/clauses.toml", file=sys.stderr)
        return {}
    if not catalog.is_file():
        raise ValueError(f"--clauses {catalog}: no such file; expected the clause catalog, "
                         "e.g. suites/clauses.toml")
    try:
        return load_clauses(catalog)
    except (OSError, tomllib.TOMLDecodeError, CatalogError) as exc:
        raise ValueError(f"--clauses {catalog}: not a clause catalog ({exc})") from None


def _merge(args: argparse.Namespace) -> int:
    from pytest_acl.options import not_a_directory
    from pytest_acl.results.html import render
    from pytest_acl.results.merge import merge, missing_shards
    from pytest_acl.results.qualification import write_bundle
    from pytest_acl.results.reader import RunFileError
    from pytest_acl.results.runfile import read_run
    from pytest_acl.results.signing import SigningUnavailable, load_private
    from pytest_acl.results.verdict import INCOMPLETE, NO_TESTS, run_verdict

    out = Path(args.out)
    try:
        problem = not_a_directory(out)
        if problem:
            raise ValueError(f"--out {out}: {problem}; give a directory for the merged run "
                             "(it is made if missing)")
        if args.sign_key:
            load_private(Path(args.sign_key))  # a bad key stops before anything is written
        clauses = _clause_catalog(args)
        header, count = merge([Path(run) for run in args.runs], out)
    except (OSError, RunFileError, ValueError, SigningUnavailable) as exc:
        return _unreadable("merge", exc)
    run = read_run(out)
    final = run.final_records()
    verdict = run_verdict(run.collected, final, run.ended,
                          missing_shards(header["merged_from"]))
    (out / "report.html").write_text(render(run.header, list(final.values()), clauses,
                                            verdict))
    _out(f"merged {len(args.runs)} runs ({count} records) into {args.out}: {verdict.text}")
    if header["level"] == "full" and verdict.verdict not in (INCOMPLETE, NO_TESTS):
        write_bundle(out, None, Path(args.sign_key) if args.sign_key else None)
        _out(f"qualification bundle: {out / 'qualification.json'}"
             + (" (signed)" if args.sign_key else ""))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from pytest_acl.results.qualification import verify
    from pytest_acl.results.reader import RunNotFound
    from pytest_acl.results.signing import SigningUnavailable

    try:
        verdict = verify(Path(args.run), Path(args.key) if args.key else None)
    except (SigningUnavailable, RunNotFound) as exc:
        return _unreadable("verify", exc)
    lines = [f"verdict: {verdict.verdict}"]
    lines += [f"  problem: {problem}" for problem in verdict.problems]
    lines += [f"  failed: {failure}" for failure in verdict.failures]
    lines += [f"  note: {note}" for note in verdict.notes]
    _out("\n".join(lines))
    return verdict.exit_status


def _keygen(args: argparse.Namespace) -> int:
    from pytest_acl.results.signing import SigningUnavailable, generate

    try:
        private, public = generate(Path(args.out))
    except (SigningUnavailable, OSError) as exc:
        print(f"pytest-acl keygen: {exc}", file=sys.stderr)
        return 2
    print(f"private key (sign with --acl-sign-key; keep it secret): {private}")
    print(f"public key (check with 'pytest-acl verify --key'): {public}")
    return 0


def _fuzz(args: argparse.Namespace) -> int:
    if not args.replay and not args.out:
        args.parser.error("--out DIR is required (where findings and the summary go), "
                          "unless --replay RECORD")
    from pytest_acl.fuzz.command import main as fuzz_main

    return fuzz_main(args)


def _count(text: str, least: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is less than {least}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} seconds: give a positive number")
    return value


def _fuzz_targets(text: str) -> list[str]:
    from pytest_acl.fuzz.targets import TARGETS

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown target {', '.join(unknown) or repr(text)}; the targets are "
            f"{', '.join(TARGETS)}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-acl", description="AscendCL conformance tooling (pytest-acl).")
    parser.add_argument("--version", action="version", version=f"pytest-acl {__version__}")
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")
    running = commands.add_parser(
        "run", help="run the conformance suite that ships with pytest-acl",
        description="Run the installed conformance suite with its own settings, from any "
                    "directory: 'pytest-acl run' (the simulator), 'pytest-acl run -n 2 "
                    "--acl-level full', 'pytest-acl run suites/test_bundles.py'. Every pytest "
                    "and --acl-* option works; results go to ./reports as usual.",
        add_help=False)
    running.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="[pytest args]")

    run_sim = commands.add_parser(
        "run-sim", help="run a pyACL program with the simulator as its 'acl' module",
        description="Run CMD with 'import acl' answered by the pytest-acl simulator.")
    run_sim.add_argument("--devices", type=int, help="simulated device count (default 2)")
    run_sim.add_argument("--soc", help="simulated SoC name")
    run_sim.add_argument("--hbm", help="HBM per device, e.g. 32GiB")
    run_sim.add_argument("--cann", type=_cann_release, metavar="RELEASE",
                         help="the CANN release whose behaviour the simulator follows: "
                              "8.5, 9.0 or 9.1 (default: the newest)")
    run_sim.add_argument("--sim-lib", metavar="DIR",
                         help="the simulator's C library from 'pytest-acl sim-lib --out DIR' "
                              "(built there if missing or stale), first on LD_LIBRARY_PATH; "
                              "a command that is not Python gets one built in "
                              "./.acl-cache/simlib/<key> by default")
    run_sim.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    run_sim.set_defaults(handler=_run_sim)

    sim_lib = commands.add_parser(
        "sim-lib", help="build the simulator as libascendcl.so, with AscendCL headers",
        description="Build DIR/lib/libascendcl.so, whose acl* functions run the simulator, "
                    "and copy pytest-acl's AscendCL headers to DIR/include/acl, so C and C++ "
                    "programs written against AscendCL compile unmodified and run on the "
                    "simulator (configured by PYTEST_ACL_SIM_* as usual). An up-to-date "
                    "library is reused. Needs a C compiler and Python's headers (Debian: "
                    "build-essential, python3-dev); exit status 2 without them.")
    sim_lib.add_argument("--out", required=True, metavar="DIR",
                         help="where lib/ and include/ go (made if missing)")
    sim_lib.add_argument("--verbose", action="store_true",
                         help="show the compiler's commands and output")
    sim_lib.set_defaults(handler=_sim_lib)

    models = commands.add_parser("models", help="build and inspect the fixture models")
    model_commands = models.add_subparsers(dest="models_command", required=True,
                                           metavar="COMMAND")
    build = model_commands.add_parser(
        "build", help="build the catalog's models, reference arrays and manifest.json",
        description="Build the fixture-model catalog (fixtures/catalog.py) into a directory. "
                    "Models whose sources did not change are not rebuilt.")
    build.add_argument("--out", default="build/models", help="output directory "
                       "(default: build/models)")
    build.add_argument("--target", choices=("sim", "atc"), default="sim",
                       help="sim: the simulator's compiler; atc: ATC on an NPU host")
    build.add_argument("--soc", help="SoC for --target atc, e.g. Ascend910B1")
    build.add_argument("--only", nargs="+", metavar="NAME", help="build only these models")
    build.set_defaults(handler=_models_build)
    inspect = model_commands.add_parser(
        "inspect", help="print the header, partition tables and expected sizes of .om files",
        description="Describe .om files (ours or ATC's); for a corrupt one, say what is wrong "
                    "and which aclError a loader returns. Exit status 1 if any is invalid.")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    inspect.set_defaults(handler=_models_inspect)

    comparing = commands.add_parser(
        "compare", help="compare two runs: new failures, fixes, changed codes and times",
        description="Compare the results of two runs (run directories or results.jsonl "
                    "files). Exit status 1 when the comparison finds what --fail-on names, "
                    "2 when a run cannot be read or a line of it is malformed (named by file "
                    "and line). A test's codes are compared as a set; codes seen in "
                    "hypothesis-generated examples count only when both runs are level full.")
    comparing.add_argument("base", help="the reference run")
    comparing.add_argument("new", help="the run to judge")
    comparing.add_argument("--format", choices=("markdown", "json"), default="markdown")
    comparing.add_argument("--fail-on", choices=("regressions", "changes", "never"),
                           default="regressions",
                           help="what makes the exit status 1 (default: regressions)")
    comparing.set_defaults(handler=_compare)

    merging = commands.add_parser(
        "merge", help="one report over runs from several hosts or devices",
        description="Merge run directories (or results.jsonl files) into one, keeping each "
                    "record's source and every host's environment; writes results.jsonl and "
                    "report.html to --out. Exit status 2 when a run cannot be read or a line "
                    "of it is malformed (named by file and line).")
    merging.add_argument("runs", nargs="+", metavar="RUN")
    merging.add_argument("--out", required=True, help="directory for the merged run")
    merging.add_argument("--clauses", help="clause catalog for the report (default: the "
                         "installed suite's)")
    merging.add_argument("--sign-key", metavar="KEY",
                         help="Ed25519 private key (PEM) that signs the merged bundle")
    merging.set_defaults(handler=_merge)

    verifying = commands.add_parser(
        "verify", help="check a qualification bundle and print the verdict",
        description="Check a --acl-level full run against this pytest-acl's own suite: "
                    "untouched (hashes, and the signature with --key), complete (every "
                    "required test exactly once, every clause exercised, skips explained), "
                    "same suite and version, level full. Verdict CONFORMANT (exit 0), NOT "
                    "CONFORMANT, INCOMPLETE or INVALID (exit 1); exit 2 when the key cannot "
                    "be used or RUN is not a run directory.")
    verifying.add_argument("run", metavar="RUN")
    verifying.add_argument("--key", metavar="PUBKEY",
                           help="Ed25519 public key (PEM): the bundle must carry its signature")
    verifying.set_defaults(handler=_verify)

    keygen = commands.add_parser(
        "keygen", help="make an Ed25519 key pair for signing qualification bundles",
        description="Write acl-sign.pem (private, mode 600) and acl-sign.pub.pem to --out.")
    keygen.add_argument("--out", default=".", help="directory for the key pair (default: .)")
    keygen.set_defaults(handler=_keygen)

    fuzz = commands.add_parser(
        "fuzz", help="fuzz every load, query and bundle API of the simulator",
        description="Structure-aware mutations of the fixture models (header, partition "
                    "tables, sizes, graph, bundle container) through every load, query and "
                    "bundle API, executing what loads. A finding — an exception out of a "
                    "pyACL call, a leak, a call over --call-limit, memory over "
                    "--memory-limit, a hang or a crash — is saved in OUT/findings with a "
                    "one-line reproducer. Exit status 1 when there are findings, 2 on a "
                    "usage error.")
    fuzz.add_argument("--seed", type=_count, default=1, help="the seed (default 1): the same "
                      "seed gives the same inputs on every machine")
    fuzz.add_argument("--count", type=lambda text: _count(text, 1), default=2000,
                      help="inputs to run (default 2000)")
    fuzz.add_argument("--start", type=_count, default=0,
                      help="index of the first input (default 0)")
    fuzz.add_argument("--out", metavar="DIR", help="where findings, the built fixture "
                      "models and summary.json go")
    fuzz.add_argument("--targets", type=_fuzz_targets, metavar="NAME,...",
                      help="only these APIs (default: all), e.g. load_from_mem,query_size")
    fuzz.add_argument("--models", metavar="DIR",
                      help="a built catalog ('pytest-acl models build') instead of building "
                           "one into OUT/bases")
    fuzz.add_argument("--cann", type=_cann_release, metavar="RELEASE",
                      help="the CANN release the simulator follows (default: the newest)")
    fuzz.add_argument("--call-limit", type=_seconds, default=5.0, metavar="SECONDS",
                      help="a pyACL call taking longer is a finding (default 5)")
    fuzz.add_argument("--hang-timeout", type=_seconds, default=60.0, metavar="SECONDS",
                      help="an input running longer is a hang: its process is ended and the "
                           "run goes on after it (default 60)")
    fuzz.add_argument("--memory-limit", type=lambda text: _count(text, 1), default=256,
                      metavar="MIB", help="an input growing the peak memory by more is a "
                                          "finding (default 256)")
    fuzz.add_argument("--keep", type=_count, default=0, metavar="N",
                      help="save only the first N findings of each group (default 0: save "
                           "every finding); all are counted")
    fuzz.add_argument("--replay", metavar="RECORD",
                      help="run one saved finding (its .json) again and print what it finds")
    fuzz.set_defaults(handler=_fuzz, parser=fuzz)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:  # all of the rest is pytest's
        return run_suite(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # stdout's reader went away (| head): no traceback for that
        _silence_stdout()
        return 141  # as a shell reports a command ended by SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
