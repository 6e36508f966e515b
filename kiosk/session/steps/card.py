"""The identity step: the ID card, an e-ID / government-app QR code or the social security card
instead of it (where the item accepts them: ``identity.carriers``), or hall staff.

A card still lying on the reader from an earlier session is not taken for this session's placement
(the next citizen would get the previous one's identity): the service remembers a keyed digest of
the last card accepted until the reader has seen no card.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from devices.base import DeviceError
from devices.interfaces import (
    BarcodeReader,
    IdCardRead,
    IdCardReader,
    IdCardText,
    PhotoDecoder,
    SocialSecurityCardReader,
)
from kiosk import logsetup
from kiosk.i18n import tr
from kiosk.identity.cards import (
    NUMBER_PROBLEMS,
    CardCheck,
    CardProblem,
    birth_date_from_id,
    check_card,
    mask_id_number,
    sensitive_values,
)
from kiosk.identity.qr import QrIdentity, QrIdentityVerifier, QrRefusal, QrVerification
from kiosk.identity.ssc import E_ID_QR, SSC, ssc_card_read
from kiosk.images import decode_card_photo
from kiosk.review.items import DEFAULT_CARRIERS, ItemPackage
from kiosk.session.context import SessionContext
from kiosk.session.events import CardAccepted, CardNotLifted, CardRefused, CardWaiting, QrRefused
from kiosk.session.machine import SessionData, Step

log = logging.getLogger(__name__)


class CardStep:
    """Reads the identity that the face check then compares with the person at the terminal."""

    def __init__(
        self,
        ctx: SessionContext,
        reader: IdCardReader,
        photo_decoder: PhotoDecoder,
        *,
        barcode: BarcodeReader | None = None,
        qr: QrIdentityVerifier | None = None,
        ssc: SocialSecurityCardReader | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self._monotonic = monotonic
        self.reader = reader
        self.photo_decoder = photo_decoder
        self.barcode = barcode
        self.qr = qr
        self.ssc = ssc  # the social security card reader (PC/SC), for items that accept the card
        self._ssc_refused = False  # the card on the SSC reader was refused (until it leaves)
        self._card_key = secrets.token_bytes(32)
        self._unlifted_card: bytes | None = None
        self._lift_watch: threading.Thread | None = None
        self._card_lock = threading.Lock()
        self._closing = threading.Event()

    # ------------------------------------------------------------------ the ID card
    def read(self) -> IdCardRead | None:
        """Wait for the ID card and read it.  On success the session moves to the face check.

        Keeps listening until the citizen cancels, the idle limit ends the session or the step
        changes (no deadline of its own): every ``card_timeout_s`` without a card it publishes a
        reminder (:class:`CardWaiting`).  A card that fails the card checks (expired, not yet valid,
        a wrong number) is refused here with what to do next (:class:`CardRefused`), and the step
        goes on listening for another card.  Returns ``None`` when cancelled or the step ended;
        failures land in DEVICE_PROBLEM."""
        ctx = self.ctx
        data = ctx.data
        started = self._monotonic()
        remind_every = ctx.config.session.card_timeout_s
        next_reminder = started + remind_every
        ctx.cancelled.clear()
        asked = False
        refused: bytes | None = None  # the card refused in this wait, until it leaves the reader
        while not ctx.cancelled.is_set() and not self._closing.is_set():
            if ctx.machine.step is not Step.READ_CARD or ctx.data is not data:
                return None
            now = self._monotonic()
            if now >= next_reminder:
                next_reminder = now + remind_every
                ctx.publish(CardWaiting(now - started))
            try:
                read = self.reader.read_card(timeout=0.5)
            except DeviceError as err:
                ctx.device_problem("idcard", err, retry=Step.READ_CARD, data=data)
                return None
            source = "card"
            if read is None and self.ssc_accepted:
                read, source = self._read_ssc(data), "ssc"
            if read is None:
                self._unlifted_card = None  # the reader saw no card: whatever comes next is placed anew
                refused = None
                continue
            digest = self._card_digest(read)
            if refused == digest:
                ctx.cancelled.wait(0.3)
                continue
            if self._unlifted_card is not None and digest == self._unlifted_card:
                # The card of an earlier session, never lifted since (left behind, or the session
                # was cancelled): ask for it to be lifted and placed again; read nothing from it.
                if not asked:
                    asked = True
                    ctx.audit("card_read", {"session": data.session_id, "refused": "not_lifted"})
                    ctx.publish(CardNotLifted())
                ctx.cancelled.wait(0.3)
                continue
            check = check_card(read.text, ctx.clock().date())
            if not check.ok:
                refused = digest
                self._refuse_card(data, check)
                continue
            return self._accept_card(read, source)
        return None

    # ------------------------------------------------------------------ the social security card
    def _carriers(self) -> tuple[str, ...]:
        data = self.ctx.data
        return self.ctx.package(data).carriers if data.item_id else DEFAULT_CARRIERS

    @property
    def ssc_accepted(self) -> bool:
        """The item accepts the social security card and the terminal has its reader."""
        return self.ssc is not None and SSC in self._carriers()

    def _read_ssc(self, data: SessionData) -> IdCardRead | None:
        """A social security card on its reader, as an identity; None without one (or another card)."""
        assert self.ssc is not None
        try:
            info = self.ssc.read_card(timeout=0.0)
        except DeviceError as err:  # another card, a locked card, a reader fault: the ID card still works
            if not self._ssc_refused:  # said once per placement, not on every poll
                self._ssc_refused = True
                log.warning("social security card not read: %s", type(err).__name__)
                self.ctx.audit(
                    "card_read", {"session": data.session_id, "refused": f"ssc:{type(err).__name__}"}
                )
                message = (tr("citizen.card.ssc_unreadable", "zh"), tr("citizen.card.ssc_unreadable", "en"))
                self.ctx.publish(CardRefused(("ssc_unreadable",), message, "citizen.card.advice_ssc"))
            return None
        self._ssc_refused = False
        return None if info is None else ssc_card_read(info, self.ctx.clock())

    def _refuse_card(self, data: SessionData, check: CardCheck) -> None:
        """The card read but cannot serve as identity: say why and what to do next, at once."""
        problems = tuple(p.value for p in check.problems)
        self.ctx.touch()
        self.ctx.audit("card_read", {"session": data.session_id, "refused": ",".join(problems)})
        zh, en = "；".join(check.messages("zh")), "; ".join(check.messages("en"))
        self.ctx.publish(CardRefused(problems, (zh, en), card_advice_key(check.problems)))

    @property
    def awaiting_lift(self) -> bool:
        """A card accepted earlier has not been seen lifted yet (it would not be read again)."""
        return self._unlifted_card is not None

    def _card_digest(self, read: IdCardRead) -> bytes:
        return hmac.new(self._card_key, read.text.id_number.encode("utf-8"), hashlib.sha256).digest()

    def _watch_card_lift(self) -> None:
        """Once a card is accepted, watch (find-card only, every ``session.card_lift_poll_s``, 0.5 s
        by default) until it leaves the reader, so a citizen who takes the card and places it again
        between sessions is read at once.  Not while a session reads cards itself (READ_CARD); only with a reader that can tell
        presence (``card_present``); otherwise the next READ_CARD notices the lift."""
        present: Callable[[], bool] | None = getattr(self.reader, "card_present", None)
        if present is None or (self._lift_watch is not None and self._lift_watch.is_alive()):
            return

        poll_s = self.ctx.config.session.card_lift_poll_s

        def watch() -> None:
            while self._unlifted_card is not None and not self._closing.wait(poll_s):
                if self.ctx.machine.step is Step.READ_CARD:
                    continue
                watched = self._unlifted_card
                try:
                    lifted = not present()
                except DeviceError:
                    continue  # the reader's own problems surface where it is used
                with self._card_lock:
                    if lifted and self._unlifted_card == watched:
                        self._unlifted_card = None

        self._lift_watch = threading.Thread(target=watch, name="card-lift", daemon=True)
        self._lift_watch.start()

    def _accept_card(self, read: IdCardRead, source: str = "card") -> IdCardRead:
        ctx = self.ctx
        data = ctx.data
        data.identity.card = read
        with self._card_lock:
            self._unlifted_card = self._card_digest(read)
        self._watch_card_lift()
        logsetup.register_sensitive(*sensitive_values(read.text))
        # bounded: a photo block declaring a huge image is refused before the decoder runs
        # the social security card has no photo to read: the face check uses the platform's reference
        data.identity.card_photo = (
            decode_card_photo(read.photo_raw, self.photo_decoder.decode) if source == "card" else None
        )
        data.identity.identity_source, data.identity.face_reference = source, None
        ctx.touch()
        details: dict[str, object] = {"session": data.session_id, "id": mask_id_number(read.text.id_number)}
        ctx.audit("card_read", details if source == "card" else {**details, "source": source})
        ctx.publish(CardAccepted(read, source))
        ctx.go(Step.FACE_CHECK, session=data)
        return read

    # ------------------------------------------------------------------ QR identity
    @property
    def qr_available(self) -> bool:
        """A QR identity can be scanned here (a barcode reader and a verifier are configured)."""
        return self.qr is not None and self.barcode is not None and E_ID_QR in self._carriers()

    def identify_by_qr(self, timeout_s: float | None = None) -> QrVerification | None:
        """Identity from an e-ID / government-app QR code instead of the ID card.

        Waits for a code on the barcode reader (``timeout_s``, default the card timeout), has the
        platform verify it and, when valid, goes on like a card read without a card photo (the face
        check then uses the platform's reference photo).  A refusal is returned and published as
        :class:`QrRefused` while the step stays on the card; ``None`` when cancelled, timed out, the
        session moved on, or no reader/verifier is configured."""
        ctx = self.ctx
        data = ctx.data
        reader = self.barcode
        if self.qr is None or reader is None:
            log.warning("QR identity asked for, but no barcode reader or verifier is configured")
            return None
        if E_ID_QR not in self._carriers():
            log.warning("QR identity asked for, but item %s does not accept it", data.item_id)
            return None
        wait = ctx.config.session.card_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + wait
        ctx.cancelled.clear()
        while time.monotonic() < deadline and not ctx.cancelled.is_set():
            if ctx.machine.step is not Step.READ_CARD or ctx.data is not data:
                return None
            try:
                code = reader.read_code(timeout=0.5)
            except DeviceError as err:
                # The card still works: say so instead of taking the terminal out of service.
                log.warning("barcode reader failed during QR identity: %s", err)
                return self._qr_refused(data, QrVerification(None, QrRefusal.PLATFORM_UNAVAILABLE))
            if code is None:
                continue
            verification = self.qr.verify(code)
            if ctx.data is not data:
                return None
            if verification.identity is None:
                return self._qr_refused(data, verification)
            self._accept_qr(data, verification.identity)
            return verification
        return None

    def _qr_refused(self, data: SessionData, verification: QrVerification) -> QrVerification:
        refusal = verification.refusal.value if verification.refusal is not None else "unknown"
        self.ctx.audit("qr_identity", {"session": data.session_id, "refused": refusal})
        self.ctx.touch()
        self.ctx.publish(QrRefused(verification))
        return verification

    def _accept_qr(self, data: SessionData, identity: QrIdentity) -> None:
        ctx = self.ctx
        number = identity.id_number.upper()
        today = ctx.clock().date()
        # What the code vouches for is the name and number; birth date and sex follow from the
        # number (GB 11643).  The platform verified the identity now, so it stands in for the
        # card's validity period; the address is typed on the form (see FormStep.fields).
        text = IdCardText(
            name=identity.name,
            sex="1" if int(number[16]) % 2 else "2",
            nation="",
            birth_date=birth_date_from_id(number),
            address="",
            id_number=number,
            authority="",
            valid_from=today,
            valid_until=None,
        )
        card = IdCardRead(text=text, photo_raw=b"", read_at=ctx.clock())
        data.identity.card = card
        data.identity.card_photo = None
        data.identity.identity_source, data.identity.face_reference = "qr", None
        logsetup.register_sensitive(identity.name)
        ctx.touch()
        ctx.audit(
            "card_read",
            {"session": data.session_id, "id": mask_id_number(number), "source": f"qr:{identity.source}"},
        )
        ctx.publish(CardAccepted(card, "qr"))
        ctx.go(Step.FACE_CHECK, session=data)

    def close(self) -> None:
        self._closing.set()


def card_advice_key(problems: tuple[CardProblem, ...]) -> str:
    """The i18n key of what a citizen whose card was refused does next."""
    if NUMBER_PROBLEMS.intersection(problems):
        return "citizen.card.advice_number"  # the card itself is faulty: the public security office
    if CardProblem.EXPIRED in problems:
        return "citizen.card.advice_expired"  # a valid card or temporary ID card; renew at the police
    return "citizen.card.advice_not_yet_valid"


def complete_qr_identity(data: SessionData, pkg: ItemPackage, values: Mapping[str, str]) -> None:
    """The address a QR identity lacks, as the citizen typed it, joins the identity (case, outputs)."""
    typed = next((values.get(f.key, "").strip() for f in pkg.form if f.source == "idcard.address"), "")
    card = data.identity.card
    if typed and card is not None and isinstance(card.text, IdCardText) and not card.text.address:
        logsetup.register_sensitive(typed)
        data.identity.card = dataclasses.replace(card, text=dataclasses.replace(card.text, address=typed))
