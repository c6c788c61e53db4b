"""The simulated machine's settings: PYTEST_ACL_SIM_DEVICES, _SOC and _HBM (sim/config.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.sim import SimConfig, SimConfigError, Simulator
from pytest_acl.sim.config import DEFAULT_HBM, DEFAULT_SOC, parse_size

GiB = 2**30


def test_defaults_without_variables():
    config = SimConfig.from_env({})
    assert config == SimConfig()
    assert (config.device_count, config.soc_name, config.hbm_bytes) == (2, DEFAULT_SOC,
                                                                       DEFAULT_HBM)
    assert DEFAULT_SOC == "Ascend910B1"


@pytest.mark.parametrize(("text", "size"), [
    ("32GiB", 34359738368), ("512MiB", 512 * 2**20), ("64GB", 64 * 10**9),
    ("1073741824", GiB), ("1073741824B", GiB), ("1.5GiB", 3 * GiB // 2), (" 2 gib ", 2 * GiB),
    ("1T", 2**40), ("3M", 3 * 2**20), ("1TiB", 2**40), ("8KiB", 8192), ("8KB", 8000),
])
def test_hbm_sizes(text, size):
    assert parse_size(text) == size
    if 2**20 <= size <= 2**40:
        assert SimConfig.from_env({"PYTEST_ACL_SIM_HBM": text}).hbm_bytes == size


@settings(max_examples=40, deadline=None, database=None)
@given(number=st.integers(min_value=0, max_value=2**40),
       unit=st.sampled_from(["", "B", "KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB", "TB",
                             "K", "M", "G", "T", "gib", "mb"]))
def test_parse_size_is_exact(number, unit):
    factor = {"": 1, "B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
              "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
              "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[unit.upper()]
    assert parse_size(f"{number}{unit}") == number * factor


@pytest.mark.parametrize(("raw", "count"), [("1", 1), ("4", 4), (" 8 ", 8), ("64", 64)])
def test_device_count_variable(raw, count):
    assert SimConfig.from_env({"PYTEST_ACL_SIM_DEVICES": raw}).device_count == count


def test_soc_variable():
    assert SimConfig.from_env({"PYTEST_ACL_SIM_SOC": "Ascend310P3"}).soc_name == "Ascend310P3"
    assert SimConfig.from_env({"PYTEST_ACL_SIM_SOC": "   "}).soc_name == DEFAULT_SOC


@pytest.mark.parametrize(("variable", "raw"), [
    ("PYTEST_ACL_SIM_DEVICES", "abc"), ("PYTEST_ACL_SIM_DEVICES", "0"),
    ("PYTEST_ACL_SIM_DEVICES", "65"), ("PYTEST_ACL_SIM_DEVICES", "-1"),
    ("PYTEST_ACL_SIM_DEVICES", "2.5"), ("PYTEST_ACL_SIM_DEVICES", "0x2"),
    ("PYTEST_ACL_SIM_DEVICES", "\u00b2"),  # a digit to str.isdigit, not to int()
    ("PYTEST_ACL_SIM_HBM", "lots"), ("PYTEST_ACL_SIM_HBM", "32XB"),
    ("PYTEST_ACL_SIM_HBM", "-1GiB"), ("PYTEST_ACL_SIM_HBM", "1e9"),
    ("PYTEST_ACL_SIM_HBM", "1KiB"), ("PYTEST_ACL_SIM_HBM", "2TiB"), ("PYTEST_ACL_SIM_HBM", "0"),
    pytest.param("PYTEST_ACL_SIM_HBM", "9" * 400, id="HBM-400-digits"),  # no OverflowError
])
def test_bad_value_names_the_variable_and_the_value(variable, raw):
    with pytest.raises(SimConfigError) as info:
        SimConfig.from_env({variable: raw})
    assert variable in str(info.value)
    assert repr(raw) in str(info.value)
    assert "use " in str(info.value)  # says what would be right


def test_sim_config_error_is_a_value_error():
    assert issubclass(SimConfigError, ValueError)


def test_simulator_from_env(monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_SIM_DEVICES", "3")
    monkeypatch.setenv("PYTEST_ACL_SIM_SOC", "Ascend310P3")
    monkeypatch.setenv("PYTEST_ACL_SIM_HBM", "32GiB")
    acl = Simulator.from_env().acl
    assert acl.rt.get_device_count() == (3, 0)
    assert acl.init() == 0
    try:
        assert acl.get_soc_name() == "Ascend310P3"
        assert acl.rt.set_device(2) == 0
        assert acl.rt.get_mem_info(1) == (32 * GiB, 32 * GiB, 0)
    finally:
        acl.finalize()


def test_simulator_from_env_with_a_bad_value(monkeypatch):
    monkeypatch.setenv("PYTEST_ACL_SIM_DEVICES", "many")
    with pytest.raises(SimConfigError, match="PYTEST_ACL_SIM_DEVICES"):
        Simulator.from_env()


def test_simulator_arguments():
    simulator = Simulator(devices=5, soc="Ascend310B1", hbm="32GiB")
    assert (simulator.config.device_count, simulator.config.soc_name,
            simulator.config.hbm_bytes) == (5, "Ascend310B1", 32 * GiB)
    assert Simulator(hbm=2**20).config.hbm_bytes == 2**20
    assert "devices=5" in repr(simulator)


@pytest.mark.parametrize("kwargs", [{"devices": 0}, {"devices": 65}, {"hbm": 2**20 - 1},
                                    {"hbm": "2TiB"}, {"soc": " "}])
def test_simulator_refuses_impossible_machines(kwargs):
    with pytest.raises(SimConfigError):
        Simulator(**kwargs)
