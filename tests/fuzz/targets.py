"""Fuzz targets: every parser that reads bytes from outside the terminal (issue 17).

Each :class:`Target` pairs a hypothesis strategy (structure-aware: mutations of real, valid inputs
next to arbitrary bytes) with a function that feeds one input through the real parser, and the
typed errors that parser is allowed to raise.  Anything else escaping it is a finding.  The same
targets run in CI (tests/fuzz/test_fuzz.py, few examples) and in ``python -m bench.fuzz`` (many).

Inputs reach the device drivers through :class:`ReplayTransport`, a byte pipe that answers with the
fuzzed bytes (the drivers take any :class:`devices.base.Transport`), so the drivers' own framing and
error handling run, not a copy of them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from hypothesis import strategies as st

from devices.barcode.qr import zbar_text
from devices.barcode.scanner import SerialBarcodeReader
from devices.base import DeviceError, DeviceStatus
from devices.idcard import codec
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.sim_cards import sim_card
from devices.idcard.textblock import parse_any_text_block
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.escpos_printer import EscPosReceiptPrinter
from kiosk.cases.platform_client import PlatformError
from kiosk.config import ConfigError, load_config
from kiosk.identity.qr import QrIdentityVerifier, QrVerification
from kiosk.images import ImageRejected, decode_card_photo, decode_image
from kiosk.review.items import PackageRejected, load_package
from kiosk.review.warnings import WarningListRejected, load_warning_list

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ROOT / "items"


# --------------------------------------------------------------------------- plumbing
class ReplayTransport:
    """A :class:`devices.base.Transport` whose far end answers with the given bytes, then silence."""

    def __init__(self, replies: bytes, chunk: int = 7) -> None:
        self._data = bytearray(replies)
        self._chunk = max(1, chunk)
        self.written = bytearray()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self, size: int, timeout: float) -> bytes:
        n = min(size, self._chunk, len(self._data))
        out = bytes(self._data[:n])
        del self._data[:n]
        return out


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], None]
    allowed: tuple[type[BaseException], ...]


def _mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with bytes flipped, cut, inserted or duplicated (the cheap half of a mutator)."""

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 8))):
            op = draw(st.sampled_from(("flip", "cut", "insert", "dup", "set")))
            pos = draw(st.integers(0, max(0, len(data) - 1))) if data else 0
            if op == "flip" and data:
                data[pos] ^= 1 << draw(st.integers(0, 7))
            elif op == "cut":
                del data[pos : pos + draw(st.integers(1, 64))]
            elif op == "insert":
                data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
            elif op == "dup" and data:
                data[pos:pos] = data[pos : pos + draw(st.integers(1, 256))]
            elif op == "set" and data:
                data[pos] = draw(st.sampled_from((0x00, 0xFF, 0x7F, 0x80, 0x5B, 0x7B, 0x22)))
        return bytes(data)

    return mutate()


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12,
)


def _json_with_replaced_subtree(doc: Any) -> st.SearchStrategy[bytes]:
    """``doc`` with one value somewhere inside replaced by an arbitrary JSON value."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(doc, ())

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        copy = json.loads(json.dumps(doc))
        path = draw(st.sampled_from(paths))
        new = draw(JSON_VALUES)
        if not path:
            copy = new
        else:
            parent = copy
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = new
        return json.dumps(copy, ensure_ascii=draw(st.booleans())).encode("utf-8")

    return build()


def _deep(opening: bytes, closing: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(1, 120_000).map(lambda n: opening * n + closing * n)


def structured(seeds: list[bytes], doc: Any | None = None) -> st.SearchStrategy[bytes]:
    parts: list[st.SearchStrategy[bytes]] = [
        st.binary(max_size=512),
        st.sampled_from(seeds),
        st.sampled_from(seeds).flatmap(_mutated),
    ]
    if doc is not None:
        parts += [_json_with_replaced_subtree(doc), _deep(b"[", b"]"), _deep(b'{"a":', b"}")]
    return st.one_of(parts)


# --------------------------------------------------------------------------- GA/T 467 frames
@cache
def _gat467_seeds() -> list[bytes]:
    card = sim_card("senior")
    payload = codec.encode_read_payload(card.text_block(), card.photo_block())
    fp = codec.encode_read_fp_payload(card.text_block(), card.photo_block(), b"\x01" * 1024)
    return [
        codec.encode_response(0x90, payload),
        codec.encode_response(0x90, fp),
        codec.encode_response(0x90, codec.encode_sam_id(5, 1, 20231123, 12345678, 99999)),
        codec.encode_response(0x9F, b"\x00" * 8),
        codec.encode_response(0x80),
        codec.encode_response(0x41),
        codec.encode_response(0x10),
    ]


def run_gat467(data: bytes) -> None:
    """The host side of a GA/T 467 exchange: frame splitting, then every payload decoder."""
    parser = codec.FrameParser("response")
    payloads: list[bytes] = []
    for start in range(0, len(data), 61):
        try:
            payloads += parser.feed(data[start : start + 61])
        except DeviceError:
            payloads += parser.take()
    try:
        parser.check_complete()
    except DeviceError:
        pass
    for payload in payloads:
        frame = codec.decode_response(payload)
        codec.interpret_sw3(frame.sw3)
        for decode in (
            lambda d: parse_any_text_block(codec.decode_read_payload(d).text),
            lambda d: codec.decode_read_fp_payload(d),
            codec.format_sam_id,
            codec.decode_appended_address,
        ):
            try:
                decode(frame.data)
            except DeviceError:
                continue


# --------------------------------------------------------------------------- ESC/POS status
_RECEIPT = ReceiptDoc((ReceiptLine("text", "凭条 RECEIPT"), ReceiptLine("cut")))


def run_escpos(replies: bytes) -> None:
    """Status queries and a job against a printer that answers with ``replies``."""
    printer = EscPosReceiptPrinter("fuzz", 0, transport=ReplayTransport(replies), timeout=0.01)
    status = printer.status()
    if not isinstance(status, DeviceStatus):
        raise TypeError(f"status() returned {status!r}")
    printer2 = EscPosReceiptPrinter("fuzz", 0, transport=ReplayTransport(replies, chunk=1), timeout=0.01)
    try:
        printer2.print_receipt(_RECEIPT)
    except DeviceError:
        pass


ESCPOS = st.one_of(
    st.binary(max_size=12),
    st.lists(st.sampled_from((0x12, 0x16, 0x1E, 0x32, 0x72, 0x7E, 0x00, 0xFF)), max_size=8).map(bytes),
)


# --------------------------------------------------------------------------- QR payloads
class _AnsweringClient:
    """The platform's verification answer, fuzzed (or a typed platform error)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def verify_qr_token(self, token: str) -> Mapping[str, Any]:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]


