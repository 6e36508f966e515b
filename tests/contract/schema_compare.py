"""Structural comparison of OpenAPI documents and JSON schemas (the platform contract's tests).

``$ref`` is resolved (sibling keys merged), annotations (titles, descriptions, examples) are
dropped, everything that constrains a value is kept: type, properties, required, items, enum,
bounds, patterns, formats, defaults, unions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "docs" / "platform-api" / "openapi.json"
_ANNOTATIONS = {"title", "description", "examples", "example", "summary", "operationId", "tags", "deprecated"}


def load_contract() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return doc


def resolve(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with every ``$ref`` into ``root`` replaced by its target and annotations removed."""
    if depth > 50:
        raise ValueError("reference cycle")
    if isinstance(node, list):
        return [resolve(v, root, depth) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = root
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return resolve(merged, root, depth + 1)
    # ``"default": null`` on an optional property says nothing a validator uses (FastAPI drops it).
    return {
        k: resolve(v, root, depth)
        for k, v in node.items()
        if k not in _ANNOTATIONS and not (k == "default" and v is None)
    }


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) → operation, the sandbox's own ``/_sandbox`` hooks left out."""
    return {
        (method.upper(), path): op
        for path, ops in doc["paths"].items()
        if not path.startswith("/_sandbox")
        for method, op in ops.items()
        if method in _HTTP_METHODS  # a path item's summary, description, x-websocket are no operations
    }


def _parameters(op: dict[str, Any], doc: dict[str, Any], where: set[str]) -> dict[str, Any]:
    out = {}
    for p in resolve(op.get("parameters", []), doc):
        if p["in"] in where:
            out[(p["in"], p["name"].lower())] = {
                "required": p.get("required", False),
                "schema": p.get("schema"),
            }
    return out


def _content(node: dict[str, Any] | None) -> dict[str, Any]:
    if not node:
        return {}
    return {media: body.get("schema") for media, body in node.get("content", {}).items()}


def drift(contract: dict[str, Any], served: dict[str, Any]) -> list[str]:
    """How ``served`` differs from ``contract`` (empty: none).  The contract may document more
    error answers than a server declares (413, 429, 503 come from layers in front of the routes)
    and more request headers (the signature headers); everything else must be the same."""
    problems: list[str] = []
    want, have = operations(contract), operations(served)
    for key in sorted(set(want) ^ set(have)):
        problems.append(
            f"{key[0]} {key[1]}: {'missing from the server' if key in want else 'not in the contract'}"
        )
    for key in sorted(set(want) & set(have)):
        label = f"{key[0]} {key[1]}"
        c_op, s_op = want[key], have[key]
        c_params = _parameters(c_op, contract, {"path", "query"})
        s_params = _parameters(s_op, served, {"path", "query"})
        if c_params != s_params:
            problems.append(f"{label}: path/query parameters differ: {c_params} != {s_params}")
        c_headers = set(_parameters(c_op, contract, {"header"}))
        s_headers = set(_parameters(s_op, served, {"header"}))
        if not s_headers <= c_headers:
            problems.append(f"{label}: headers {sorted(s_headers - c_headers)} are not in the contract")
        c_body = _content(resolve(c_op.get("requestBody"), contract))
        s_body = _content(resolve(s_op.get("requestBody"), served))
        if c_body != s_body:
            problems.append(f"{label}: request body differs: {c_body} != {s_body}")
        c_resp = {code: _content(resolve(r, contract)) for code, r in c_op["responses"].items()}
        s_resp = {code: _content(resolve(r, served)) for code, r in s_op["responses"].items()}
        for code in sorted(set(c_resp) | set(s_resp)):
            if code not in c_resp:
                problems.append(f"{label}: answers {code}, which the contract does not document")
            elif code not in s_resp:
                if code.startswith("2"):
                    problems.append(f"{label}: the contract's {code} answer is missing from the server")
            elif c_resp[code] != s_resp[code]:
                problems.append(f"{label}: answer {code} differs: {c_resp[code]} != {s_resp[code]}")
    return problems
