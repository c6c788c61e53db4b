"""Where ``libascendcl.so`` is: the ``--acl-capi-lib`` option, else the toolkit's environment
(``ASCEND_TOOLKIT_HOME``, ``ASCEND_HOME_PATH``), ``LD_LIBRARY_PATH`` and the standard install
path — the places CANN's ``set_env.sh`` and its installer put it (issue 16, item 1).

Nothing here opens a library; :func:`find_library` only looks for files, so a test can drive
it with fake files and a fake environment.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LIBRARY = "libascendcl.so"
HOME_VARIABLES = ("ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH")
STANDARD_HOMES = ("/usr/local/Ascend/ascend-toolkit/latest",)
BUILD_HINT = ("without an NPU, build the simulator's: 'pytest-acl sim-lib --out DIR', then "
              f"--acl-capi-lib DIR/lib/{LIBRARY}")


class LibraryNotFound(Exception):
    """No ``libascendcl.so`` in any place looked at; the message lists them all."""


@dataclass(frozen=True)
class Found:
    path: Path
    how: str  # "from command line", "from env ASCEND_HOME_PATH", …


def _home_candidates(home: str, how: str) -> list[tuple[Path, str]]:
    """``<home>/lib64`` and ``<home>/<arch>-linux/lib64``, the two layouts of a toolkit."""
    root = Path(home).expanduser()
    arch = f"{platform.machine()}-linux"
    return [(root / "lib64" / LIBRARY, how), (root / arch / "lib64" / LIBRARY, how)]


def candidates(env: Mapping[str, str],
               standard: tuple[str, ...] = STANDARD_HOMES) -> list[tuple[Path, str]]:
    """Every place looked at when no option names the library, in order, with why."""
    places: list[tuple[Path, str]] = []
    for variable in HOME_VARIABLES:
        if env.get(variable, "").strip():
            places += _home_candidates(env[variable].strip(), f"env {variable}")
    for directory in env.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if directory.strip():
            places.append((Path(directory.strip()).expanduser() / LIBRARY,
                           "env LD_LIBRARY_PATH"))
    for home in standard:
        places += _home_candidates(home, "the standard install path")
    return places


def find_library(configured: Path | None = None, source: str = "",
                 env: Mapping[str, str] | None = None,
                 standard: tuple[str, ...] = STANDARD_HOMES) -> Found:
    """The library the option names (``source`` says where the option came from), else the
    first that exists of :func:`candidates`; :class:`LibraryNotFound` lists what was tried."""
    if configured is not None:
        return Found(configured, f"from {source or 'the option'}")
    places = candidates(os.environ if env is None else env, standard)
    for path, how in places:
        if path.is_file():
            return Found(path, f"from {how}")
    tried = "; ".join(f"{path} ({how})" for path, how in places)
    raise LibraryNotFound(
        f"no {LIBRARY} found; tried {tried}. Name it with --acl-capi-lib PATH (env "
        f"PYTEST_ACL_CAPI_LIB, ini acl_capi_lib), or source the toolkit's set_env.sh; "
        f"{BUILD_HINT}")
