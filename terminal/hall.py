"""The hall services of a built terminal (composition): the platform's hall API over the terminal's
signed client, the session's receipt printer, ID card reader, camera, face check and certificate
printer, the local ticket counter and the audit trail."""

from __future__ import annotations

import time

from kiosk.cases.outbox import JOB_REPRINT
from kiosk.cases.platform_hall import HallPlatform
from kiosk.cases.platform_reprint import ReprintPlatform
from kiosk.hall import HallServices
from kiosk.hall.identity import HallIdentity
from kiosk.hall.reprint import ReprintService
from terminal.runtime import Terminal
from ui.facade_hall import HallFacade


def hall_services(terminal: Terminal) -> HallServices:
    devices = terminal.session.devices
    config = terminal.config
    hall = HallPlatform(terminal.client)
    audit = terminal.store.audit_trail.append

    def queue_reprint_record(key: str, body: bytes) -> None:
        terminal.store.outbox.add(key, JOB_REPRINT, body, time.time())
        terminal.drainer.kick()

    face = terminal.session.face
    identity = HallIdentity(
        devices.idcard,
        devices.photo_decoder,
        devices.camera,
        face.verifier,
        liveness=face.liveness,
        face_timeout_s=config.session.face_timeout_s,
        audit=audit,
    )
    reprints = ReprintService(
        ReprintPlatform(terminal.client),
        hall,
        devices.receipt_printer,
        devices.document_printer,
        hall_name=config.ui.hall_name,
        terminal_id=config.terminal_id,
        progress_base=config.ui.progress_url_base,
        audit=audit,
        queue=queue_reprint_record,
    )
    return HallServices(
        hall,
        devices.receipt_printer,
        hall_name=config.ui.hall_name,
        terminal_id=config.terminal_id,
        counter_path=terminal.workdir / "hall" / "local-tickets.json",
        card_reader=devices.idcard,
        identity=identity,
        reprints=reprints,
    )


def hall_facade(terminal: Terminal) -> HallFacade:
    return HallFacade(hall_services(terminal))
