"""--acl-backend / --acl-devices: CLI → PYTEST_ACL_* env → ini → default, the source shown in
the report header, and bad values as usage errors naming option, value, source and choices."""

from __future__ import annotations

import pytest

from pytest_acl.options import parse_backend, parse_devices

# hypothesis's plugin costs ~0.5 s per inner run (it imports hypothesis at the summary).
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")

# The inner test reports what the plugin resolved, so a wrong value fails inside too.
DEVICE_PROBE = """
def test_probe(acl, acl_device, acl_backend):
    assert acl_backend.name == "sim"
    assert acl.rt.get_device() == (acl_device, 0)
    print("probe device", acl_device)
"""


# -- the parsers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("0", (0,)), ("0,1", (0, 1)), ("0-3", (0, 1, 2, 3)), ("0,2-3", (0, 2, 3)),
    (" 1 , 0 ", (1, 0)), ("3-3", (3,)), ("7,1", (7, 1)),
])
def test_parse_devices_accepts(text, expected):
    assert parse_devices(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "use device ids separated by commas"),
    ("a", "use device ids separated by commas"),
    ("-1", "use device ids separated by commas"),
    ("0,,1", "use device ids separated by commas"),
    ("0-", "use device ids separated by commas"),
    ("1.5", "use device ids separated by commas"),
    ("3-1", "the range 3-1 is empty"),
    ("0,0", "device 0 is listed twice"),
    ("0-2,1", "device 1 is listed twice"),
])
def test_parse_devices_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_devices(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("sim", ("sim",)), ("pyacl", ("pyacl",)), ("capi", ("capi",)), (" SIM ", ("sim",)),
    ("PyACL", ("pyacl",)),
    # a parity run: several bindings, in the order given
    ("sim,capi", ("sim", "capi")), ("capi, SIM", ("capi", "sim")),
    ("sim,pyacl,capi", ("sim", "pyacl", "capi")),
])
def test_parse_backend_accepts(text, expected):
    assert parse_backend(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "valid choices are sim, pyacl, capi, or several separated by commas"),
    ("cuda", "'cuda' is not an installed backend; valid choices are sim, pyacl, capi"),
    ("simulator", "'simulator' is not an installed backend; valid choices are sim, pyacl, capi"),
    ("sim,npu", "'npu' is not an installed backend; valid choices are sim, pyacl, capi"),
    ("sim,,capi", "an empty name in the list; give backends separated by commas"),
    ("sim,capi,SIM", "backend sim is listed twice; each binding runs once"),
])
def test_parse_backend_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_backend(text)


# -- good values, and where they came from ----------------------------------------------------

def test_defaults_are_sim_and_the_last_device(pytester, monkeypatch):
    """Not device 0 when there are more: a call that ignores the current device shows."""
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "acl: backend sim (from default): pytest-acl simulator * (ACL interface *)",
        "acl: devices 1 (from default: the last of 2 devices); SoC Ascend910B1",
        "acl: simulator has 2 devices with 64 GiB HBM each (PYTEST_ACL_SIM_DEVICES, *)",
        "*probe device 1",
    ])
    monkeypatch.setenv("PYTEST_ACL_SIM_DEVICES", "1")
    single = pytester.runpytest_subprocess(*INNER, "-s")
    single.stdout.fnmatch_lines(["acl: devices 0 (from default); *", "*probe device 0"])


@pytest.mark.parametrize(("devices", "shown"), [("1", "1"), ("1-1", "1"), ("1,0", "1,0")])
def test_command_line(pytester, devices, shown):
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s", "--acl-backend", "SIM", "--acl-devices", devices)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "acl: backend sim (from command line): *",
        f"acl: devices {shown} (from command line); SoC Ascend910B1",
        "*probe device 1",
    ])


def test_command_line_equals_form(pytester):
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s", "--acl-devices=1", "--acl-backend=sim")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: devices 1 (from command line)*", "*probe device 1"])


