"""The ``pytest-acl`` command.

``pytest-acl run-sim -- CMD ...`` runs an unmodified pyACL program with the simulator as its
``acl`` module: a directory whose ``acl.py`` stands in for CANN's is put first on
``PYTHONPATH``, so ``import acl`` in the program (and in anything it starts) gets the simulator.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from pytest_acl import __version__

SHIM_DIR = Path(__file__).parent / "sim" / "shim"


def _run_sim(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("pytest-acl run-sim: no command given; use e.g. "
              "'pytest-acl run-sim -- python app.py'", file=sys.stderr)
        return 2
    if command[0].endswith(".py"):
        command.insert(0, sys.executable)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM_DIR), env.get("PYTHONPATH")]))
    for flag, variable in (("devices", "PYTEST_ACL_SIM_DEVICES"), ("soc", "PYTEST_ACL_SIM_SOC"),
                           ("hbm", "PYTEST_ACL_SIM_HBM")):
        if getattr(args, flag) is not None:
            env[variable] = str(getattr(args, flag))
    try:
        return subprocess.call(command, env=env)
    except FileNotFoundError:
        print(f"pytest-acl run-sim: command not found: {command[0]}", file=sys.stderr)
        return 127
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-acl", description="AscendCL conformance tooling (pytest-acl).")
    parser.add_argument("--version", action="version", version=f"pytest-acl {__version__}")
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")
    run_sim = commands.add_parser(
        "run-sim", help="run a pyACL program with the simulator as its 'acl' module",
        description="Run CMD with 'import acl' answered by the pytest-acl simulator.")
    run_sim.add_argument("--devices", type=int, help="simulated device count (default 2)")
    run_sim.add_argument("--soc", help="simulated SoC name")
    run_sim.add_argument("--hbm", help="HBM per device, e.g. 32GiB")
    run_sim.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    run_sim.set_defaults(handler=_run_sim)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
