"""The device registry: every kind builds its driver on its own simulator over the real wire
protocol, drivers are chosen by the section's ``driver`` and a wrong one is a clear error."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.base import DeviceStatus
from devices.interfaces import SmartCardReader
from devices.registry import (
    KINDS,
    SIMULATOR,
    DeviceConfigError,
    DeviceContext,
    DeviceKind,
    kind,
)


@pytest.fixture(params=[k.name for k in KINDS])
def simulated(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DeviceKind[Any, Any, Any], Any]]:
    k = kind(request.param)
    sim = k.simulate(tmp_path / k.name)
    try:
        yield k, sim
    finally:
        k.release(sim)


def _status(device: Any) -> DeviceStatus:
    if isinstance(device, SmartCardReader):
        readers = device.open()
        try:
            return readers.status()
        finally:
            readers.close()
    if hasattr(device, "open"):
        device.open()  # drivers open on first use
    status: DeviceStatus = device.status()
    return status


def test_each_kind_builds_its_driver_on_its_simulator(
    simulated: tuple[DeviceKind[Any, Any, Any], Any], tmp_path: Path
) -> None:
    k, sim = simulated
    section = k.config(driver=SIMULATOR)
    device = k.build(section, DeviceContext(tmp_path, production=False, simulators={k.name: sim}))
    assert device is not None
    assert isinstance(device, k.interface)
    try:
        assert _status(device) in {DeviceStatus.READY, DeviceStatus.NO_MEDIA}
    finally:
        if hasattr(device, "close"):
            device.close()


def test_the_receipt_printer_driver_prints_on_its_simulator(tmp_path: Path) -> None:
    from devices.interfaces import ReceiptDoc, ReceiptLine

    k = kind("receipt_printer")
    sim = k.simulate(tmp_path)
    try:
        printer = k.build(k.config(), DeviceContext(tmp_path, production=False, simulators={k.name: sim}))
        printer.print_receipt(ReceiptDoc((ReceiptLine("text", "回执"), ReceiptLine("cut"))))
        [receipt] = sim.wait_for_receipts(1)
        assert "回执" in receipt.text
        printer.close()
    finally:
        k.release(sim)


def test_the_barcode_driver_reads_what_its_simulator_scans(tmp_path: Path) -> None:
    k = kind("barcode")
    sim = k.simulate(tmp_path)
    try:
        reader = k.build(k.config(), DeviceContext(tmp_path, production=False, simulators={k.name: sim}))
        sim.scan("EID:token-1")
        assert reader.read_code(timeout=2.0) == "EID:token-1"
        reader.close()
    finally:
        k.release(sim)


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_an_unknown_driver_is_a_clear_error(name: str, tmp_path: Path) -> None:
    k = kind(name)
    section = k.config.model_construct(driver="usb-hid")  # past the schema, as a caller could
    with pytest.raises(
        DeviceConfigError, match=rf"devices\.{name}\.driver = 'usb-hid' is unknown: choose one of"
    ):
        k.build(section, DeviceContext(tmp_path, production=True))


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_the_simulator_driver_without_a_simulator_is_a_clear_error(name: str, tmp_path: Path) -> None:
    k = kind(name)
    with pytest.raises(DeviceConfigError, match=rf"devices\.{name}\.driver = 'simulator' is not available"):
        k.build(k.config(driver=SIMULATOR), DeviceContext(tmp_path, production=True))


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(DeviceConfigError, match="no device kind 'fax'"):
        kind("fax")


@pytest.mark.parametrize("name", [k.name for k in KINDS])
def test_the_config_offers_exactly_the_registered_drivers(name: str) -> None:
    """The section's ``driver`` choices and the kind's drivers are the same set: no setting is
    validated and then ignored, no driver is unreachable from the config."""
    k = kind(name)
    choices = set(typing.get_args(k.config.model_fields["driver"].annotation))
    assert choices == set(k.driver_names())


def test_kind_names_are_unique_and_each_package_declares_its_kinds() -> None:
    names = [k.name for k in KINDS]
    assert len(names) == len(set(names))
    for k in KINDS:
        assert k.config.__module__.startswith("devices.") and k.config.__module__.endswith(".kind")
        assert k.interface.__module__ == "devices.interfaces"
