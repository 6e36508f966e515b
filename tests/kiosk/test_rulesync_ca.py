"""Issue 17, finding 7 (last part): rule sync (TUF) and the API client trust one CA store, the
configured ``platform.ca_bundle``.

A private CA made for the test signs a certificate for 127.0.0.1; a TLS front on 127.0.0.1
terminates https with it and forwards to a real sandbox platform.  With the bundle, the API client
and the TUF rule sync both reach the platform; without it, both refuse the certificate (neither
falls back to another store)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import ssl
import threading
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from kiosk.cases.platform_client import PlatformClient, PlatformError
from kiosk.review.sync import RuleSync, provision_root
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer

ITEMS = Path(__file__).resolve().parents[2] / "items"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_private_ca(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test hall CA"))
        .issuer_name(_name("Test hall CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class TlsFront:
    """https on 127.0.0.1: terminates TLS with the given certificate, forwards bytes to ``port``."""

    def __init__(self, cert: Path, key: Path, port: int) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.backend = port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()  # the client refused our certificate
            return
        back = socket.create_connection(("127.0.0.1", self.backend))

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()

        threading.Thread(target=pipe, args=(back, conn), daemon=True).start()
        pipe(conn, back)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[SandboxServer, TlsFront, Path]]:
    items = tmp_path / "items"
    shutil.copytree(ITEMS, items, ignore=shutil.ignore_patterns("tools"))
    server = SandboxServer(tmp_path / "platform", items).start()
    ca, cert, key = make_private_ca(tmp_path)
    front = TlsFront(cert, key, int(server.url.rsplit(":", 1)[1]))
    yield server, front, ca
    front.close()
    server.close()


def test_rule_sync_and_the_api_client_trust_the_configured_ca_bundle(
    platform: tuple[SandboxServer, TlsFront, Path], tmp_path: Path
) -> None:
    server, front, ca = platform
    meta = tmp_path / "terminal" / "tuf" / "metadata"
    assert provision_root(front.url, meta, ca_bundle=str(ca)) is True
    store = Store(tmp_path / "terminal" / "kiosk.sqlite3")
    try:
        report = RuleSync(store, front.url, meta, tmp_path / "terminal" / "targets", ca_bundle=str(ca)).sync()
        assert report.ok, report.error
        assert report.result_map["senior-card"] == "activated"

        client = PlatformClient(
            front.url, "TLS1", timeout=5.0, signing_key=Ed25519PrivateKey.generate(), ca_bundle=str(ca)
        )
        client.enrol(code=server.enrolment_code("TLS1"))
        client.heartbeat({"receipt_printer": "ready"})
        client.close()

        # Without the bundle neither client trusts the private CA (no other store is consulted).
        fresh = tmp_path / "other"
        with pytest.raises(urllib.error.URLError):
            provision_root(front.url, fresh / "metadata")
        (fresh / "metadata").mkdir(parents=True)
        shutil.copy(meta / "root.json", fresh / "metadata" / "root.json")
        refused = RuleSync(store, front.url, fresh / "metadata", fresh / "targets").sync()
        assert not refused.ok and refused.error is not None
        bare = PlatformClient(front.url, "TLS1", timeout=5.0, signing_key=Ed25519PrivateKey.generate())
        with pytest.raises(PlatformError):
            bare.heartbeat({})
        bare.close()
    finally:
        store.close()
