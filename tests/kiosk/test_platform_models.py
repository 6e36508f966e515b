"""The client's request and reply models are the contract's schemas (docs/platform-api/openapi.json)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from kiosk.cases.platform_models import CONTRACT_MODELS
from tests.contract.schema_compare import load_contract, operations, resolve


def _model_schema(model: type[BaseModel]) -> Any:
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    return resolve({k: v for k, v in schema.items() if k != "$defs"}, schema)


def _contract_schema(name: str) -> Any:
    contract = load_contract()
    return resolve(contract["components"]["schemas"][name], contract)


@pytest.mark.parametrize("name", sorted(CONTRACT_MODELS))
def test_each_model_is_the_contracts_schema(name: str) -> None:
    assert _model_schema(CONTRACT_MODELS[name]) == _contract_schema(name)


def test_the_replies_the_client_reads_all_have_a_model() -> None:
    contract = load_contract()
    replies = set()
    for (_method, path), op in operations(contract).items():
        for code, answer in op["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            if code.startswith("2") and ref and path.startswith("/api/v1/"):
                replies.add(ref.rsplit("/", 1)[1])
    for union in ("QrValid", "QrInvalid"):
        replies.add(union)
    assert replies <= set(CONTRACT_MODELS), sorted(replies - set(CONTRACT_MODELS))


def test_a_model_that_drifts_is_caught() -> None:
    class CaseReceipt(BaseModel):  # one bound looser than the contract's
        case_id: str = Field(min_length=1, max_length=128)
        platform_ref: str = Field(min_length=1, max_length=64)
        received_at: float
        status: str = Field(max_length=32)

    assert _model_schema(CaseReceipt) != _contract_schema("CaseReceipt")
