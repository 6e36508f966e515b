"""The sandbox platform implements the contract (docs/platform-api/openapi.json): what it serves
as its OpenAPI document has the contract's operations, parameters, bodies and answers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox_platform.app import create_app
from tests.contract.schema_compare import drift, load_contract, operations


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("contract")
    app = create_app(tmp / "data", tmp / "items")
    try:
        yield app.openapi()
    finally:
        app.state.db.close()
        app.state.citizens.close()
        app.state.outbox.close()
        app.state.ratings.close()


def test_the_sandbox_serves_the_contract(served: dict[str, Any]) -> None:
    problems = drift(load_contract(), served)
    assert not problems, "the sandbox drifted from docs/platform-api/openapi.json:\n" + "\n".join(problems)


def test_the_contract_documents_auth_idempotency_errors_and_limits() -> None:
    contract = load_contract()
    schemes = contract["components"]["securitySchemes"]
    assert {"TerminalSignature", "HTTPBearer"} <= set(schemes)
    info = contract["info"]["description"]
    for topic in ("Idempotency-Key", "one-time", "Retry-After", "X-Content-SHA256", "Limits", "redirect"):
        assert topic in info, topic
    cases = contract["paths"]["/api/v1/cases"]["post"]
    assert any(p["name"].lower() == "idempotency-key" for p in cases["parameters"])
    assert {"200", "201", "409", "413", "429", "503"} <= set(cases["responses"])
    for (_method, path), op in operations(contract).items():
        if path.startswith("/api/v1/") and path != "/api/v1/terminals/enrol":
            assert {"TerminalSignature": []} in op["security"], path


@pytest.mark.parametrize(
    "mutation",
    ["drop an operation", "tighten a bound", "add a property", "change an answer", "add a query parameter"],
)
def test_drift_is_detected(served: dict[str, Any], mutation: str) -> None:
    contract = copy.deepcopy(load_contract())
    schemas = contract["components"]["schemas"]
    if mutation == "drop an operation":
        del contract["paths"]["/api/v1/packages"]["get"]
    elif mutation == "tighten a bound":
        schemas["CaseUpload"]["properties"]["case_id"]["maxLength"] = 36
    elif mutation == "add a property":
        schemas["CaseReceipt"]["properties"]["signature"] = {"type": "string"}
    elif mutation == "change an answer":
        contract["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["content"]["application/json"][
            "schema"
        ] = {"$ref": "#/components/schemas/CaseStatus"}
    else:
        contract["paths"]["/api/v1/packages"]["get"]["parameters"] = [
            {"name": "since", "in": "query", "required": False, "schema": {"type": "string"}}
        ]
    assert drift(contract, served)
