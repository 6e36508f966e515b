"""Drain the one outbox to the platform, exactly once per entry (R-UPLOAD, R-OFFLINE).

Cases are written to the store together with their outbox entry (one transaction); publicity
records, their revocations and late attachments (the certificate PDF) are entries of the same
queue (``store.outbox``, one state machine: pending, in flight, acknowledged, dead letter).
:class:`OutboxDrainer` claims what is due and sends each entry with its idempotency key (the case
id for a case, the job id otherwise), so re-sending after a lost answer or a crash between upload
and acknowledgement is harmless: the platform replays its original acknowledgement.

One retry policy for every kind (:class:`Backoff`):

* platform unavailable (no network, timeout, 5xx, 429): the entry is retried later with
  exponential backoff and jitter, never sooner than the platform's ``Retry-After`` but never
  later than ``Backoff.retry_after_max_s`` (a reply asking for a year, or ``inf``, does not park
  an entry for ever); the rest of the round waits for the next one;
* token refused (401/403): retried likewise (re-enrolment is staff's job);
* request rejected (other 4xx) or conflict (409), or a job this build cannot send: the entry is
  dead-lettered for hall staff (who requeue it through ``store.outbox.requeue``), the round goes on.

A case's attachments (page images, signature) are uploaded first, in resumable chunks
(:class:`kiosk.cases.uploads.AttachmentUploader`), then the body that references them; with a
``cipher`` (the field key agreed with the platform) body and attachments travel sealed.  Cases
come before other jobs in a round; a revocation waits until its publication is acknowledged.
The submitter learns of the acknowledgement from :meth:`OutboxDrainer.wait_acknowledged`, woken
by the commit that records it.  docs/uploads.md describes the protocol.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.cases.crypto import FieldCipher
from kiosk.cases.platform_client import (
    PlatformClient,
    PlatformConflict,
    PlatformError,
    PlatformRejected,
    PlatformUnauthorized,
    PlatformUnavailable,
)
from kiosk.cases.uploads import AttachmentUploader
from offline_cache.store import (
    InvalidTransitionError,
    OutboxEntry,
    StorageEnvironmentError,
    Store,
    StoredAttachment,
)

log = logging.getLogger(__name__)

#: Outbox entry kinds besides cases (``offline_cache.outbox.KIND_CASE``).  Values are stable identifiers.
JOB_PUBLICITY = "publicity"  # POST /api/v1/publicity
JOB_PUBLICITY_REVOKE = "publicity_revoke"  # POST /api/v1/publicity/{id}/revoke
JOB_ATTACHMENT = "attachment"  # a late attachment of a case (the certificate PDF)
JOB_RATING = "rating"  # POST /api/v1/ratings (好差评, kiosk/session/steps/rating.py)
JOB_ALERT = "alert"  # POST /api/v1/terminals/{id}/alerts (kiosk/maintenance/alerts.py)
JOB_REPRINT = "reprint"  # POST /api/v1/reprints, a record not sent after printing (kiosk/hall/reprint.py)


def _platform_outcome(err: PlatformError, what: str) -> tuple[bool, str, float | None]:
    """What a platform error means for an outbox entry: (dead-letter it?, reason recorded,
    Retry-After).  4xx other than 401/403/409/429 are final; a 409 conflict needs staff too;
    refused credentials, unavailability and unreadable answers are tried again later."""
    if isinstance(err, PlatformUnauthorized):
        # The platform's own reason (a clock off by more than its window, a revoked terminal, an
        # unknown key) is kept on the entry: staff see why, not only "HTTP 401".
        reason = f": {err.reason[:300]}" if err.reason else ""
        log.error("outbox: the platform refused the terminal's credentials (HTTP %s%s)", err.status, reason)
        return False, f"unauthorized: HTTP {err.status}{reason}", None
    if isinstance(err, PlatformRejected):
        log.error("outbox: platform rejected %s (HTTP %s); dead-lettered", what, err.status)
        return True, f"rejected: HTTP {err.status}: {(err.reason or err.body)[:500]}", None
    if isinstance(err, PlatformConflict):
        log.error("outbox: platform reports a conflict for %s; dead-lettered", what)
        return True, f"conflict: HTTP 409: {err.body[:500]}", None
    if isinstance(err, PlatformUnavailable):
        return False, f"unavailable: {err}", err.retry_after
    return False, f"{type(err).__name__}: {err}", None  # e.g. an unreadable answer: try later


_SENT = "sent"
_DEAD = "dead"
_SETTLED = "settled"


@dataclass
class _Tally:
    attempted: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class Backoff:
    """The one retry policy: after ``n`` failed attempts wait ``base * factor**n`` (capped at
    ``max_s``, jittered), or the platform's ``Retry-After`` when longer, capped at
    ``retry_after_max_s``."""

    base_s: float = 5.0
    factor: float = 2.0
    max_s: float = 900.0
    jitter: float = 0.5  # the delay is drawn from [d * (1 - jitter), d]
    retry_after_max_s: float = 3600.0

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        d = min(self.max_s, self.base_s * self.factor ** max(0, failed_attempts))
        return d * (1.0 - self.jitter) + rng.uniform(0.0, d * self.jitter)

    def next_delay(self, failed_attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds until the next attempt; a ``Retry-After`` that is not a finite number of seconds
        (``inf``, ``nan``) counts as the cap."""
        delay = self.delay(failed_attempts, rng)
        if retry_after is None:
            return delay
        if not math.isfinite(retry_after):
            retry_after = self.retry_after_max_s
        return max(delay, min(max(retry_after, 0.0), self.retry_after_max_s))


