"""``hall-kiosk provision`` against the sandbox platform behind TLS, on the device simulators and a
private cupsd (bench/provision.py's hall), and the start-up self-check of what it provisioned."""

from __future__ import annotations

import json
import os
import pty
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.provision import Hall, hall
from kiosk.config import Profile, load_config
from kiosk.session.machine import Step
from terminal import provision_discover as disc
from terminal.provision import ProvisionError, enrolment_qr_text, parse_qr, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def the_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    with hall(tmp_path_factory.mktemp("hall")) as h:
        assert h.cups_server is not None, "the private cupsd did not start (root and cups-pdf needed)"
        yield h


def _provision(h: Hall, tmp: Path, *extra: str) -> tuple[int, list[str], Path, Path]:
    data, config = tmp / "data", tmp / "etc" / "terminal.toml"
    lines: list[str] = []
    status = run([*h.flags(data, config), *extra], out=lines.append)
    return status, lines, data, config


def test_qr_text_round_trips_and_foreign_codes_are_refused() -> None:
    text = enrolment_qr_text("https://p.example", "DZ-1", "c0de", "ab" * 32)
    assert parse_qr(text) == {
        "v": "1",
        "url": "https://p.example",
        "terminal": "DZ-1",
        "code": "c0de",
        "root": "ab" * 32,
    }
    for bad in (
        "https://p.example",
        "hallkiosk:enrol?v=2&url=u&terminal=t&code=c",
        "hallkiosk:enrol?v=1&url=u",
    ):
        with pytest.raises(ProvisionError):
            parse_qr(bad)


def test_provision_enrols_pins_discovers_writes_and_reports_ready(the_hall: Hall, tmp_path: Path) -> None:
    status, lines, data, config_path = _provision(the_hall, tmp_path)
    assert status == 0, "\n".join(lines)
    report = json.loads((data / "readiness.json").read_text())
    assert report["readiness_ok"] is True
    assert {c["name"] for c in report["checks"]} >= {
        "catalogue.synced",
        "trust.tuf_root",
        "device.idcard",
        "device.camera",
        "device.document_printer",
        "report.printed",
    }
    # The config starts a production terminal: every required device, https and the pinned CA.
    config = load_config(config_path)
    assert config.profile is Profile.PRODUCTION
    assert config.devices.idcard.port == os.path.realpath(the_hall.bench.idcard_port)
    assert config.devices.document_printer.cups_server == the_hall.cups_server
    assert config.platform.ca_bundle == str(data / "secrets" / "platform-ca.pem")
    raw = tomllib.loads(config_path.read_text())
    assert raw["devices"]["receipt_printer"]["port"] == the_hall.bench.printer.port
    for anchor in ("platform-answer.pub", "elicence-verify.pub", "platform-ca.pem", "signing.pem"):
        assert (data / "secrets" / anchor).is_file(), anchor
    assert (data / "tuf" / "metadata" / "root.json").is_file()
    printed = the_hall.bench.printer.wait_for_receipts(1)
    assert "TERMINAL READINESS" in printed[-1].text and "READY" in printed[-1].text
    # The code is one-time: a second box (another key) with a QR code already used is refused.
    first, second = tmp_path / "first", tmp_path / "second"
    flags, qr = _provision_flags_qr(the_hall, first / "data", first / "terminal.toml")
    assert run([*flags, "--qr", qr], out=lines.append) == 0
    lines.clear()
    flags, _ = _provision_flags_qr(the_hall, second / "data", second / "terminal.toml")
    assert run([*flags, "--qr", qr], out=lines.append) == 2
    assert any("enrolment refused" in line for line in lines)
    assert not (second / "terminal.toml").exists()


def _provision_flags_qr(h: Hall, data: Path, config: Path) -> tuple[list[str], str]:
    flags = h.flags(data, config)
    i = flags.index("--qr")
    return flags[:i] + flags[i + 2 :], flags[i + 1]


def test_a_tuf_root_other_than_the_installers_is_refused(the_hall: Hall, tmp_path: Path) -> None:
    status, lines, data, config = _provision(the_hall, tmp_path, "--tuf-root-sha256", "00" * 32)
    # the explicit flag wins over the QR code's root hash
    assert status == 2
    assert any("refusing to trust it" in line for line in lines)
    assert not config.exists()
    assert not (data / "tuf" / "metadata" / "root.json").exists()


