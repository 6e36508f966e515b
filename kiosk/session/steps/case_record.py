"""The case as the platform receives it: the JSON body and its attachments (material pages, the
signature, the face check's best frame), referenced by attachment id."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import uuid
from typing import TYPE_CHECKING

from kiosk.config import TerminalConfig
from kiosk.documents import capture as mc
from kiosk.identity.cards import applicant_fields
from kiosk.review.applicants import parties
from kiosk.review.items import ItemPackage
from kiosk.session.bundle import BundlePlan, bundle_cases
from kiosk.session.machine import SessionData
from kiosk.session.steps.item_outputs import item_delivery
from offline_cache.store import NewAttachment

if TYPE_CHECKING:
    from kiosk.review.engine import Decision
    from kiosk.session.context import SessionContext


def case_attachments(data: SessionData) -> dict[str, NewAttachment]:
    """Material page images, the signature and the face check's best frame, uploaded in resumable
    chunks before the case body; the case references them by attachment id (and the platform by
    SHA-256)."""
    out = {
        name: NewAttachment(str(uuid.uuid4()), name, "image/jpeg", page.jpeg)
        for r in data.application.materials.values()
        for i, page in enumerate(r.pages)
        for name in (f"material:{r.material_type}:{i}",)
    }
    if data.case.signature_png:
        out["signature"] = NewAttachment(str(uuid.uuid4()), "signature", "image/png", data.case.signature_png)
    if data.identity.face is not None and data.identity.face.best_frame:
        # the best compared frame is the case's evidence of who was at the terminal
        out["face"] = NewAttachment(str(uuid.uuid4()), "face", "image/jpeg", data.identity.face.best_frame)
    return out


def case_payload(
    config: TerminalConfig,
    data: SessionData,
    pkg: ItemPackage,
    case_id: str,
    submitted_at: dt.datetime,
    attachments: dict[str, NewAttachment] | None = None,
) -> bytes:
    attachments = attachments or {}
    decision = data.application.require_decision()
    face = data.identity.face
    # the principal (or legal person) is the applicant; the one who identified here, its agent
    # (a legal person's: its legal representative, or an authorised agent with the 授权委托书)
    applying = parties(
        data.application.form,
        applicant_fields(data.identity.require_card().text),
        authorised=pkg.applicants.authorised(data.application.materials),
    )
    body = {
        "case_id": case_id,
        "case_number": data.case.case_number,  # the terminal's readable number, as printed when offline
        "terminal_id": config.terminal_id,
        "item": {"id": pkg.id, "version": pkg.version, "sha256": pkg.sha256},
        "submitted_at": submitted_at.isoformat(),
        "applicant": dict(applying.applicant),  # in person: the card's fields + document_kind, nationality
        "applicant_kind": applying.kind,
        "agent": dict(applying.agent) if applying.agent is not None else None,
        "form": data.application.form,
        "materials": [
            mc.case_record(
                r,
                [attachments[f"material:{r.material_type}:{i}"].attachment_id for i in range(len(r.pages))],
            )
            for r in data.application.materials.values()
        ],
        "identity_evidence": {
            "card_read_at": data.identity.require_card().read_at.isoformat(),
            "face_score": face.score if face is not None and math.isfinite(face.score) else None,
            "face_threshold": face.threshold if face is not None else None,
            "face_matched": face.matched if face is not None else None,
            "face_reason": face.reason.value if face is not None else None,
            "staff_assisted": data.identity.staff_assisted_identity,
            "staff_id": data.identity.staff_id,
            "identity_source": data.identity.identity_source,
            "face_reference": data.identity.face_reference,
            "face_frame_attachment": attachments["face"].attachment_id if "face" in attachments else None,
        },
        "warnings": [
            {
                "list": h.list_name,
                "version": h.list_version,
                "matched": h.matched,
                "stale": h.stale,
                "party": h.party if h.matched else None,  # whose identifier matched (代办, 法人)
            }
            for h in data.application.warnings
        ],
        "decision": decision.to_record(),
        "delivery": data.case.delivery.to_record() if data.case.delivery is not None else None,
        "queue_number": data.case.queue_number,
        "signature_attachment": attachments["signature"].attachment_id
        if "signature" in attachments
        else None,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def store_bundle(ctx: SessionContext, data: SessionData, plan: BundlePlan) -> list[str]:
    """The cases of a life event's items (一件事), stored with their outbox entries in one
    transaction; returns their case ids, the first item's first.  Each case carries the item's
    slice of the form, its own decision, its own delivery (kiosk/session/steps/item_outputs.py),
    its own copies of the attachments and the ``bundle`` object (kiosk/session/bundle.py)."""
    now = ctx.clock()
    attachments: dict[str, dict[str, NewAttachment]] = {}

    def payload_of(pkg: ItemPackage, case_id: str, form: dict[str, str], decision: Decision) -> bytes:
        attachments[case_id] = case_attachments(data)
        item = dataclasses.replace(
            data,
            application=dataclasses.replace(data.application, form=form, decision=decision),
            # the item's own delivery: the citizen's choice when it offers it for its decision
            case=dataclasses.replace(data.case, delivery=item_delivery(pkg, decision, data.case.delivery)),
        )
        return case_payload(ctx.config, item, pkg, case_id, now, attachments[case_id])

    cases = bundle_cases(plan, data.application.form, data.application.item_decisions, payload_of)
    ctx.store.cases.add_bundle(
        [(c.case_id, c.item_id, c.payload, list(attachments[c.case_id].values())) for c in cases],
        now.timestamp(),
    )
    return [c.case_id for c in cases]
