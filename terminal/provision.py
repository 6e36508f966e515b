"""``hall-kiosk provision``: from an installed package to a terminal ready to hand over.

Steps (each prints one line; docs/installation.md shows a real run):

1. enrol with the platform with the one-time code (``--code``, or ``--qr`` with the text of the
   platform's enrolment QR code) and pin the trust anchors: the CA bundle, the platform's answer
   key, the e-licence key and the TUF root (checked against the SHA-256 the QR code or
   ``--tuf-root-sha256`` gives, or read from ``--tuf-root``);
2. discover the devices (terminal/provision_discover.py) unless given on the command line;
3. write the terminal config (TOML, the schema of kiosk/config.py) and validate it;
4. sync the trusted catalogue;
5. self-check (terminal/selfcheck.py): the readiness report as JSON and on the receipt printer.

Every answer has a flag; when stdin is a terminal and something is missing, a short prompt asks
for it.  Exit status 0 only when the terminal is ready (``readiness_ok``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal.provision_config import render_config

QR_SCHEME = "hallkiosk"
DEFAULT_CONFIG = Path("/etc/hall-kiosk/terminal.toml")
DEFAULT_DATA = Path("/var/lib/hall-kiosk")
CA_FILE = "platform-ca.pem"
#: The devices a terminal cannot serve without, and the flag that names each.
REQUIRED = {
    "idcard": "--idcard PORT",
    "camera": "--camera SOURCE",
    "document_camera": "--document-camera SOURCE",
    "receipt_printer": "--receipt-printer HOST:PORT or usb:VID:PID",
    "document_printer": "--cups-queue QUEUE",
}


class ProvisionError(Exception):
    """A step failed in a way the installer must fix (the message says how)."""


@dataclass
class Answers:
    """Everything provisioning needs; filled from flags, the QR code, discovery and prompts."""

    platform_url: str = ""
    terminal_id: str = ""
    code: str = ""
    tuf_root_sha256: str = ""
    tuf_root: str = ""
    ca_bundle: str = ""
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def enrolment_qr_text(url: str, terminal_id: str, code: str, tuf_root_sha256: str = "") -> str:
    """The text of the enrolment QR code the platform's installer console shows."""
    query = {"url": url, "terminal": terminal_id, "code": code}
    if tuf_root_sha256:
        query["root"] = tuf_root_sha256
    return f"{QR_SCHEME}:enrol?v=1&{urllib.parse.urlencode(query)}"


def parse_qr(text: str) -> dict[str, str]:
    """url, terminal, code and optionally root from an enrolment QR code's text."""
    head, _, query = text.strip().partition("?")
    if head != f"{QR_SCHEME}:enrol":
        raise ProvisionError(f"not an enrolment QR code (expected {QR_SCHEME}:enrol?...)")
    fields = {k: v[0] for k, v in urllib.parse.parse_qs(query, strict_parsing=True).items()}
    if fields.get("v") != "1":
        raise ProvisionError(f"enrolment QR code version {fields.get('v')!r} is not supported")
    missing = [k for k in ("url", "terminal", "code") if not fields.get(k)]
    if missing:
        raise ProvisionError(f"enrolment QR code lacks {', '.join(missing)}")
    return fields


# ------------------------------------------------------------------ step 1: enrol and pin


def _pin_tuf_root(client: Any, answers: Answers, metadata_dir: Path) -> str:
    target = metadata_dir / "root.json"
    if answers.tuf_root:
        body = Path(answers.tuf_root).read_bytes()
    else:
        reply = client.transport.request("GET", "/tuf/metadata/1.root.json", auth=False)
        body = reply.body
    digest = hashlib.sha256(body).hexdigest()
    if not answers.tuf_root and digest != answers.tuf_root_sha256.lower():
        raise ProvisionError(
            f"the platform's TUF root has SHA-256 {digest}, not the {answers.tuf_root_sha256} the "
            "installer was given: refusing to trust it (wrong platform, or an interception)"
        )
    json.loads(body)
    metadata_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, target)
    return digest


