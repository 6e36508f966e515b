"""The separate rotating wire log of the ID card reader, with personal fields redacted."""

from __future__ import annotations

import logging
from pathlib import Path

from devices.idcard.driver import SerialIdCardReader
from devices.idcard.sim_cards import SIM_CARDS
from devices.idcard.simulator import IdCardSimulator
from devices.idcard.wirelog import configure_wire_log, remove_wire_log


def test_wire_log_file_rotates_and_redacts(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "idcard-wire.log"
    handler = configure_wire_log(path, max_bytes=500, backups=2)
    try:
        with IdCardSimulator("fingerprint") as sim:
            reader = SerialIdCardReader(sim.port, response_timeout=0.5)
            try:
                for _ in range(3):
                    assert reader.read_details(timeout=1.0) is not None
                    assert reader.read_card(timeout=1.0) is not None
            finally:
                reader.close()
    finally:
        remove_wire_log(handler)
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["idcard-wire.log", "idcard-wire.log.1", "idcard-wire.log.2"]
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    assert "tx find_card: aa aa aa 96 69 00 03 20 01 22" in text
    assert "redacted" in text
    for secret in ("37140219700228001X", "孙立", "东风中路"):
        assert secret not in text
    # nor as UCS-2LE hex: "孙" is U+5B59 -> "59 5b", the number's "3714" -> "33 00 37 00 31 00 34 00"
    assert "59 5b" not in text and "33 00 37 00 31 00 34 00" not in text
    assert SIM_CARDS["senior"].text.id_number not in text


def test_remove_restores_propagation(tmp_path: Path) -> None:
    handler = configure_wire_log(tmp_path / "w.log")
    assert logging.getLogger("devices.idcard.wire").propagate is False
    remove_wire_log(handler)
    assert logging.getLogger("devices.idcard.wire").propagate is True
