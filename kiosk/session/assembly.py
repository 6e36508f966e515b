"""Putting one terminal's session together: each step service with the devices and
collaborators it uses, around one shared :class:`~kiosk.session.context.SessionContext`."""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.cases.outbox import OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.platform_lookups import LookupPlatform
from kiosk.config import TerminalConfig
from kiosk.documents.elicence import ELicenceSource
from kiosk.documents.ocr import OcrEngine
from kiosk.identity.face import FaceVerifier, LivenessCheck
from kiosk.identity.face_prompts import FacePrompter
from kiosk.identity.qr import QrIdentityVerifier
from kiosk.outputs.records import Ledger
from kiosk.review.engine import ReviewEngine
from kiosk.review.sync import RuleSync
from kiosk.session.catalogue import Catalogue
from kiosk.session.context import Clock, SessionContext, local_now
from kiosk.session.coordinator import SessionCoordinator, Steps
from kiosk.session.machine import SessionMachine
from kiosk.session.steps.card import CardStep
from kiosk.session.steps.face import FaceStep
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.lookups import PlatformInputs
from kiosk.session.steps.materials import MaterialsStep
from kiosk.session.steps.numbers import Numbering
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.steps.rating import RatingStep
from kiosk.session.steps.review import ReviewStep
from kiosk.session.steps.submit import SubmitStep
from kiosk.session.values import Devices
from offline_cache.store import Store


def build_session(
    config: TerminalConfig,
    devices: Devices,
    store: Store,
    client: PlatformClient,
    face: FaceVerifier,
    ocr: OcrEngine,
    *,
    review: ReviewEngine | None = None,
    drainer: OutboxDrainer | None = None,
    clock: Clock = local_now,
    rulesync: RuleSync | None = None,
    ledger: Ledger | None = None,
    elicences: ELicenceSource | None = None,
    qr: QrIdentityVerifier | None = None,
    liveness: LivenessCheck | None = None,
    face_prompter: FacePrompter | None = None,
    load_cached: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
) -> SessionCoordinator:
    """The session coordinator over ``devices``; the catalogue is loaded from the offline cache
    unless ``load_cached`` is False.  ``monotonic``: the session machine's clock (step times and the
    idle limit)."""
    catalogue = Catalogue(store, rulesync)
    if load_cached:
        catalogue.load_cached()
    ctx = SessionContext(config, store, catalogue, clock=clock, machine=SessionMachine(monotonic))
    drainer = drainer or OutboxDrainer(store, client)
    numbering = Numbering(ctx)
    outputs = OutputsStep(ctx, devices.receipt_printer, devices.document_printer, drainer, numbering)
    steps = Steps(
        card=CardStep(
            ctx, devices.idcard, devices.photo_decoder, barcode=devices.barcode, qr=qr, ssc=devices.ssc_card
        ),
        face=FaceStep(ctx, devices.camera, face, client, liveness=liveness, prompter=face_prompter),
        form=FormStep(ctx),
        materials=MaterialsStep(ctx, devices.document_camera, ocr, elicences=elicences),
        review=ReviewStep(
            ctx, review, PlatformInputs(LookupPlatform(client), config.session.lookup_timeout_s)
        ),
        submission=SubmitStep(ctx, drainer, outputs, numbering, ledger=ledger),
        outputs=outputs,
        rating=RatingStep(ctx),
    )
    return SessionCoordinator(ctx, devices, steps)
