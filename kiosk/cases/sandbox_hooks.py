"""The sandbox platform's test hooks (``/_sandbox``): not part of the platform contract.

Tests and the demo use them to see what the sandbox received and to switch its faults on; the
real platform has none of these routes.  They are unauthenticated and go through the same
bounded transport as the contract's operations.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from pydantic import TypeAdapter

from kiosk.cases.platform_transport import Transport

_LIST = TypeAdapter(list[dict[str, Any]])
_OBJECT = TypeAdapter(dict[str, Any])


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class SandboxHooks:
    """``client.sandbox``: what the sandbox received, its fault mode, one-time enrolment codes."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _get(self, path: str) -> bytes:
        return self._transport.request("GET", path, auth=False).body

    def received_cases(self) -> list[dict[str, Any]]:
        """Everything the sandbox platform received (``/_sandbox/cases``)."""
        return self._transport.parse(
            self._transport.request("GET", "/_sandbox/cases", auth=False), _LIST, "cases"
        )

    def opened_case(self, case_id: str) -> bytes:
        """The case payload as the platform read it after opening the sealed fields."""
        reply = self._transport.request("GET", f"/_sandbox/cases/{_seg(case_id)}/opened", auth=False)
        return base64.b64decode(str(self._transport.parse(reply, _OBJECT, "opened case")["payload_b64"]))

    def attachment(self, case_id: str, name: str) -> bytes:
        """A case's attachment (e.g. ``face``) as the platform stored it, opened."""
        return self._get(f"/_sandbox/cases/{_seg(case_id)}/attachments/{_seg(name)}")

    def publicity(self) -> list[dict[str, Any]]:
        """Every publicity record received, revoked ones included."""
        reply = self._transport.request("GET", "/_sandbox/publicity", auth=False)
        return self._transport.parse(reply, _LIST, "publicity")

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts the sandbox platform received (``/_sandbox/alerts``)."""
        reply = self._transport.request("GET", "/_sandbox/alerts", auth=False)
        return self._transport.parse(reply, _LIST, "alerts")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Set the sandbox's fault mode (see sandbox_platform/app.py)."""
        reply = self._transport.request("POST", "/_sandbox/faults", json_body=faults, auth=False)
        return self._transport.parse(reply, _OBJECT, "faults")

    def issue_enrolment_code(self, terminal_id: str) -> str:
        """A one-time enrolment code for ``terminal_id`` (the platform's installer console, in the sandbox)."""
        reply = self._transport.request(
            "POST", "/_sandbox/enrolment-codes", json_body={"terminal_id": terminal_id}, auth=False
        )
        return str(self._transport.parse(reply, _OBJECT, "enrolment code")["code"])