def test_start_up_goes_out_of_service_without_a_trusted_catalogue(
    the_hall: Hall, tmp_path: Path, qtbot: Any
) -> None:
    from kiosk.i18n import tr
    from terminal.runtime import build_terminal
    from ui.facade import KioskFacade
    from ui.screens.out_of_service import OutOfServiceScreen

    status, lines, data, config_path = _provision(the_hall, tmp_path, "--no-print")
    assert status == 0, "\n".join(lines)
    root = data / "tuf" / "metadata" / "root.json"
    kept = root.read_bytes()
    root.unlink()
    terminal = build_terminal(load_config(config_path), background_connect=True)
    try:
        assert terminal.session.step is Step.OUT_OF_SERVICE
        problem = terminal.session.data.problem
        assert problem is not None and problem.device == "selfcheck"
        assert terminal.session.selfcheck is not None
        assert ("trust.tuf_root", "provision") in terminal.session.selfcheck()
        # The screen says what is wrong and what clears it.
        facade = KioskFacade(terminal.session)
        screen = OutOfServiceScreen(facade)
        qtbot.addWidget(screen)
        screen.enter()
        qtbot.waitUntil(lambda: tr("selfcheck.trust.tuf_root") in screen.checks.text(), timeout=10000)
        assert tr("action.provision") in screen.checks.text()
        facade.shutdown()
        assert terminal.session.try_leave_out_of_service() is False
        root.write_bytes(kept)  # the installer provisions the root again
        assert terminal.session.try_leave_out_of_service() is True
        assert terminal.session.step is Step.ATTRACT
    finally:
        terminal.close()


def test_discovery_probes_serial_ports_printers_and_cups_in_any_locale(
    the_hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    master, slave = pty.openpty()  # a serial port where nothing answers
    try:
        silent = os.ttyname(slave)
        reader = os.path.realpath(the_hall.bench.idcard_port)
        assert disc.idcard_ports([silent, reader]) == [reader]
    finally:
        os.close(master)
        os.close(slave)
    assert disc.escpos_answers("127.0.0.1", the_hall.bench.printer.port)
    assert not disc.escpos_answers("127.0.0.1", 9)  # nothing listens on discard
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    queues, note = disc.cups_queues(the_hall.cups_server)
    assert note is None and queues == ["kiosk-a4"]
    assert disc.cameras(["/nonexistent/video0"]) == []


def test_on_a_terminal_it_asks_for_the_qr_code_and_confirms_the_rest(the_hall: Hall, tmp_path: Path) -> None:
    import subprocess
    import sys

    flags, qr = _provision_flags_qr(the_hall, tmp_path / "data", tmp_path / "terminal.toml")
    flags.remove("--non-interactive")
    master, slave = pty.openpty()  # stdin is a terminal: the prompt flow
    try:
        os.write(master, f"{qr}\n\n\n".encode())  # the scanner types the QR code; Enter keeps the rest
        out = subprocess.run(
            [sys.executable, "-m", "terminal.provision", *flags, "--no-print"],
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    finally:
        os.close(master)
        os.close(slave)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Scan the enrolment QR code" in out.stdout
    assert f"Terminal id [{parse_qr(qr)['terminal']}]" in out.stdout
    assert '"readiness_ok": true' in out.stdout


def test_the_halls_tls_certificates_pass_strict_x509_checks(tmp_path: Path) -> None:
    """Python 3.13 (the arm64 package's, Debian 13's) verifies with OpenSSL's X509_STRICT flag by
    default, which refuses a CA without key usage or key identifiers and a server certificate
    without an authority key identifier: the emulated arm64 install test's enrolment failed with an
    SSLError on the sandbox's old certificates.  Checked here with the flag set, on any Python."""
    import socket
    import ssl
    import threading

    from bench.provision import make_tls

    ca, cert, key = make_tls(tmp_path / "tls")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(ca))
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        errors: list[BaseException] = []

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError) as err:
                errors.append(err)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() is not None
            tls.sendall(b"x")
        server.join(timeout=5)
    assert not errors
