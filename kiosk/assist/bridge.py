"""The session side of a remote-help call, over the session coordinator (:class:`AssistSession`).

The agent sees the chosen item, the form as the form step shows it and the thumbnails of the
captured material pages.  A field the citizen confirmed is written into the session's form, only
if that session is still the current one; a remote acceptance marks the case
(``Case.remote_acceptance``) and goes into the hash-chained audit trail with the agent's identity.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.assist.base import recording_uploader
from kiosk.assist.service import AssistService
from kiosk.assist.state import CallContext, RemoteAcceptance
from kiosk.cases.platform_client import PlatformClient
from kiosk.session.coordinator import SessionCoordinator

log = logging.getLogger(__name__)

#: At most this many material thumbnails go to the console.
MAX_PAGES = 12


class CoordinatorBridge:
    def __init__(self, coordinator: SessionCoordinator) -> None:
        self.coordinator = coordinator

    def context(self) -> CallContext:
        data = self.coordinator.data
        fields: tuple[tuple[str, str, str], ...] = ()
        if data.item_id is not None:
            try:
                fields = tuple((f.key, f.label[0], f.value) for f in self.coordinator.form.fields())
            except Exception as err:
                log.info("assist: no form to show (%s)", type(err).__name__)
        pages: list[tuple[str, bytes]] = []
        for material_type, result in data.application.materials.items():
            for i, page in enumerate(result.pages):
                if len(pages) < MAX_PAGES and page.thumb_jpeg:
                    pages.append((f"{material_type} {i + 1}", page.thumb_jpeg))
        return CallContext(data.session_id, data.item_id, fields, tuple(pages))

    def apply_field(self, session_id: str, key: str, value: str) -> bool:
        data = self.coordinator.data
        if data.session_id != session_id:
            return False
        data.application.form[key] = value
        return True

    def audit(self, event: str, details: dict[str, object]) -> None:
        self.coordinator.ctx.audit(event, details)

    def mark_remote_acceptance(self, session_id: str, acceptance: RemoteAcceptance) -> bool:
        data = self.coordinator.data
        current = data.session_id == session_id
        if current:
            data.case.remote_acceptance = {
                "decision": acceptance.decision,
                "agent_id": acceptance.agent_id,
                "agent_name": acceptance.agent_name,
                "note": acceptance.note,
            }
        self.coordinator.ctx.audit(
            "remote_acceptance",
            {
                "session": session_id,
                "decision": acceptance.decision,
                "agent_id": acceptance.agent_id,
                "agent_name": acceptance.agent_name,
                "applied": current,
            },
        )
        return current


def build_assist(
    coordinator: SessionCoordinator, client: PlatformClient, record_dir: Path
) -> AssistService | None:
    """The terminal's remote-help service (None when the platform client cannot sign: the signalling
    handshake must be signed like every terminal request)."""
    transport = client.transport
    if transport.signing_key is None:
        log.info("remote help is off: the terminal has no signing key")
        return None
    record_dir.mkdir(parents=True, exist_ok=True)
    return AssistService(
        transport.base_url,
        transport.terminal_id,
        transport.signing_key,
        coordinator.devices.camera,
        CoordinatorBridge(coordinator),
        upload=recording_uploader(transport),
        record_dir=record_dir,
    )
