"""USB receipt printers in provisioning: found in a sysfs tree (the layout the kernel gives, built in
a directory since the test machine has no USB bus), chosen or named on the command line, and
written as a ``[devices.receipt_printer]`` section the config schema takes."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from devices.printer.kind import ReceiptPrinterConfig
from terminal import provision
from terminal.provision_config import render_config
from terminal.provision_usb import parse_spec, usb_escpos_printers


def _device(
    root: Path, name: str, vid: str, pid: str, product: str, classes: list[str], serial: str = ""
) -> None:
    dev = root / name
    dev.mkdir(parents=True)
    (dev / "idVendor").write_text(vid + "\n")
    (dev / "idProduct").write_text(pid + "\n")
    (dev / "product").write_text(product + "\n")
    if serial:
        (dev / "serial").write_text(serial + "\n")
    for i, cls in enumerate(classes):  # an interface is a child of its device, linked beside it
        iface = dev / f"{name}:1.{i}"
        iface.mkdir()
        (iface / "bInterfaceClass").write_text(cls + "\n")
        (root / iface.name).symlink_to(iface)


def test_receipt_printers_are_found_by_class_or_id_and_an_a4_printer_is_not_chosen(tmp_path: Path) -> None:
    _device(tmp_path, "usb1", "1d6b", "0002", "EHCI Host Controller", ["09"])
    _device(tmp_path, "1-1", "03f0", "c511", "HP LaserJet Pro M404", ["07", "ff"], serial="VNB3")
    _device(tmp_path, "1-2", "0416", "5011", "", ["07"])  # no product string: the id table names it
    _device(tmp_path, "1-3", "0519", "0043", "TSP143IIIU", ["ff"], serial="S1")  # vendor class, known vendor
    _device(tmp_path, "1-4", "0483", "5720", "USB Receipt Printer", ["07"])
    _device(tmp_path, "1-5", "046d", "0825", "Webcam C270", ["0e", "01"])
    found = usb_escpos_printers(tmp_path)
    assert [p.spec for p in found] == [
        "usb:0416:5011",
        "usb:0519:0043:S1",
        "usb:0483:5720",
        "usb:03f0:c511:VNB3",
    ]
    assert [p.receipt for p in found] == [True, True, True, False]
    assert "POS58" in found[0].product


def test_a_usb_printer_named_on_the_command_line_becomes_a_valid_section(tmp_path: Path) -> None:
    assert parse_spec("10.0.0.5:9100") is None and parse_spec("/dev/ttyUSB0") is None
    printer = parse_spec("usb:0416:5011:A1B2")
    assert printer is not None and printer.vendor_id == 0x0416 and printer.serial == "A1B2"
    answers = provision.Answers(terminal_id="T-1", platform_url="https://p.example")
    answers.devices["receipt_printer"] = printer.section()
    text = render_config(answers, tmp_path)
    section = tomllib.loads(text)["devices"]["receipt_printer"]
    config = ReceiptPrinterConfig(**section)
    assert (config.driver, config.usb_vendor_id, config.usb_product_id, config.usb_serial) == (
        "usb",
        0x0416,
        0x5011,
        "A1B2",
    )


def test_provision_chooses_the_discovered_usb_receipt_printer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from terminal import provision_discover as disc

    _device(tmp_path, "1-2", "0416", "5011", "POS80", ["07"])
    monkeypatch.setattr(disc, "usb_escpos_printers", lambda: usb_escpos_printers(tmp_path))
    monkeypatch.setattr(disc, "idcard_ports", lambda candidates=None: [])
    monkeypatch.setattr(disc, "pcsc_readers", lambda: ([], None))
    monkeypatch.setattr(disc, "cameras", lambda paths=None: [])
    monkeypatch.setattr(disc, "cups_queues", lambda server=None: ([], None))
    said: list[str] = []
    args = provision._parser().parse_args(["--receipt-printer", "auto"])
    answers = provision.Answers(terminal_id="T-1", platform_url="https://p.example")
    with pytest.raises(provision.ProvisionError, match="idcard"):  # the rest is not plugged in
        provision.choose_devices(args, answers, said.append)
    assert answers.devices["receipt_printer"] == {
        "driver": "usb",
        "usb_vendor_id": 0x0416,
        "usb_product_id": 0x5011,
    }
    assert any("usb:0416:5011 POS80" in line for line in said)
    assert isinstance(args, argparse.Namespace)
