"""The counting proxy passes requests through unchanged and sees the copies the platform keeps no
trace of (replayed, or answered but the answer lost)."""

from __future__ import annotations

import uuid

import pytest

from kiosk.cases.platform_client import PlatformClient, PlatformError
from sandbox_platform.server import SandboxServer
from tests.crash.counting_proxy import CountingProxy
from tests.crash.harness import ITEM_ID


def test_copies_the_platform_does_not_keep_are_counted(server: SandboxServer) -> None:
    case_id = str(uuid.uuid4())
    with CountingProxy(server.url) as proxy, PlatformClient(proxy.url, "PROXY1", timeout=5.0) as client:
        client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
        first = client.upload_case(case_id, ITEM_ID, b"body")
        assert client.upload_case(case_id, ITEM_ID, b"body").raw == first.raw  # replayed
        client.sandbox.set_faults(drop_after_processing=True)
        with pytest.raises(PlatformError):
            client.upload_case(case_id, ITEM_ID, b"body")  # processed, answer dropped
        client.sandbox.set_faults()
        copies = proxy.received("/api/v1/cases")[case_id]
        assert len(copies) == 3 and len({c.body_sha256 for c in copies}) == 1
        assert copies[0].at <= copies[1].at <= copies[2].at
        # The platform itself holds the case once.
        assert [c["case_id"] for c in client.sandbox.received_cases()].count(case_id) == 1
