"""Logging: redaction of personal data, the separate wire log, redacted tracebacks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import logsetup
from kiosk.logsetup import clear_sensitive, configure, redact, register_sensitive

SENIOR_ID = "371402195203140022"
BUSINESS_ID = "37140219880721003X"
PHONE = "13905340000"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure() owns the root logger: put back what pytest had installed, close our files."""
    root = logging.getLogger()
    devices = logging.getLogger("devices")
    saved_handlers = list(root.handlers)
    saved_level = root.level
    saved_devices_level = devices.level
    clear_sensitive()
    try:
        yield
    finally:
        for h in list(root.handlers):
            if h not in saved_handlers:
                root.removeHandler(h)
                h.close()
        for h in saved_handlers:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(saved_level)
        devices.setLevel(saved_devices_level)
        clear_sensitive()


# ---------------------------------------------------------------- redact()


@pytest.mark.parametrize(
    "text",
    [
        f"card read: {SENIOR_ID}",
        f"id={BUSINESS_ID}",
        f"id={BUSINESS_ID.lower()}",
        f"身份证{SENIOR_ID}号",
        f"({SENIOR_ID})",
    ],
)
def test_redact_removes_id_numbers(text: str) -> None:
    clean = redact(text)
    assert "[id-number]" in clean
    assert SENIOR_ID not in clean
    assert BUSINESS_ID not in clean.upper()
    assert not any(ch.isdigit() for ch in clean)


@pytest.mark.parametrize("text", [f"phone {PHONE}", f"tel:{PHONE}.", f"电话{PHONE}，", "18612345678"])
def test_redact_removes_mobile_numbers(text: str) -> None:
    clean = redact(text)
    assert "[phone]" in clean
    assert not any(ch.isdigit() for ch in clean)


def test_redact_removes_registered_values() -> None:
    register_sensitive("张桂兰", "山东省德州市德城区新湖大街1号", "", "x")
    clean = redact("citizen 张桂兰 at 山东省德州市德城区新湖大街1号 (张桂兰)")
    assert clean == "citizen [redacted] at [redacted] ([redacted])"
    # Too short to be a value worth hiding (and would wreck every line): not registered.
    assert redact("x marks the spot") == "x marks the spot"
    clear_sensitive()
    assert redact("citizen 张桂兰") == "citizen 张桂兰"


def test_redact_longest_value_first() -> None:
    register_sensitive("新湖大街", "山东省德州市德城区新湖大街1号")
    assert redact("addr 山东省德州市德城区新湖大街1号") == "addr [redacted]"


@pytest.mark.parametrize(
    "text",
    [
        f"case {uuid.UUID('0d8c6f52-3f7a-4c1b-9a4e-123456789012')} queued",
        "case 7f3b2c10-5d4e-4a8b-b1c2-0123456789ab acknowledged",
        "session 9e107d9d372bb6826bd81d3542a419d6 started",
        "verification code 482913",
        "receipt 20250314-000123 printed, 42 bytes in 17 ms",
        "premises 山东省德州市德城区新华路26号",
        "19-digit 3714021952031400221 is not an ID number",
        "12-digit 139053400001 is not a mobile",
        "landline 0534-12345",
    ],
)
def test_redact_leaves_other_numbers_alone(text: str) -> None:
    assert redact(text) == text


# ---------------------------------------------------------------- configure()


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_configure_writes_kiosk_log_and_routes_wire_to_wire_log(tmp_path: Path) -> None:
    configure(tmp_path, level=logging.DEBUG, console=False)
    logging.getLogger("kiosk.session.services").info("session started")
    logging.getLogger("kiosk.session.services").debug("debug detail")
    logging.getLogger("devices.idcard.wire").debug("tx aa aa aa 96 69 00 03 20 01 22")
    logging.getLogger("devices.printer.wire").info("rx 1b 40")
    logging.getLogger("devices.idcard").warning("reader slow")

    kiosk_log = read(tmp_path / "kiosk.log")
    wire_log = read(tmp_path / "wire.log")
    assert "session started" in kiosk_log
    assert "debug detail" in kiosk_log
    assert "reader slow" in kiosk_log
    assert "INFO kiosk.session.services" in kiosk_log
    assert "tx aa aa" not in kiosk_log
    assert "rx 1b 40" not in kiosk_log

    assert "tx aa aa aa 96 69" in wire_log
    assert "rx 1b 40" in wire_log
    assert "DEBUG devices.idcard.wire" in wire_log
    assert "session started" not in wire_log
    assert "reader slow" not in wire_log


