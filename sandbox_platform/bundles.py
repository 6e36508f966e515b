"""Life-event applications (一件事) as the sandbox platform records them: the cases whose payload
carries the same ``bundle.id`` form one application (kiosk/session/bundle.py builds them).

Read from the received cases (the payload in clear, or as opened when sealed): nothing is stored
twice.  ``GET /_sandbox/bundles`` (a sandbox hook, outside the platform contract) lists each
application with its items in order and each item's case id, platform reference and decision.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


def _payload(case: dict[str, Any], opened: Callable[[str], bytes | None]) -> dict[str, Any] | None:
    try:
        raw = opened(case["case_id"]) if case.get("encryption") else base64.b64decode(case["payload_b64"])
        body = json.loads(raw) if raw else None
    except (binascii.Error, ValueError, KeyError):
        return None
    return body if isinstance(body, dict) else None


def bundles(cases: list[dict[str, Any]], opened: Callable[[str], bytes | None]) -> list[dict[str, Any]]:
    """One entry per application: ``{bundle_id, life_event, items, terminal_id, cases: [...]}``."""
    found: dict[str, dict[str, Any]] = {}
    for case in cases:
        body = _payload(case, opened)
        bundle = body.get("bundle") if body else None
        if not isinstance(bundle, dict) or not isinstance(bundle.get("id"), str):
            continue
        entry = found.setdefault(
            bundle["id"],
            {
                "bundle_id": bundle["id"],
                "life_event": bundle.get("life_event"),
                "items": bundle.get("items"),
                "terminal_id": case.get("terminal_id"),
                "cases": [],
            },
        )
        decision = body.get("decision") if body else None
        entry["cases"].append(
            {
                "position": bundle.get("position"),
                "item_id": case.get("item_id"),
                "case_id": case.get("case_id"),
                "platform_ref": case.get("platform_ref"),
                "outcome": decision.get("outcome") if isinstance(decision, dict) else None,
            }
        )
    for entry in found.values():
        entry["cases"].sort(key=lambda c: c["position"] if isinstance(c["position"], int) else 0)
        entry["complete"] = [c["item_id"] for c in entry["cases"]] == entry["items"]
    return list(found.values())


def bundles_router(
    all_cases: Callable[[], list[dict[str, Any]]], opened: Callable[[str], bytes | None]
) -> APIRouter:
    router = APIRouter()

    @router.get("/_sandbox/bundles", tags=["sandbox"])
    def sandbox_bundles() -> list[dict[str, Any]]:
        return bundles(all_cases(), opened)

    return router