def test_from_env(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "sim")
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "1")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "acl: backend sim (from env PYTEST_ACL_BACKEND): *",
        "acl: devices 1 (from env PYTEST_ACL_DEVICES); *",
        "*probe device 1",
    ])


def test_blank_env_is_ignored(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "  ")
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: backend sim (from default)*",
                                 "acl: devices 1 (from default: *)*", "*probe device 1"])


@pytest.mark.parametrize(("maker", "section", "name"), [
    ("pytest.ini", "[pytest]", "pytest.ini"),
    ("tox.ini", "[pytest]", "tox.ini"),
    ("makepyprojecttoml", "[tool.pytest.ini_options]", "pyproject.toml"),
])
def test_from_ini(pytester, maker, section, name):
    quote = '"' if name == "pyproject.toml" else ""
    make = (getattr(pytester, maker) if maker.startswith("make") else
            lambda text: pytester.makefile(".ini", **{maker.removesuffix(".ini"): text}))
    make(f"{section}\nacl_backend = {quote}sim{quote}\n"
                             f"acl_devices = {quote}1{quote}\n")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s", "--strict-config")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        f"acl: backend sim (from ini acl_backend in {name}): *",
        f"acl: devices 1 (from ini acl_devices in {name}); *",
        "*probe device 1",
    ])


def test_precedence_command_line_then_env_then_ini(pytester, monkeypatch):
    pytester.makefile(".ini", pytest="[pytest]\nacl_devices = 0\nacl_backend = capi\n")
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "0")
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "sim")
    pytester.makepyfile(DEVICE_PROBE)
    # env beats ini (the ini's capi would be a usage error if it were used)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: backend sim (from env PYTEST_ACL_BACKEND)*",
                                 "acl: devices 0 (from env PYTEST_ACL_DEVICES)*",
                                 "*probe device 0"])
    # the command line beats both
    result = pytester.runpytest(*INNER, "-s", "--acl-devices", "1")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: devices 1 (from command line)*", "*probe device 1"])
    # ini beats the default once the env is gone
    monkeypatch.delenv("PYTEST_ACL_BACKEND")
    monkeypatch.delenv("PYTEST_ACL_DEVICES")
    result = pytester.runpytest(*INNER, "--acl-backend", "sim")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: devices 0 (from ini acl_devices in pytest.ini)*"])


@pytest.mark.skipif(int(pytest.__version__.split(".")[0]) < 9,
                    reason="[tool.pytest] (native TOML configuration) needs pytest 9")
def test_native_toml(pytester):
    pytester.makepyprojecttoml('[tool.pytest]\nacl_devices = "1"\n')
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-s")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: devices 1 (from ini acl_devices in pyproject.toml)*",
                                 "*probe device 1"])


@pytest.mark.skipif(int(pytest.__version__.split(".")[0]) < 9,
                    reason="[tool.pytest] (native TOML configuration) needs pytest 9")
def test_native_toml_non_string_is_a_usage_error(pytester):
    pytester.makepyprojecttoml("[tool.pytest]\nacl_devices = 1\n")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-devices: invalid value (from ini acl_devices in pyproject.toml): "
        "*'acl_devices' expects a string, got int: 1; "
        "write it as a TOML string, e.g. acl_devices = \"0\""])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


# -- bad values -------------------------------------------------------------------------------

@pytest.mark.parametrize(("flag", "value", "reason"), [
    ("--acl-backend", "cuda", "'cuda' is not an installed backend; valid choices are sim, "
     "pyacl, capi"),
    ("--acl-backend", "", "valid choices are sim, pyacl, capi, or several separated by commas "
     "(sim,capi) for a parity run"),
    ("--acl-devices", "a", "use device ids separated by commas, such as 0,1 or 0-3"),
    ("--acl-devices", "", "use device ids separated by commas, such as 0,1 or 0-3"),
    ("--acl-devices", "2-1", "the range 2-1 is empty; write the lower id first"),
    ("--acl-devices", "0,1,0", "device 0 is listed twice"),
    ("--acl-cann-version", "latest", "use a CANN version such as 8.0.RC3, 8.1.0 or "
     "9.2.0-beta.2"),
])
def test_bad_command_line_value(pytester, flag, value, reason):
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, flag, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: {flag}: invalid value {value!r} (from command line): {reason}"])
    assert "probe device" not in result.stdout.str()