def test_wire_log_gets_device_debug_even_at_info(tmp_path: Path) -> None:
    configure(tmp_path, level=logging.INFO, console=False)
    logging.getLogger("devices.idcard.wire").debug("tx frame")
    logging.getLogger("kiosk.session.services").debug("hidden detail")
    assert "tx frame" in read(tmp_path / "wire.log")
    assert "hidden detail" not in read(tmp_path / "kiosk.log")


def test_configure_replaces_root_handlers_and_is_idempotent(tmp_path: Path) -> None:
    stray = logging.StreamHandler()
    logging.getLogger().addHandler(stray)  # like a library's logging.basicConfig()
    configure(tmp_path, level=logging.DEBUG, console=False)
    root = logging.getLogger()
    first = list(root.handlers)
    configure(tmp_path, level=logging.DEBUG, console=False)
    assert stray not in root.handlers
    stray.close()
    assert not set(first) & set(root.handlers)
    for h in first:  # configure() drops its old file handlers without closing them (reported)
        h.close()
    assert len(root.handlers) == 2
    assert all(getattr(h, "_kiosk", False) for h in root.handlers)
    logging.getLogger("kiosk.x").info("once only")
    assert read(tmp_path / "kiosk.log").count("once only") == 1


def test_log_lines_are_redacted(tmp_path: Path) -> None:
    configure(tmp_path, level=logging.DEBUG, console=False)
    register_sensitive("李建国", "山东省德州市德城区东风中路88号")
    log = logging.getLogger("kiosk.session.services")
    log.info("card %s for %s at %s, phone %s", BUSINESS_ID, "李建国", "山东省德州市德城区东风中路88号", PHONE)
    logging.getLogger("devices.idcard.wire").debug("text block name=李建国 id=%s", BUSINESS_ID)

    kiosk_log = read(tmp_path / "kiosk.log")
    wire_log = read(tmp_path / "wire.log")
    for text in (kiosk_log, wire_log):
        assert BUSINESS_ID not in text
        assert "李建国" not in text
        assert "东风中路" not in text
        assert PHONE not in text
    assert "card [id-number] for [redacted] at [redacted], phone [phone]" in kiosk_log
    assert "text block name=[redacted] id=[id-number]" in wire_log


def test_tracebacks_are_redacted(tmp_path: Path) -> None:
    configure(tmp_path, level=logging.DEBUG, console=False)
    register_sensitive("张桂兰")

    def parse_card() -> None:
        raise ValueError(f"bad card {SENIOR_ID} of 张桂兰, phone {PHONE}")

    try:
        parse_card()
    except ValueError:
        logging.getLogger("kiosk.identity.cards").exception("card parse failed")
        logging.getLogger("devices.idcard.wire").debug("frame error", exc_info=True)

    kiosk_log = read(tmp_path / "kiosk.log")
    wire_log = read(tmp_path / "wire.log")
    for text in (kiosk_log, wire_log):
        assert "Traceback (most recent call last)" in text
        assert "ValueError: bad card [id-number] of [redacted], phone [phone]" in text
        assert SENIOR_ID not in text
        assert "张桂兰" not in text
        assert PHONE not in text
    assert "card parse failed" in kiosk_log


def test_console_handler_is_optional(tmp_path: Path) -> None:
    configure(tmp_path, level=logging.INFO, console=True)
    first = list(logging.getLogger().handlers)
    assert logging.StreamHandler in [type(h) for h in first]
    configure(None, level=logging.INFO, console=False)
    for h in first:  # see test_configure_replaces_root_handlers_and_is_idempotent
        h.close()
    assert logging.getLogger().handlers == []
    assert logsetup.FORMAT.startswith("%(asctime)s")