QR_ANSWERS = st.one_of(
    st.dictionaries(
        st.sampled_from(("valid", "reason", "id_number", "name", "source", "token_id", "expires_at")),
        JSON_LEAVES | st.sampled_from(("371402195203140022", "expired", "revoked", "张桂兰")),
        max_size=7,
    ),
    st.fixed_dictionaries(
        {
            "valid": st.just(True),
            "id_number": st.text(max_size=20) | st.just("371402195203140022"),
            "name": st.text(max_size=8),
            "source": st.text(max_size=8),
            "token_id": st.text(max_size=8),
            "expires_at": st.text(max_size=8),
        }
    ),
)


def run_qr(case: tuple[bytes, str, Any]) -> None:
    """Scanner bytes (serial line protocol), zbar's charset guess, and the verifier's answer parsing."""
    stream, token, answer = case
    reader = SerialBarcodeReader("fuzz", transport=ReplayTransport(stream, chunk=5))
    for _ in range(8):
        try:
            if reader.read_code(0) is None:
                break
        except DeviceError:
            continue
    zbar_text(stream)
    result = QrIdentityVerifier(_AnsweringClient(answer)).verify(token)
    if not isinstance(result, QrVerification):
        raise TypeError("verify() must return a QrVerification")


QR = st.tuples(
    st.one_of(st.binary(max_size=600), st.text(max_size=80).map(lambda s: (s + "\r\n").encode("utf-8"))),
    st.text(max_size=120),
    QR_ANSWERS,
)


# --------------------------------------------------------------------------- documents
@cache
def _package_doc() -> Any:
    return json.loads((ITEMS / "senior-card.json").read_text("utf-8"))


@cache
def _warning_doc() -> Any:
    return json.loads((ITEMS / "warning_lists" / "dishonest_persons.json").read_text("utf-8"))


def run_package(body: bytes) -> None:
    load_package(body)


def run_warning_list(body: bytes) -> None:
    load_warning_list(body)


_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="fuzz-config-"))


def run_config(body: bytes) -> None:
    path = _CONFIG_DIR / "terminal.toml"
    path.write_bytes(body)
    load_config(path)


def _config_seed() -> bytes:
    return (ROOT / "docs" / "terminal.example.toml").read_bytes()


TOML_MUTATIONS = st.one_of(
    st.binary(max_size=300),
    st.just(_config_seed()).flatmap(_mutated),
    st.integers(1, 100_000).map(lambda n: b"a = " + b"[" * n + b"]" * n + b"\n"),
    st.integers(1, 100_000).map(lambda n: b"a = " + b"{b=" * n + b"1" + b"}" * n + b"\n"),
    st.dictionaries(
        st.sampled_from(("terminal_id", "profile", "data_dir", "x")), JSON_LEAVES, max_size=3
    ).map(lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items()).encode("utf-8")),
)


# --------------------------------------------------------------------------- images
@cache
def _image_seeds() -> list[bytes]:
    img = np.zeros((24, 32, 3), np.uint8)
    img[4:20, 6:26] = (30, 160, 220)
    out = [sim_card("senior").photo_block()]
    for ext in (".jpg", ".png", ".webp", ".bmp"):
        ok, buf = cv2.imencode(ext, img)
        assert ok
        out.append(buf.tobytes())
    return out


_CARD_PHOTO = SimulatorPhotoDecoder()


def run_image(data: bytes) -> None:
    """The bounded decoder (reference photos), and a card's photo block through the device decoder."""
    decode_card_photo(data, _CARD_PHOTO.decode)
    decode_image(data, max_pixels=4_000_000)


# --------------------------------------------------------------------------- the list
def targets() -> list[Target]:
    return [
        Target("gat467_frames", structured(_gat467_seeds()), run_gat467, (DeviceError,)),
        Target("escpos_status", ESCPOS, run_escpos, (DeviceError,)),
        Target("qr_payloads", QR, run_qr, (DeviceError, PlatformError)),
        Target(
            "rule_packages",
            structured([json.dumps(_package_doc()).encode()], _package_doc()),
            run_package,
            (PackageRejected,),
        ),
        Target(
            "warning_lists",
            structured([json.dumps(_warning_doc()).encode()], _warning_doc()),
            run_warning_list,
            (WarningListRejected,),
        ),
        Target("config", TOML_MUTATIONS, run_config, (ConfigError,)),
        Target("images", structured(_image_seeds()), run_image, (ImageRejected,)),
    ]