def test_bad_env_value(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "npu")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-backend: invalid value 'npu' (from env PYTEST_ACL_BACKEND): "
        "'npu' is not an installed backend; valid choices are sim, pyacl, capi"])


def test_bad_ini_value(pytester):
    pytester.makefile(".ini", tox="[pytest]\nacl_devices = 0-x\n")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-devices: invalid value '0-x' (from ini acl_devices in tox.ini): "
        "use device ids separated by commas, such as 0,1 or 0-3"])


def test_good_command_line_overrides_bad_env(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "nonsense")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "--acl-devices", "0")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("args", "env", "raw", "source", "missing"), [
    (("--acl-devices", "0-3", "-n", "4"), None, "0-3", "command line", "devices 2, 3 do"),
    ((), "0,2", "0,2", "env PYTEST_ACL_DEVICES", "device 2 does"),
    (("-o", "acl_devices=1-2"), None, "1-2", "-o acl_devices", "device 2 does"),
])
def test_devices_the_simulator_lacks_are_a_usage_error(pytester, monkeypatch, args, env, raw,
                                                       source, missing):
    """Not a failing test per device and worker (583 of them for the whole suite)."""
    if env:
        monkeypatch.setenv("PYTEST_ACL_DEVICES", env)
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"ERROR: --acl-devices: invalid value {raw!r} (from {source}): the sim backend has 2 "
        f"devices (PYTEST_ACL_SIM_DEVICES sets the simulator's count), so {missing} not "
        "exist; use ids 0-1"])
    assert "probe device" not in result.stdout.str()
    monkeypatch.setenv("PYTEST_ACL_SIM_DEVICES", "4")  # a machine that has them
    bigger = pytester.runpytest_subprocess(*INNER, *args)
    assert bigger.ret == pytest.ExitCode.OK


def test_device_a_device_backend_lacks_fails_its_tests_naming_the_count(pytester):
    """On a device backend the count is the runtime's: a test that needs the device fails,
    saying where the id came from and how many devices the backend has."""
    import sys
    from pathlib import Path

    pytester.makepyfile(DEVICE_PROBE.replace('"sim"', '"pyacl"')
                        + "\n\ndef test_no_device_needed(acl):\n    pass\n")
    result = pytester.run(str(Path(sys.executable).with_name("pytest-acl")), "run-sim", "--",
                          sys.executable, "-m", "pytest", *INNER, "--acl-backend", "pyacl",
                          "--acl-devices", "5", timeout=120)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*acl.rt.set_device(5) returned * device 5 comes from --acl-devices "
        "(from command line); the backend has 2 devices*"])


def test_o_is_recorded_as_its_own_source(pytester, monkeypatch):
    """``-o acl_level=full`` is the command line, not the ini file it overrides: it is shown
    and recorded as ``-o acl_level``, and it beats the environment as the command line does."""
    import json

    pytester.makeini("[pytest]\nacl_level = quick\n")
    monkeypatch.setenv("PYTEST_ACL_DEVICES", "0")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "-o", "acl_level=full", "-o", "acl_devices=1",
                                "--acl-report-dir", "out")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["acl: devices 1 (from -o acl_devices); *",
                                 "acl: level full (from -o acl_level)"])
    (run,) = (pytester.path / "out").iterdir()
    header = json.loads((run / "results.jsonl").read_text().splitlines()[0])
    assert header["options"]["level"] == {"value": "full", "source": "-o acl_level"}
    last = pytester.runpytest(*INNER, "-o", "acl_level=full", "-o", "acl_level=quick")
    last.stdout.fnmatch_lines(["acl: level quick (from -o acl_level)*"])  # the last -o wins
    flag = pytester.runpytest(*INNER, "-o", "acl_level=full", "--acl-level", "quick")
    flag.stdout.fnmatch_lines(["acl: level quick (from command line)*"])


