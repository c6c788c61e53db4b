"""The controller's device table: round robin, probe before reuse, quarantine, idle."""

from __future__ import annotations

from pytest_acl.isolation.devices import DeviceTable
from pytest_acl.isolation.health import ProbeResult


def table(devices=(0, 1), sick=()):
    probed = []

    def probe(device):
        probed.append(device)
        return ProbeResult(device, device not in sick, "sick" if device in sick else "ok")

    return DeviceTable(tuple(devices), probe), probed


def test_initial_workers_get_devices_round_robin_without_a_probe():
    devices, probed = table((0, 1))
    assert [devices.assign(f"gw{i}") for i in range(4)] == [0, 1, 0, 1]
    assert probed == [] and devices.usable("gw3")


def test_a_replacement_gets_its_predecessors_device_after_a_good_probe():
    devices, probed = table((0, 1))
    devices.assign("gw0"), devices.assign("gw1")
    devices.worker_died("gw0", while_testing=True)
    assert devices.assign("gw2") == 0 and probed == [0]


def test_a_failed_probe_quarantines_and_the_replacement_takes_a_free_device_or_idles():
    devices, probed = table((0, 1, 2), sick={0})
    devices.assign("gw0"), devices.assign("gw1")
    devices.worker_died("gw0", while_testing=True)
    assert devices.assign("gw2") == 2  # the unused healthy device
    assert "failed the health probe: sick" in devices.quarantined[0]
    devices.worker_died("gw2", while_testing=True)
    devices.quarantined[2] = "by hand"
    assert devices.assign("gw3") is None and not devices.usable("gw3")  # idle
    assert not devices.all_lost


def test_when_every_device_failed_nothing_is_usable():
    devices, _ = table((0,), sick={0})
    devices.assign("gw0")
    devices.worker_died("gw0", while_testing=True)
    assert devices.assign("gw1") is None and devices.all_lost


def test_workers_dying_at_start_twice_quarantine_their_device_without_a_probe():
    devices, probed = table((0, 1))
    devices.assign("gw0")
    devices.worker_died("gw0", while_testing=False)
    assert devices.assign("gw1") == 0
    devices.worker_died("gw1", while_testing=False)
    assert "2 workers died on it before running a test" in devices.quarantined[0]
    assert probed == [0]


def test_a_worker_on_a_quarantined_device_is_no_longer_usable():
    devices, _ = table((0, 1))
    for worker in ("gw0", "gw1", "gw2"):
        devices.assign(worker)  # gw0 and gw2 share device 0
    devices.quarantined[0] = "lost"
    assert not devices.usable("gw2") and devices.usable("gw1")
