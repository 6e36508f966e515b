"""The udev rules: well-formed for udev's grammar, and naming what the installer guide says."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "packaging" / "udev" / "70-hall-kiosk.rules"

# udev(7): KEY[{attr}]OP"value", separated by commas
_PAIR = re.compile(r'\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
_MATCH_KEYS = {"ACTION", "SUBSYSTEM", "KERNEL", "DRIVER", "ENV", "ATTR", "ATTRS", "SUBSYSTEMS"}
_ASSIGN_KEYS = {"GROUP", "MODE", "SYMLINK", "ENV", "ATTR", "GOTO", "LABEL", "OWNER", "TAG", "RUN"}


def _rules() -> list[list[tuple[str, str | None, str, str]]]:
    rules = []
    for raw in RULES.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pos, pairs = 0, []
        while pos < len(line):
            m = _PAIR.match(line, pos)
            assert m is not None, f"not udev syntax at {line[pos:]!r}"
            pairs.append((m.group(1), m.group(2), m.group(3), m.group(4)))
            pos = m.end()
        rules.append(pairs)
    return rules


def test_every_rule_is_well_formed_and_uses_known_keys() -> None:
    for pairs in _rules():
        for key, _attr, op, _value in pairs:
            if op in {"==", "!="}:
                assert key in _MATCH_KEYS, key
            else:
                assert key in _ASSIGN_KEYS, key


def test_every_goto_has_its_label() -> None:
    rules = _rules()
    labels = {v for pairs in rules for k, _a, _o, v in pairs if k == "LABEL"}
    gotos = {v for pairs in rules for k, _a, _o, v in pairs if k == "GOTO"}
    assert gotos <= labels


def test_devices_get_the_groups_the_kiosk_user_is_in() -> None:
    groups = {v for pairs in _rules() for k, _a, _o, v in pairs if k == "GROUP"}
    sysusers = (REPO / "packaging" / "sysusers" / "hall-kiosk.conf").read_text()
    member_of = set(re.findall(r"^m hall-kiosk (\S+)", sysusers, re.M))
    assert groups <= member_of
    unit = (REPO / "packaging" / "systemd" / "hall-kiosk.service").read_text()
    supplementary = set(re.search(r"^SupplementaryGroups=(.*)$", unit, re.M).group(1).split())  # type: ignore[union-attr]
    assert groups <= supplementary


def test_the_parser_rejects_a_broken_rule(tmp_path: Path) -> None:
    bad = 'SUBSYSTEM=="tty", GROUP=dialout'
    assert _PAIR.match(bad, len('SUBSYSTEM=="tty",')) is None