@pytest.mark.parametrize("flag", ["--acl-report-dir", "--acl-model-dir"])
@pytest.mark.parametrize("where", ["command line", "env", "ini"])
def test_a_file_where_a_directory_is_needed_is_a_usage_error(pytester, monkeypatch, flag,
                                                             where):
    pytester.makefile(".md", README="# not a directory")
    pytester.makepyfile(DEVICE_PROBE)
    name = flag.removeprefix("--acl-").replace("-", "_")
    args: tuple[str, ...] = ()
    if where == "command line":
        args, source = (flag, "README.md"), "command line"
    elif where == "env":
        monkeypatch.setenv(f"PYTEST_ACL_{name.upper()}", "README.md")
        source = f"env PYTEST_ACL_{name.upper()}"
    else:
        pytester.makeini(f"[pytest]\nacl_{name} = README.md\n")
        source = f"ini acl_{name} in tox.ini"
    result = pytester.runpytest(*INNER, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    shown = "README.md" if flag == "--acl-report-dir" else str(pytester.path / "README.md")
    result.stderr.fnmatch_lines([
        f"ERROR: {flag}: invalid value 'README.md' (from {source}): {shown} is a file, not a "
        "directory; give *"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert (pytester.path / "README.md").read_text() == "# not a directory"


def test_a_report_dir_inside_a_file_is_a_usage_error(pytester):
    pytester.makefile(".md", README="x")
    pytester.makepyfile(DEVICE_PROBE)
    result = pytester.runpytest(*INNER, "--acl-report-dir", "README.md/runs")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: --acl-report-dir: invalid value 'README.md/runs' (from command line): "
        "README.md is a file, not a directory; give a directory for the runs' results (it is "
        "made if missing), such as reports"])


def test_help_documents_options_env_and_ini(pytester):
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "AscendCL conformance (pytest-acl):",
        "*--acl-backend={sim,pyacl,capi}[[],...[]]*",
        "*--acl-devices=IDS*",
    ])
    text = " ".join(result.stdout.str().split())
    for words in ("PYTEST_ACL_BACKEND or ini acl_backend; default sim",
                  "PYTEST_ACL_DEVICES or ini acl_devices; default 0",
                  "acl_backend (string):", "acl_devices (string):"):
        assert words in text


def test_cann_version_is_the_backends_unless_given(pytester, monkeypatch):
    pytester.makepyfile(DEVICE_PROBE)
    default = pytester.runpytest(*INNER)
    default.stdout.fnmatch_lines(["acl: CANN 9.1.0 (from the backend)"])  # the newest profile
    monkeypatch.setenv("PYTEST_ACL_SIM_CANN", "8.5")
    profile = pytester.runpytest_subprocess(*INNER)
    profile.stdout.fnmatch_lines(["acl: CANN 8.5.0 (from the backend)"])
    monkeypatch.delenv("PYTEST_ACL_SIM_CANN")
    given = pytester.runpytest(*INNER, "--acl-cann-version", "8.0.RC3")
    given.stdout.fnmatch_lines(["acl: CANN 8.0.RC3 (from command line)"])


def test_help_works_while_an_env_value_is_bad(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_BACKEND", "npu")
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--acl-backend={sim,pyacl,capi}[[],...[]]*"])


def test_every_option_is_documented_in_the_readme_table():
    from pathlib import Path

    from pytest_acl.options import OPTIONS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `--acl-")]
    for spec in OPTIONS:
        assert any(line.startswith(f"| `{spec.flag}") and f"`{spec.env}`" in line
                   and f"`{spec.ini}`" in line for line in table), spec.flag
