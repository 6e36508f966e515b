"""Property-based tests of the sandbox against the platform contract (docs/platform-api) with schemathesis.

Runs against the real server on 127.0.0.1 (stateless, a bounded number of examples
per operation); the ``/_sandbox`` test hooks are excluded (they switch faults on).
Checks: no 5xx, responses conform to the documented schemas and status codes,
documented content types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kiosk.cases.platform_client import PlatformClient
from sandbox_platform.server import SandboxServer
from tests.contract.schema_compare import CONTRACT_PATH as OPENAPI_PATH

_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, str]]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    items = tmp / "items"
    (items / "warning_lists").mkdir(parents=True)
    (items / "x.json").write_text('{"id":"x","version":"1"}')
    (items / "warning_lists" / "w.json").write_text('{"name":"w","version":"1","entries":[]}')
    server = SandboxServer(tmp / "platform", items).start()
    with PlatformClient(server.url, "ST1") as client:
        token = client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
    yield server, token
    server.close()


def _operations() -> list[schemathesis.APIOperation]:
    doc = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(doc).exclude(path_regex="^/_sandbox")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: op.label)
def test_api_conforms(operation: schemathesis.APIOperation, sandbox: tuple[SandboxServer, str]) -> None:
    server, token = sandbox

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, checks=_CHECKS, timeout=5
        )

    run()


def test_schemathesis_finds_a_broken_contract(tmp_path: Path) -> None:
    # The check can fail: an undocumented answer from a route is reported.
    server = SandboxServer(tmp_path / "platform", tmp_path / "items").start()
    try:
        doc = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
        doc["paths"]["/healthz"]["get"]["responses"] = {"201": {"description": "not what it answers"}}
        op = schemathesis.openapi.from_dict(doc)["/healthz"]["GET"]
        with pytest.raises(BaseExceptionGroup) as info:
            op.Case().call_and_validate(base_url=server.url, checks=[status_code_conformance], timeout=5)
        assert any("status code" in str(e) for e in info.value.exceptions)
    finally:
        server.close()
