"""The checked-in OpenAPI document is the app's (regenerate: python -m sandbox_platform --write-openapi ...)."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox_platform.__main__ import OPENAPI_PATH
from sandbox_platform.app import create_app


def test_checked_in_openapi_matches_the_app(tmp_path: Path) -> None:
    app = create_app(tmp_path / "data", tmp_path / "items")
    try:
        assert json.loads(OPENAPI_PATH.read_text(encoding="utf-8")) == app.openapi(), (
            "sandbox_platform/openapi.json is stale: run "
            "`.venv/bin/python -m sandbox_platform --write-openapi sandbox_platform/openapi.json`"
        )
    finally:
        app.state.db.close()
        app.state.citizens.close()


def test_openapi_declares_the_contract() -> None:
    doc = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    paths = doc["paths"]
    for path in (
        "/api/v1/terminals/enrol",
        "/api/v1/terminals/{terminal_id}/heartbeat",
        "/api/v1/packages",
        "/api/v1/packages/{item_id}",
        "/api/v1/warning-lists",
        "/api/v1/warning-lists/{name}",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/reference-photos/{holder}",
        "/api/v1/identity/qr/verify",
        "/api/v1/elicences",
    ):
        assert path in paths, path
    params = {p["name"].lower() for p in paths["/api/v1/cases"]["post"]["parameters"]}
    assert "idempotency-key" in params
    assert paths["/api/v1/packages"]["get"]["security"] == [{"HTTPBearer": []}]