def enrol_and_pin(answers: Answers, data_dir: Path, *, allow_http: bool = False) -> list[str]:
    """Enrol with the one-time code and pin what the platform hands over; lines to print."""
    from kiosk.cases.crypto import load_or_create_terminal_key
    from kiosk.cases.lookup_key import save_lookup_key
    from kiosk.cases.platform_client import PlatformClient, PlatformError
    from kiosk.cases.platform_pins import ANSWER_KEY_FILE, pin_key
    from kiosk.documents.elicence_platform import pin_elicence_key
    from terminal.runtime import ELICENCE_KEY_FILE, LOOKUP_KEY_FILE

    secrets = data_dir / "secrets"
    secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = []
    ca = None
    if answers.ca_bundle:
        ca_path = secrets / CA_FILE
        if Path(answers.ca_bundle).resolve() != ca_path.resolve():
            shutil.copyfile(answers.ca_bundle, ca_path)
        ca_path.chmod(0o644)
        ca = str(ca_path)
        lines.append(f"pinned CA bundle {ca_path}")
    client = PlatformClient(
        answers.platform_url,
        answers.terminal_id,
        timeout=15.0,
        signing_key=load_or_create_terminal_key(secrets / "signing.pem"),
        enrolment_code=answers.code,
        ca_bundle=ca,
        require_https=not allow_http,
    )
    try:
        try:
            client.enrol({"provisioned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        except PlatformError as err:
            raise ProvisionError(f"enrolment refused or platform unreachable: {err}") from err
        lines.append(f"enrolled as {answers.terminal_id} with {client.base_url}")
        info = client.enrolment
        if info is None or pin_key(secrets / ANSWER_KEY_FILE, info.platform_answer_key) is None:
            raise ProvisionError("the platform announced no answer-signing key: cannot pin it")
        lines.append(f"pinned platform answer key {info.platform_answer_key_id or ''}".rstrip())
        if pin_elicence_key(secrets / ELICENCE_KEY_FILE, info.elicence_public_key) is not None:
            lines.append(f"pinned e-licence key {info.elicence_key_id or ''}".rstrip())
        else:
            answers.notes.append("the platform gave no e-licence key: e-licences unavailable")
        if info.lookup_key is not None:
            save_lookup_key(secrets / LOOKUP_KEY_FILE, info.lookup_key)
            lines.append("stored lookup key")
        try:
            digest = _pin_tuf_root(client, answers, data_dir / "tuf" / "metadata")
        except PlatformError as err:
            raise ProvisionError(f"cannot fetch the platform's TUF root: {err}") from err
        lines.append(f"pinned TUF root sha256:{digest[:16]}…")
    finally:
        client.close()
    return lines


# ------------------------------------------------------------------ step 2: devices


def choose_devices(args: argparse.Namespace, answers: Answers, say: Callable[[str], None]) -> None:
    """Fill ``answers.devices`` from the flags, else from discovery."""
    from terminal import provision_discover as disc
    from terminal.provision_usb import parse_spec as parse_usb_spec

    hosts = list(args.printer_probe or [])
    serial_printer = (args.receipt_printer or "").startswith("/")
    usb_printer = parse_usb_spec(args.receipt_printer or "")
    if args.receipt_printer and args.receipt_printer != "auto" and not serial_printer and not usb_printer:
        hosts.insert(0, args.receipt_printer)
    found = disc.discover(
        serial_candidates=args.serial_port or None,
        printer_hosts=hosts,
        cups_server=args.cups_server or None,
    )
    say(
        f"found: {len(found.idcard_ports)} ID reader(s), {len(found.cameras)} camera(s), "
        f"{len(found.cups_queues)} CUPS queue(s), {len(found.escpos_network)} ESC/POS printer(s) on the "
        f"network, {len(found.usb_printers)} USB printer interface(s), {len(found.pcsc_readers)} PC/SC reader(s)"
    )
    for note in found.notes:
        say(f"  note: {note}")
    devices = answers.devices
    port = args.idcard if args.idcard and args.idcard != "auto" else next(iter(found.idcard_ports), "")
    if port:
        devices["idcard"] = {"driver": "serial", "port": port, "discover": True}
    cams = [c for c in found.cameras if not args.camera or args.camera == "auto"]
    face = args.camera if args.camera and args.camera != "auto" else (cams[0].path if cams else "")
    doc_cams = [c.path for c in found.cameras if c.path != face]
    document = (
        args.document_camera
        if args.document_camera and args.document_camera != "auto"
        else next(iter(doc_cams), "")
    )
    if face:
        devices["camera"] = {"driver": "opencv", "source": face}
    if document:
        devices["document_camera"] = {"driver": "opencv", "source": document}
    if serial_printer:  # checked by the self-check's status query
        devices["receipt_printer"] = {"driver": "serial", "serial_port": args.receipt_printer}
    elif usb_printer is not None:
        devices["receipt_printer"] = usb_printer.section()
    elif found.escpos_network:
        host, _, p = found.escpos_network[0].rpartition(":")
        devices["receipt_printer"] = {"driver": "network", "host": host, "port": int(p)}
    elif found.usb_escpos and found.usb_escpos[0].receipt:
        devices["receipt_printer"] = found.usb_escpos[0].section()
    for printer in found.usb_escpos:
        say(
            f"  USB printer {printer.spec} {printer.product}"
            + ("" if printer.receipt else " (not taken: A4?)")
        )
    queue = args.cups_queue if args.cups_queue and args.cups_queue != "auto" else ""
    if not queue and found.cups_queues:
        queue = found.cups_queues[0]
    if queue:
        devices["document_printer"] = {
            "driver": "cups",
            "cups_queue": queue,
            "cups_server": args.cups_server or "",
        }
    if args.staff_reader == "none":
        devices["staff_card"] = {"driver": "none"}
    elif args.staff_reader and args.staff_reader != "auto":
        devices["staff_card"] = {"driver": "pcsc", "reader": args.staff_reader}
    elif found.pcsc_readers:
        devices["staff_card"] = {"driver": "pcsc", "reader": found.pcsc_readers[0]}
    else:
        devices["staff_card"] = {"driver": "none"}
        answers.notes.append("no PC/SC reader: maintenance mode by staff card is off")
    for kind in REQUIRED:
        section = devices.get(kind)
        say(f"  {kind:<17} {_describe(section) if section else 'NOT FOUND'}")
    missing = [kind for kind in REQUIRED if kind not in devices]
    if missing:
        raise ProvisionError(
            f"required device(s) not found: {', '.join(missing)}: connect them and run again, "
            f"or name them ({', '.join(REQUIRED[k] for k in missing)})"
        )


def _describe(section: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in section.items())


# ------------------------------------------------------------------ steps 4 and 5


def sync_and_check(config_path: Path, say: Callable[[str], None], *, print_report: bool) -> Any:
    """Sync the catalogue, then the deep self-check; the Readiness."""
    from kiosk.cases.crypto import derive_key, load_or_create_machine_secret
    from kiosk.config import load_config
    from kiosk.review.sync import RuleSync
    from offline_cache.store import Store
    from terminal import selfcheck
    from terminal.hardware import build_devices, close_devices

    config = load_config(config_path)
    workdir = config.data_path()
    secret = load_or_create_machine_secret(workdir / "secrets" / "machine.key")
    store = Store(workdir / "terminal.db", key=derive_key(secret, "store", terminal_id=config.terminal_id))
    t0 = time.monotonic()
    try:
        tuf = workdir / "tuf"
        report = RuleSync(
            store, config.platform.url, tuf / "metadata", tuf / "targets", ca_bundle=config.platform.ca_bundle
        ).sync()
        active = len(store.packages.active_all())
        catalogue = selfcheck.Check(
            "catalogue.synced",
            report.ok and active > 0,
            True,
            f"{active} service item(s) active" if report.ok else f"sync failed: {report.error}",
            "" if report.ok and active > 0 else selfcheck.PROVISION,
        )
        say(f"catalogue: {catalogue.detail}")
    finally:
        store.close()
    devices = build_devices(config, None, workdir)
    try:
        checks = [catalogue, *selfcheck.check_trust(workdir, config.profile)]
        checks += selfcheck.check_devices(config, devices, deep=True)
        readiness = selfcheck.Readiness(config.terminal_id, tuple(checks), duration_s=time.monotonic() - t0)
        if print_report:
            printed = selfcheck.print_report(devices.receipt_printer, readiness, config.ui.hall_name)
            readiness = selfcheck.Readiness(
                readiness.terminal_id,
                (*readiness.checks, printed),
                readiness.checked_at,
                readiness.duration_s,
            )
    finally:
        close_devices(devices)
    return readiness


# ------------------------------------------------------------------ the command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hall-kiosk provision", description="Enrol, discover, configure, check.")
    a = p.add_argument
    a("--platform", help="platform URL (https://...)")
    a("--terminal-id", help="this terminal's id, as the platform registered it")
    a("--code", help="the one-time enrolment code from the platform's installer console")
    a(
        "--qr",
        help="the text of the platform's enrolment QR code (instead of --platform/--terminal-id/--code)",
    )
    a("--tuf-root-sha256", default="", help="SHA-256 of the platform's TUF root (the QR code carries it)")
    a("--tuf-root", default="", help="the TUF root file itself (from the platform operator)")
    a("--ca-bundle", default="", help="CA bundle (PEM) the platform's certificate chains to")
    a("--config", type=Path, help=f"config file to write (default $KIOSK_CONFIG or {DEFAULT_CONFIG})")
    a("--data-dir", type=Path, default=DEFAULT_DATA, help=f"terminal data directory (default {DEFAULT_DATA})")
    a("--report", type=Path, help="readiness report JSON (default <data-dir>/readiness.json)")
    a("--idcard", help="ID card reader serial port, or 'auto' (probe serial ports)")
    a("--serial-port", action="append", help="a serial port to probe (repeatable; default the usual ones)")
    a("--camera", help="face camera source (/dev/v4l/by-id/..., index, file) or 'auto'")
    a("--document-camera", help="document camera source, or 'auto'")
    a(
        "--receipt-printer",
        help="ESC/POS receipt printer host:port, a serial port (/dev/...), usb:VID:PID[:SERIAL] or 'auto'",
    )
    a("--printer-probe", action="append", help="host[:port] to probe for an ESC/POS printer (repeatable)")
    a("--cups-queue", help="CUPS queue of the A4 printer, or 'auto' (the first queue)")
    a("--cups-server", default="", help="CUPS server host[:port] (default the local cupsd)")
    a("--staff-reader", help="PC/SC reader of the staff card, 'auto' or 'none'")
    a("--hall-name", default="", help="the hall's name on screens and receipts")
    a("--no-print", action="store_true", help="do not print the readiness report")
    a("--non-interactive", action="store_true", help="never prompt, even on a terminal")
    a("--user", default="hall-kiosk", help="the kiosk service's user, given the data dir (run as root)")
    a("--allow-http", action="store_true", help="allow http:// (a sandbox platform; never in a hall)")
    return p


def _prompt(label: str, current: str) -> str:
    answer = input(f"{label}{f' [{current}]' if current else ''}: ").strip()
    return answer or current


def gather(args: argparse.Namespace, interactive: bool) -> Answers:
    answers = Answers(
        platform_url=args.platform or "",
        terminal_id=args.terminal_id or "",
        code=args.code or "",
        tuf_root_sha256=args.tuf_root_sha256,
        tuf_root=args.tuf_root,
        ca_bundle=args.ca_bundle,
    )
    if interactive and not (args.qr or answers.code):
        args.qr = _prompt("Scan the enrolment QR code (or press Enter to type the code)", "")
    if args.qr:
        q = parse_qr(args.qr)
        answers.platform_url, answers.terminal_id, answers.code = q["url"], q["terminal"], q["code"]
        answers.tuf_root_sha256 = answers.tuf_root_sha256 or q.get("root", "")
    if interactive:
        answers.platform_url = _prompt("Platform URL", answers.platform_url)
        answers.terminal_id = _prompt("Terminal id", answers.terminal_id)
        answers.code = answers.code or _prompt("One-time enrolment code", "")
        if not (answers.tuf_root or answers.tuf_root_sha256):
            answers.tuf_root_sha256 = _prompt("TUF root SHA-256 (from the platform operator)", "")
    missing = [
        flag
        for flag, value in (("--platform", answers.platform_url), ("--terminal-id", answers.terminal_id))
        if not value
    ]
    if not answers.code:
        missing.append("--code")
    if not (answers.tuf_root or answers.tuf_root_sha256):
        missing.append("--tuf-root-sha256 or --tuf-root")
    if missing:
        raise ProvisionError(f"missing {', '.join(missing)} (or --qr with the platform's enrolment QR code)")
    return answers


def run(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = _parser().parse_args(argv)
    interactive = sys.stdin.isatty() and not args.non_interactive
    data_dir = args.data_dir.resolve()
    config_path = args.config or Path(os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG)
    report_path = args.report or data_dir / "readiness.json"
    t0 = time.monotonic()
    try:
        answers = gather(args, interactive)
        out(f"[1/5] enrolling {answers.terminal_id} with {answers.platform_url}")
        for line in enrol_and_pin(answers, data_dir, allow_http=args.allow_http):
            out(f"      {line}")
        out("[2/5] discovering devices")
        choose_devices(args, answers, lambda s: out(f"      {s}"))
        out(f"[3/5] writing {config_path}")
        ca = str(data_dir / "secrets" / CA_FILE) if answers.ca_bundle else ""
        text = render_config(answers, data_dir, ca_bundle=ca, hall_name=args.hall_name)
        _write_config(config_path, text)
        out("[4/5] syncing the trusted catalogue")
        readiness = sync_and_check(config_path, lambda s: out(f"      {s}"), print_report=not args.no_print)
    except ProvisionError as err:
        out(f"provision failed: {err}")
        return 2
    from terminal.selfcheck import write_report

    out("[5/5] self-check")
    for c in readiness.checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        out(f"      {mark} {c.name:<28} {c.detail}" + (f"  -> {c.action}" if not c.ok else ""))
    for note in answers.notes:
        out(f"      note: {note}")
    write_report(readiness, report_path)
    out(f"readiness report: {report_path}")
    owner = hand_over(data_dir, config_path, args.user)
    if owner:
        out(owner)
    out(json.dumps({"readiness_ok": readiness.ok, "provision_s": round(time.monotonic() - t0, 2)}))
    return 0 if readiness.ok else 1


def hand_over(data_dir: Path, config_path: Path, user: str) -> str:
    """Run as root: the data directory (secrets, store, TUF metadata) to the kiosk's user, the
    config readable by its group only (packaging/tmpfiles/hall-kiosk.conf).  The line to print."""
    if os.geteuid() != 0 or not user:
        return ""
    import grp
    import pwd

    try:
        uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(user).gr_gid
    except KeyError:
        return f"note: no user {user}: {data_dir} stays root's (the kiosk service runs as {user})"
    for root, dirs, files in os.walk(data_dir):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, gid)
    os.chown(data_dir, uid, gid)
    os.chown(config_path, 0, gid)
    config_path.chmod(0o640)
    return f"{data_dir} handed over to {user}; {config_path} root:{user} 0640"


def _write_config(path: Path, text: str) -> None:
    from kiosk.config import ConfigError, load_config

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_config(tmp)  # the same validation as at start: refuse to write what would not start
    except ConfigError as err:
        tmp.unlink()
        raise ProvisionError(f"the config would not start the terminal: {err}") from err
    os.replace(tmp, path)


def main() -> None:
    """The ``hall-kiosk-provision`` console script (also ``hall-kiosk provision``)."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
