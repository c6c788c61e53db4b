"""Every simulated pyACL function, called with the boundary values of each argument its
format accepts, returns pyACL's shape — an aclError for what it refuses — and never raises
(beyond pyACL's own argument errors), blocks or logs an internal simulator error."""

from __future__ import annotations

import itertools
import math
import threading
import types

import pytest

from pytest_acl.sim import Simulator
from pytest_acl.sim.pyargs import INTERNAL_ERRORS

# Values per format letter: zero, one, the signed and unsigned extremes, and (for "O") the
# kinds of object a program might pass by mistake. The letters beyond k, K, I, i, s and O are
# those of the binding's other wrappers (surface.toml), where the stubs use them.
VALUES = {
    "k": (0, 1, -1, 2**63, 2**64 - 1), "K": (0, 1, -1, 2**63, 2**64 - 1),
    "I": (0, 1, -1, 2**32 - 1), "i": (0, 1, -1, 2**31 - 1, -(2**31)),
    "b": (0, 1, 2**8 - 1), "B": (0, 1, -1, 2**8 - 1),
    "h": (0, 1, -1, 2**15 - 1, -(2**15)), "H": (0, 1, -1, 2**16 - 1),
    "l": (0, 1, -1, 2**63 - 1, -(2**63)), "L": (0, 1, -1, 2**63 - 1, -(2**63)),
    "f": (0.0, 1.0, -1.0, 3.4e38, 1e300, float("inf"), float("nan")),
    "d": (0.0, -0.0, 1.0, 1.8e308, float("inf"), float("nan")),
    "s": ("", "/nonexistent/model.om", "/dev/zero"),
    "O": (None, 0, -1, 2**64 - 1, "x", b"\xff", [], [2**63, -1], {}),
}
# Functions that wait by design for what these calls never provide (process_report with
# timeout -1 waits for a report forever, as on a card).
WAITS = {"acl.rt.process_report"}
TIMEOUT = 10


def submodules(acl) -> list[tuple[str, object]]:
    return [("", acl)] + [(name, value) for name, value in vars(acl).items()
                          if isinstance(value, types.ModuleType)]


def functions(stubs: bool = False) -> list[tuple[str, str]]:
    """The emulated functions pyargs.pyacl wraps, or the stubs (surface.py), with their
    formats. Functions that parse their own arguments (pyargs.parses_own) are left to their
    own tests: they raise pyACL's ValueErrors and warnings for some of these values."""
    acl = Simulator(devices=1, hbm="64MiB").acl
    found = []
    for sub, module in submodules(acl):
        for name in dir(module):
            function = getattr(module, name)
            fmt = getattr(function, "pyacl_format", None)
            stub = getattr(function, "pyacl_stub", False)
            if fmt is None or function.pyacl_name in WAITS or stub != stubs \
                    or (getattr(function, "pyacl_parses_own", False) and not stub):
                continue
            found.append((f"{sub + '.' if sub else ''}{name}", fmt))
    return sorted(set(found))


def argument_sets(fmt: str, limit: int = 40) -> list[tuple[object, ...]]:
    letters = fmt.replace("|", "")
    pools = [VALUES[letter] for letter in letters]
    # every value of each argument with the others at their first value, then a sample of
    # the full product: bounded, deterministic
    sets = [tuple(pool[0] for pool in pools)]
    for index, pool in enumerate(pools):
        sets += [tuple(value if i == index else p[0] for i, p in enumerate(pools))
                 for value in pool]
    sets += itertools.islice(itertools.product(*pools), limit)
    return list({repr(args): args for args in sets}.values())


def call_bounded(function, args):
    outcome = []

    def run():
        try:
            outcome.append(("returned", function(*args)))
        except TypeError as exc:  # pyACL's argument errors
            outcome.append(("TypeError", exc))
        except Exception as exc:  # noqa: BLE001 - any other is the finding
            outcome.append(("raised", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    return outcome[0] if outcome else ("blocked", None)


@pytest.mark.parametrize(("name", "fmt"), functions())
def test_boundary_arguments_give_codes_not_exceptions(name, fmt):
    sim = Simulator(devices=1, hbm="64MiB")
    acl = sim.acl
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    module = acl
    for part in name.split("."):
        module = getattr(module, part)
    before = INTERNAL_ERRORS.count
    problems = []
    for args in argument_sets(fmt):
        kind, value = call_bounded(module, args)
        if kind in ("raised", "blocked"):
            problems.append(f"acl.{name}{args!r} {kind}: {value!r}")
    assert problems == [] and INTERNAL_ERRORS.count == before, "\n".join(
        problems + list(INTERNAL_ERRORS.recent)[before - INTERNAL_ERRORS.count:])


def test_stubs_answer_every_boundary_value_with_not_supported():
    """The functions outside the emulated scope (surface.py): each value their format accepts
    gives ACL_ERROR_API_NOT_SUPPORT in the function's shape, any other pyACL's TypeError.
    Called directly — a stub cannot block — so the ~600 of them take a fraction of a second."""
    acl = Simulator(devices=1, hbm="64MiB").acl
    problems, calls = [], 0
    for name, fmt in functions(stubs=True):
        function = acl
        for part in name.split("."):
            function = getattr(function, part)
        for args in argument_sets(fmt):
            calls += 1
            try:
                result = function(*args)
            except TypeError:
                continue
            except Exception as exc:  # noqa: BLE001 - any other is the finding
                problems.append(f"acl.{name}{args!r} raised {exc!r}")
                continue
            status = result[-1] if isinstance(result, tuple) else result
            if status not in (200001, 0, None) and not (isinstance(status, float)
                                                      and math.isclose(status, 0.0)):
                problems.append(f"acl.{name}{args!r} gave {result!r}")
    assert problems == [] and calls > 5000