@dataclass(frozen=True)
class DrainReport:
    attempted: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    stopped_early: bool = False  # the platform or the disk stopped the batch
    error: str | None = None  # why it stopped (no personal data)


class OutboxDrainer:
    """Uploads due outbox entries; ``drain_once`` by hand or ``start`` a background thread."""

    def __init__(
        self,
        store: Store,
        client: PlatformClient,
        clock: Callable[[], float] = time.time,
        *,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        batch_size: int = 20,
        on_report: Callable[[DrainReport], None] | None = None,
        cipher: Callable[[], FieldCipher] | None = None,
        uploader: AttachmentUploader | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()
        self.batch_size = batch_size
        self.on_report = on_report
        self.last_report: DrainReport | None = None
        self._drain_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume_at = 0.0  # after a failed round the background thread pauses until then
        self._recover = True  # put entries left in flight back in the queue before the next claim
        #: The field cipher agreed with the platform (``FieldKeyring.cipher``): with it, case bodies and
        #: attachments travel sealed; it raises PlatformError while the key cannot be agreed (the
        #: entry waits).  None: payloads travel as stored (tests and tools).
        self.cipher = cipher
        self.uploader = uploader or AttachmentUploader(store, client, cipher or (lambda: None), clock=clock)

    # ------------------------------------------------------------------ one round

    def drain_once(self, max_cases: int | None = None) -> DrainReport:
        """Try every due entry (at most ``max_cases``) once.  Safe to call from any thread."""
        with self._drain_lock:
            report = self._drain(self.batch_size if max_cases is None else max_cases)
        self.last_report = report
        if self.on_report is not None:
            self.on_report(report)
        return report

    def _drain(self, limit: int) -> DrainReport:
        tally = _Tally()
        outbox = self.store.outbox
        try:
            if self._recover:
                # Entries a previous process (or a failed release) left in flight: their send may or
                # may not have reached the platform; the same key makes sending them again safe.
                outbox.recover_in_flight()
                self._recover = False
            entries = outbox.claim(limit, self.clock())
        except StorageEnvironmentError as err:
            log.error("outbox: cannot read the queue: %s", err)
            return DrainReport(stopped_early=True, error=str(err))
        stopped: str | None = None
        for i, entry in enumerate(entries):
            tally.attempted += 1
            try:
                outcome = self._send(entry)
            except StorageEnvironmentError as err:
                # The upload may have gone through; the entry stays in flight and the next round
                # puts it back and re-sends it with the same key, which the platform de-duplicates.
                log.error("outbox: cannot record the outcome of %s: %s", self._name(entry), err)
                self._recover = True
                stopped = str(err)
            else:
                if outcome == _SENT:
                    tally.sent += 1
                    continue
                if outcome == _DEAD:
                    tally.dead += 1
                    continue
                if outcome == _SETTLED:
                    continue
                tally.retried += 1
                stopped = outcome
            self._release(entries[i + 1 :])
            break
        if stopped is None:
            return DrainReport(tally.attempted, tally.sent, tally.retried, tally.dead)
        return DrainReport(tally.attempted, tally.sent, tally.retried, tally.dead, True, stopped)

    def _release(self, rest: list[OutboxEntry]) -> None:
        """Claimed entries the round did not try go back to pending (or at the next round)."""
        try:
            self.store.outbox.release([e.entry_id for e in rest])
        except StorageEnvironmentError as err:
            log.error("outbox: cannot release %d claimed entries: %s", len(rest), err)
            self._recover = True

    @staticmethod
    def _name(entry: OutboxEntry) -> str:
        return f"case {entry.entry_id}" if entry.is_case else f"job {entry.entry_id} ({entry.kind})"

    def _send(self, entry: OutboxEntry) -> str:
        """Send one entry and record the outcome: ``_SENT``, ``_DEAD``, ``_SETTLED`` or the retry reason."""
        try:
            return self._attempt(entry)
        except InvalidTransitionError as err:
            # Settled meanwhile by someone else on the same store (a second drainer, a tool): the
            # key made the second send harmless; the entry keeps the state it reached first.
            log.warning("outbox: %s was settled meanwhile (%s)", self._name(entry), err)
            return _SETTLED

    def _attempt(self, entry: OutboxEntry) -> str:
        try:
            ack = self._send_case(entry) if entry.is_case else self._send_job(entry)
        except (ValueError, KeyError, TypeError) as err:  # a job this build cannot send: staff look at it
            log.error("outbox: %s cannot be sent: %s; dead-lettered", self._name(entry), err)
            self.store.outbox.dead_letter(entry.entry_id, f"invalid job: {type(err).__name__}")
            return _DEAD
        except PlatformError as err:
            dead, reason, retry_after = _platform_outcome(err, self._name(entry))
            if dead:
                self.store.outbox.dead_letter(entry.entry_id, reason)
                return _DEAD
            return self._retry(entry, reason, retry_after)
        self.store.outbox.acknowledge(entry.entry_id, ack, self.clock())
        return _SENT

    def _send_case(self, entry: OutboxEntry) -> bytes:
        """Attachments first (resumable), then the case body referencing them, sealed when agreed."""
        attachments = self._case_attachments(entry.entry_id)
        for attachment in attachments:
            self.uploader.upload(attachment)
        refs = self.uploader.refs_of(attachments)
        item_id = entry.item_id or ""
        if self.cipher is None:
            return self.client.upload_case(entry.entry_id, item_id, entry.payload, attachments=refs).raw
        cipher = self.cipher()
        return self.client.upload_case(
            entry.entry_id,
            item_id,
            cipher.seal_deterministic(entry.payload, entry.entry_id),
            attachments=refs,
            encryption=cipher.algorithm.value,
        ).raw

    def _case_attachments(self, case_id: str) -> list[StoredAttachment]:
        """The attachments stored with the case: its body references exactly these.  A late one (the
        certificate PDF, added with its own job while the case may be on its way) is left to its job:
        were it referenced, a body re-sent after a lost answer would differ from the first (refused
        as a reused key), and one added between the uploads and the body would be referenced before
        it was uploaded (refused as incomplete).  The attachments are read before the jobs: a late
        attachment and its job are committed together, so one seen here has its job seen below."""
        attachments = self.store.attachments.for_case(case_id)
        late: set[str] = set()
        for job in self.store.outbox.entries(kind=JOB_ATTACHMENT, case_id=case_id):
            try:
                late.add(str(json.loads(job.payload)["attachment_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return [a for a in attachments if a.attachment_id not in late]

    def _send_job(self, job: OutboxEntry) -> bytes:
        if job.kind == JOB_PUBLICITY:
            return self.client.post_publicity(job.entry_id, job.payload)
        if job.kind == JOB_PUBLICITY_REVOKE:
            spec = json.loads(job.payload)
            body = json.dumps(
                {"reason": spec["reason"], "revoked_at": spec["revoked_at"]},
                ensure_ascii=False,
                sort_keys=True,
            ).encode("utf-8")
            return self.client.revoke_publicity(job.entry_id, str(spec["publicity_id"]), body)
        if job.kind in (JOB_RATING, JOB_ALERT, JOB_REPRINT):
            return self.client.post_queued(job.kind, job.entry_id, job.payload)
        if job.kind == JOB_ATTACHMENT:
            attachment_id = str(json.loads(job.payload)["attachment_id"])
            attachment = self.store.attachments.get(attachment_id)
            if attachment is None:
                raise ValueError(f"job {job.entry_id} names an unknown attachment")
            self.uploader.upload(attachment)
            return json.dumps({"attachment_id": attachment_id, "uploaded": True}).encode("ascii")
        raise ValueError(f"unknown job kind {job.kind!r}")

    def _retry(self, entry: OutboxEntry, reason: str, retry_after: float | None) -> str:
        delay = self.backoff.next_delay(entry.attempts, self.rng, retry_after)
        self._resume_at = self.clock() + delay
        self.store.outbox.retry(entry.entry_id, reason, self._resume_at)
        log.warning(
            "outbox: %s not sent (%s); attempt %d, next in %.1f s",
            self._name(entry),
            reason,
            entry.attempts + 1,
            delay,
        )
        return reason

    # ------------------------------------------------------------------ background thread

    def wait_acknowledged(self, case_id: str, timeout_s: float) -> bool:
        """Whether the platform acknowledged the case within ``timeout_s``: True at once when it
        already had; else woken by the commit that records the acknowledgement (nothing polls).
        False when the time ran out or the case was dead-lettered."""
        return self.store.outbox.wait_acknowledged(case_id, timeout_s)

    def start(self, interval_s: float = 30.0) -> None:
        """Drain every ``interval_s`` (sooner when a retry falls due or on :meth:`kick`)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="outbox-drainer", daemon=True
        )
        self._thread.start()

    def kick(self) -> None:
        """Wake the background thread now (call after adding a case)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("outbox drainer did not stop within %s s", timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            report: DrainReport | None = None
            try:
                report = self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
            wait = interval_s
            if report is not None and report.stopped_early:
                # The platform (or the disk) is in trouble: don't hammer it with the rest of the queue.
                wait = min(interval_s, max(0.05, self._resume_at - self.clock()))
            elif report is not None:
                try:
                    due = self.store.outbox.next_due_at()
                except Exception:
                    log.exception("outbox: cannot read the next due time")
                    due = None
                if due is not None:
                    wait = min(interval_s, max(0.05, due - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()
