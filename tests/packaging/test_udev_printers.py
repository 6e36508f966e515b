"""The udev rules give the kiosk user (group lp) every USB receipt printer provisioning may choose:
the printer class, and the makers the id table lists whole (their printers may report a
vendor-specific class)."""

from __future__ import annotations

from terminal.provision_usb import THERMAL_USB_IDS
from tests.packaging.test_udev import _rules


def test_every_whole_vendor_of_the_thermal_table_is_reachable_by_group_lp() -> None:
    lp_vendors: set[str] = set()
    class_rule = False
    for pairs in _rules():
        if ("GROUP", None, "=", "lp") not in pairs:
            continue
        for key, attr, op, value in pairs:
            if key == "ATTR" and attr == "{idVendor}" and op == "==":
                lp_vendors.update(value.split("|"))
            if key == "ENV" and attr == "{ID_USB_INTERFACES}" and "0701" in value:
                class_rule = True
    assert class_rule
    whole = {f"{vid:04x}" for vid, pid in THERMAL_USB_IDS if pid is None}
    assert whole and whole <= lp_vendors
