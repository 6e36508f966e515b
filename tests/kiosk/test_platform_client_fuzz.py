"""Fuzzed platform answers (hypothesis, real HTTP on 127.0.0.1): whatever comes back, every client
operation returns a value or raises a PlatformError, within its deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cases.platform_client import PlatformClient, PlatformError
from tests.kiosk.hostile_platform import hostile

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_KEYS = [
    "token", "lookup_key", "platform_answer_key", "item_id", "version", "sha256", "case_id", "platform_ref",
    "received_at", "status", "upload_id", "size", "offset", "state", "valid", "reason", "holder", "licences",
    "platform_public_key", "algorithm", "publicity_id", "at",
]  # fmt: skip
# Objects with the contract's field names and arbitrary values reach deeper into validation.
_near_miss = st.dictionaries(st.sampled_from(_KEYS), _json, max_size=8)
_bodies = st.one_of(
    _json.map(lambda v: json.dumps(v).encode()),
    _near_miss.map(lambda v: json.dumps(v).encode()),
    st.lists(_near_miss, max_size=3).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
_statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 404, 409, 429, 500, 503])
_headers = st.dictionaries(
    st.sampled_from(["Retry-After", "Date", "X-Content-SHA256", "Content-Type"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=3,
)

_OPERATIONS: dict[str, Callable[[PlatformClient], Any]] = {
    "enrol": lambda c: c.enrol(code="x"),
    "heartbeat": lambda c: c.heartbeat({"printer": "ok"}),
    "list_packages": lambda c: c.list_packages(),
    "fetch_package": lambda c: c.fetch_package("x"),
    "list_warning_lists": lambda c: c.list_warning_lists(),
    "upload_case": lambda c: c.upload_case("4b6f0a52-3c1d-4e55-9a55-0d1c6c0c2b1e", "x", b"p"),
    "case_status": lambda c: c.case_status("c1"),
    "verify_qr_token": lambda c: c.verify_qr_token("eid1.token"),
    "reference_photo": lambda c: c.reference_photo("371402195203140022"),
    "elicences": lambda c: c.elicences("371402195203140022"),
    "agree_field_key": lambda c: c.agree_field_key(b"\x01" * 32, "aes-256-gcm"),
    "create_upload": lambda c: c.create_upload("a1", {"case_id": "c1"}),
    "put_chunk": lambda c: c.put_chunk("u1", 0, b"abc", 3),
    "published_records": lambda c: c.published_records(),
    "post_publicity": lambda c: c.post_publicity("k1", b"{}"),
}


class _Answer:
    status = 200
    body = b""
    headers: dict[str, str] = {}

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(self.status)
        for name, value in self.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(self.body)))
        h.end_headers()
        h.wfile.write(self.body)


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[tuple[_Answer, PlatformClient]]:
    answer = _Answer()
    with hostile(answer) as server, PlatformClient(server.url, "F1", timeout=2.0, token="t") as client:
        client.lookup_key = b"k" * 32
        yield answer, client


@pytest.mark.parametrize("operation", sorted(_OPERATIONS))
def test_any_answer_is_a_value_or_a_platform_error(
    operation: str, fuzz_client: tuple[_Answer, PlatformClient]
) -> None:
    answer, client = fuzz_client

    @given(status=_statuses, body=_bodies, headers=_headers)
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(status: int, body: bytes, headers: dict[str, str]) -> None:
        answer.status, answer.body, answer.headers = status, body, headers
        started = time.monotonic()
        try:
            _OPERATIONS[operation](client)
        except PlatformError:
            pass
        assert time.monotonic() - started < 3.0

    run()
