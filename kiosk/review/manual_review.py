"""Items reviewed by staff only (``review.mode: manual``): not every item is 秒批.

Such a package has no rules of its own; it still collects its form and materials and sends every
application to staff.  When it loads it is completed with a one-row decision table that always
answers manual ``staff_review`` and, when it has none, a golden case saying so, so that the
engine, the golden-case run and the author command treat it like any other package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: The graph a ``review.mode: manual`` package stands for: every application goes to staff.
_MANUAL_GRAPH: Mapping[str, Any] = MappingProxyType(
    {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request"},
            {
                "id": "staff",
                "type": "decisionTableNode",
                "name": "Staff review",
                "content": {
                    "hitPolicy": "first",
                    "inputs": [],
                    "outputs": [
                        {"id": "staff_outcome", "name": "Outcome", "field": "outcome"},
                        {"id": "staff_reason", "name": "Reason", "field": "reason"},
                    ],
                    "rules": [
                        {"_id": "staff_r0", "staff_outcome": '"manual"', "staff_reason": '"staff_review"'}
                    ],
                },
            },
            {"id": "response", "type": "outputNode", "name": "Response"},
        ],
        "edges": [
            {"id": "e0", "sourceId": "request", "targetId": "staff", "type": "edge"},
            {"id": "e1", "sourceId": "staff", "targetId": "response", "type": "edge"},
        ],
    }
)
_MANUAL_CASE = {
    "name": "every application goes to staff",
    "inputs": {},
    "expected_decision": "manual",
    "expected_reasons": ["staff_review"],
}


def with_manual_review(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``review.mode: manual`` package completed with the always-manual graph and its golden case."""
    if doc["review"].get("mode") != "manual":
        return doc
    review = {**doc["review"], "decision": json.loads(json.dumps(dict(_MANUAL_GRAPH)))}
    return {**doc, "review": review, "golden_cases": doc["golden_cases"] or [_MANUAL_CASE]}
