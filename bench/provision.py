"""``hall-kiosk provision`` against the sandbox platform on simulators, timed.

The "hall" it provisions in: the sandbox platform behind TLS with a private CA (the production
profile takes https only), the device simulators speaking their wire protocols (the GA/T 467 ID
card reader on a pty, the ESC/POS receipt printer on TCP, camera image sources) and a private
cupsd with a cups-pdf queue (packaging/cups/start-test-cupsd.sh; needs root, as CI has).
Provisioning runs as the installer runs it: the console command in a process of its own.

    python -m bench.provision            # prints {"provision_s": ..., "readiness_ok": ...}
    python -m bench.provision --serve F  # only the hall; its provision flags as a shell line in F
                                         # (packaging/install-test.sh provisions a chroot with them)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CUPSD_SCRIPT = REPO / "packaging" / "cups" / "start-test-cupsd.sh"
TERMINAL_ID = "DZ-BENCH-0001"
QUEUE = "kiosk-a4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key_usage(*, cert_sign: bool) -> Any:
    """Key usage of the CA (signs certificates and CRLs) or of the server (signs its handshakes)."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem).

    Both carry what RFC 5280 asks and OpenSSL's X509_STRICT checks (Python 3.13's default, so the
    arm64 package's): key usage, key identifiers, the server's basic constraints and extended key
    usage; without the authority key identifier a terminal on Python 3.13 refuses the handshake."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox platform CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "cert.pem").write_bytes(cert.public_bytes(pem))
    (directory / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem", directory / "cert.pem", directory / "key.pem"


@contextmanager
def tls_sandbox(workdir: Path) -> Iterator[tuple[str, Path, object]]:
    """The sandbox platform on https://127.0.0.1:port: (url, CA bundle, the FastAPI app)."""
    import uvicorn

    from sandbox_platform.app import create_app

    ca, cert, key = make_tls(workdir / "tls")
    app = create_app(workdir / "platform", REPO / "items")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", ssl_certfile=str(cert), ssl_keyfile=str(key)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the TLS sandbox platform did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}", ca, app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.state.db.close()


@contextmanager
def private_cupsd(workdir: Path) -> Iterator[str | None]:
    """A private cupsd with a cups-pdf queue: its "127.0.0.1:port", None when it cannot start."""
    work = Path(tempfile.mkdtemp(prefix="provision-cupsd-"))  # cupsd's filters run as lp
    port = _free_port()
    out = subprocess.run(
        [str(CUPSD_SCRIPT), "start", str(work), str(port), QUEUE], capture_output=True, text=True, timeout=60
    )
    try:
        yield f"127.0.0.1:{port}" if out.returncode == 0 else None
    finally:
        subprocess.run([str(CUPSD_SCRIPT), "stop", str(work)], timeout=30, check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Hall:
    """A running hall to provision in; ``flags()`` are hall-kiosk provision's arguments."""

    url: str
    ca: Path
    app: object
    bench: object
    cups_server: str | None
    face_image: Path  # what the face camera shows (an image source inside the hall's directory)

    def code(self, terminal_id: str = TERMINAL_ID) -> str:
        return str(self.app.state.db.issue_code(terminal_id, 3600.0))  # type: ignore[attr-defined]

    def root_sha256(self) -> str:
        import requests

        body = requests.get(f"{self.url}/tuf/metadata/1.root.json", verify=str(self.ca), timeout=10).content
        return hashlib.sha256(body).hexdigest()

    def flags(self, data_dir: Path, config: Path, terminal_id: str = TERMINAL_ID) -> list[str]:
        from terminal.provision import enrolment_qr_text

        bench = self.bench
        qr = enrolment_qr_text(self.url, terminal_id, self.code(terminal_id), self.root_sha256())
        flags = [
            "--qr", qr,
            "--ca-bundle", str(self.ca),
            "--data-dir", str(data_dir),
            "--config", str(config),
            # the pty itself: a chroot sharing /dev/pts sees it, not the simulator's symlinks
            "--serial-port", os.path.realpath(bench.idcard_port),  # type: ignore[attr-defined]
            "--camera", str(self.face_image),
            "--document-camera", str(bench.simulators["document_camera"]),  # type: ignore[attr-defined]
            "--printer-probe", f"127.0.0.1:{bench.printer.port}",  # type: ignore[attr-defined]
            "--staff-reader", "none",
            "--non-interactive",
        ]  # fmt: skip
        if self.cups_server:
            flags += ["--cups-server", self.cups_server, "--cups-queue", "auto"]
        return flags


@contextmanager
def hall(workdir: Path) -> Iterator[Hall]:
    """Everything lives under ``workdir`` (a chroot that bind-mounts it sees the same paths)."""
    from devices.camera.kind import IDLE_FACE
    from devices.camera.simulator import media_path
    from terminal.simulators import SimulatorBench

    with ExitStack() as stack:
        url, ca, app = stack.enter_context(tls_sandbox(workdir))
        bench = SimulatorBench(workdir / "sim")
        stack.callback(bench.stop)
        cups = stack.enter_context(private_cupsd(workdir))
        face = workdir / "camera" / IDLE_FACE
        face.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(media_path(IDLE_FACE), face)
        yield Hall(url, ca, app, bench, cups, face)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", type=Path, help="only run the hall; write its flags to this file")
    parser.add_argument("--data-dir", type=Path, help="(--serve) the data dir the flags name")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # --serve: stop the hall cleanly
    work = Path(tempfile.mkdtemp(prefix="bench-provision-"))
    try:
        with hall(work) as h:
            if args.serve:
                data = args.data_dir or Path("/var/lib/hall-kiosk")
                flags = h.flags(data, Path("/etc/hall-kiosk/terminal.toml"))
                args.serve.write_text(f"HALL_DIR={shlex.quote(str(work))}\nset -- {shlex.join(flags)}\n")
                print(f"hall up: {h.url} in {work}; flags in {args.serve}; SIGTERM ends it", flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    return
            flags = h.flags(work / "terminal", work / "terminal.toml")
            t0 = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-m", "terminal.provision", *flags],
                capture_output=True,
                text=True,
                timeout=600,
            )
            elapsed = time.monotonic() - t0
            sys.stderr.write(out.stdout[-4000:] + out.stderr[-2000:])
            report = json.loads((work / "terminal" / "readiness.json").read_text())
            print(
                json.dumps(
                    {
                        "provision_s": round(elapsed, 2),
                        "readiness_ok": report["readiness_ok"],
                        "failed": [c["name"] for c in report["checks"] if not c["ok"]],
                        "exit_status": out.returncode,
                    }
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
