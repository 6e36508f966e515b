"""Drain the local outbox to the platform, exactly once per case (R-UPLOAD, R-OFFLINE).

Cases are written to the store together with their outbox entry (one
transaction).  :class:`OutboxDrainer` uploads due entries one by one with the
case id as idempotency key, so re-sending after a lost answer or a crash
between upload and ``mark_sent`` is harmless: the platform replays its
original acknowledgement.

* platform unavailable (no network, timeout, 5xx, 429): the entry is retried
  later with exponential backoff and jitter, never sooner than the platform's
  ``Retry-After``; the rest of the batch waits for the next round;
* token refused (401/403): retried likewise (re-enrolment is staff's job);
* request rejected (other 4xx) or conflict (409): the entry is dead-lettered
  for hall staff, the batch goes on.

A case's attachments (page images, signature) are uploaded first, in resumable
chunks (:class:`kiosk.cases.uploads.AttachmentUploader`), then the body that references
them; with a ``cipher`` (the field key agreed with the platform) body and
attachments travel sealed.  After the cases come the other jobs of the store's
``jobs`` table, each with its own idempotency key: publicity records, their
revocations (only after the publication was sent) and late attachments such as the
certificate PDF.  docs/uploads.md describes the protocol.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from kiosk.cases.crypto import FieldCipher
from kiosk.cases.platform_client import (
    PlatformClient,
    PlatformConflict,
    PlatformError,
    PlatformRejected,
    PlatformUnauthorized,
    PlatformUnavailable,
    UploadAck,
)
from kiosk.cases.uploads import AttachmentUploader
from offline_cache.store import OutboxEntry, OutboxJob, OutboxState, StorageEnvironmentError, Store

log = logging.getLogger(__name__)

#: Job kinds besides cases (the store's ``jobs`` table).  Values are stable identifiers.
JOB_PUBLICITY = "publicity"  # POST /api/v1/publicity
JOB_PUBLICITY_REVOKE = "publicity_revoke"  # POST /api/v1/publicity/{id}/revoke
JOB_ATTACHMENT = "attachment"  # a late attachment of a case (the certificate PDF)


def _earliest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


_Item = TypeVar("_Item", OutboxEntry, OutboxJob)


def _platform_outcome(err: PlatformError, what: str) -> tuple[bool, str, float | None]:
    """What a platform error means for an outbox entry: (dead-letter it?, reason recorded,
    Retry-After).  4xx other than 401/403/409/429 are final; a 409 conflict needs staff too;
    refused credentials, unavailability and unreadable answers are tried again later."""
    if isinstance(err, PlatformUnauthorized):
        log.error(
            "outbox: the platform refused the terminal's credentials (HTTP %s); re-enrolment needed",
            err.status,
        )
        return False, f"unauthorized: HTTP {err.status}", None
    if isinstance(err, PlatformRejected):
        log.error("outbox: platform rejected %s (HTTP %s); dead-lettered", what, err.status)
        return True, f"rejected: HTTP {err.status}: {err.body[:500]}", None
    if isinstance(err, PlatformConflict):
        log.error("outbox: platform reports a conflict for %s; dead-lettered", what)
        return True, f"conflict: HTTP 409: {err.body[:500]}", None
    if isinstance(err, PlatformUnavailable):
        return False, f"unavailable: {err}", err.retry_after
    return False, f"{type(err).__name__}: {err}", None  # e.g. an unreadable answer: try later


@dataclass
class _Tally:
    attempted: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n + 1`` after ``n`` failed attempts: ``base * factor**n``, capped, jittered."""

    base_s: float = 5.0
    factor: float = 2.0
    max_s: float = 900.0
    jitter: float = 0.5  # the delay is drawn from [d * (1 - jitter), d]

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        d = min(self.max_s, self.base_s * self.factor ** max(0, failed_attempts))
        return d * (1.0 - self.jitter) + rng.uniform(0.0, d * self.jitter)


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

    def _drain(self, max_cases: int) -> DrainReport:
        tally = _Tally()
        # Cases first, then the other jobs (publicity records, revocations, late attachments).
        stopped = self._drain_queue(
            "case", self.store.pending_outbox, self._upload, lambda e: e.case_id, max_cases, tally
        )
        if stopped is None:
            stopped = self._drain_queue(
                "job", self.store.pending_jobs, self._run_job, lambda j: j.job_id, max_cases, tally
            )
        if stopped is None:
            return DrainReport(tally.attempted, tally.sent, tally.retried, tally.dead)
        return DrainReport(tally.attempted, tally.sent, tally.retried, tally.dead, True, stopped)

    def _drain_queue(
        self,
        what: str,
        read: Callable[[int, float], Sequence[_Item]],
        send: Callable[[_Item], str],
        ident: Callable[[_Item], str],
        limit: int,
        tally: _Tally,
    ) -> str | None:
        """Send what is due in one queue; the reason to stop this round, or None to go on."""
        try:
            items = read(limit, self.clock())
        except StorageEnvironmentError as err:
            log.error("outbox: cannot read the %s queue: %s", what, err)
            return str(err)
        for item in items:
            tally.attempted += 1
            try:
                outcome = send(item)
            except StorageEnvironmentError as err:
                # The upload may have gone through; the entry stays pending and the next
                # round re-sends it with the same key, which the platform de-duplicates.
                log.error("outbox: cannot record the outcome of %s %s: %s", what, ident(item), err)
                return str(err)
            if outcome == "sent":
                tally.sent += 1
            elif outcome == "dead":
                tally.dead += 1
            else:
                tally.retried += 1
                return outcome
        return None

    def _send_case(self, entry: OutboxEntry) -> UploadAck:
        """Attachments first (resumable), then the case body referencing them, sealed when agreed."""
        for attachment in self.store.case_attachments(entry.case_id):
            self.uploader.upload(attachment)
        refs = self.uploader.refs(entry.case_id)
        if self.cipher is None:
            return self.client.upload_case(entry.case_id, entry.item_id, entry.payload, attachments=refs)
        cipher = self.cipher()
        return self.client.upload_case(
            entry.case_id,
            entry.item_id,
            cipher.seal_deterministic(entry.payload, entry.case_id),
            attachments=refs,
            encryption=cipher.algorithm.value,
        )

    def _send_job(self, job: OutboxJob) -> bytes:
        if job.kind == JOB_PUBLICITY:
            return self.client.post_publicity(job.job_id, job.payload)
        if job.kind == JOB_PUBLICITY_REVOKE:
            spec = json.loads(job.payload)
            body = json.dumps(
                {"reason": spec["reason"], "revoked_at": spec["revoked_at"]},
                ensure_ascii=False,
                sort_keys=True,
            ).encode("utf-8")
            return self.client.revoke_publicity(job.job_id, str(spec["publicity_id"]), body)
        if job.kind == JOB_ATTACHMENT:
            attachment_id = str(json.loads(job.payload)["attachment_id"])
            attachment = self.store.attachment(attachment_id)
            if attachment is None:
                raise ValueError(f"job {job.job_id} names an unknown attachment")
            self.uploader.upload(attachment)
            return json.dumps({"attachment_id": attachment_id, "uploaded": True}).encode("ascii")
        raise ValueError(f"unknown job kind {job.kind!r}")

    def _run_job(self, job: OutboxJob) -> str:
        """Send one job and record the outcome: 'sent', 'dead' or the retry reason."""
        try:
            ack = self._send_job(job)
        except (ValueError, KeyError, TypeError) as err:  # a job this build cannot send: staff look at it
            log.error("outbox: job %s (%s) cannot be sent: %s; dead-lettered", job.job_id, job.kind, err)
            self.store.mark_job_dead(job.job_id, f"invalid job: {type(err).__name__}")
            return "dead"
        except PlatformError as err:
            dead, reason, retry_after = _platform_outcome(err, f"job {job.job_id}")
            if dead:
                self.store.mark_job_dead(job.job_id, reason)
                return "dead"
            return self._retry_job(job, reason, retry_after)
        self.store.mark_job_sent(job.job_id, ack, self.clock())
        return "sent"

    def _retry_job(self, job: OutboxJob, reason: str, retry_after: float | None) -> str:
        delay = self.backoff.delay(job.attempts, self.rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._resume_at = self.clock() + delay
        self.store.mark_job_retry(job.job_id, reason, self._resume_at)
        log.warning("outbox: job %s (%s) not sent (%s); next in %.1f s", job.job_id, job.kind, reason, delay)
        return reason

    def _upload(self, entry: OutboxEntry) -> str:
        """Upload one entry and record the outcome: 'sent', 'dead' or the retry reason."""
        try:
            ack = self._send_case(entry)
        except PlatformError as err:
            dead, reason, retry_after = _platform_outcome(err, f"case {entry.case_id}")
            if dead:
                self.store.mark_dead(entry.case_id, reason)
                return "dead"
            return self._retry(entry, reason, retry_after)
        self.store.mark_sent(entry.case_id, ack.raw, self.clock())
        return "sent"

    def _retry(self, entry: OutboxEntry, reason: str, retry_after: float | None) -> str:
        delay = self.backoff.delay(entry.attempts, self.rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._resume_at = self.clock() + delay
        self.store.mark_retry(entry.case_id, reason, self._resume_at)
        log.warning(
            "outbox: case %s not uploaded (%s); attempt %d, next in %.1f s",
            entry.case_id,
            reason,
            entry.attempts + 1,
            delay,
        )
        return reason

    # ------------------------------------------------------------------ background thread

    def wait_acknowledged(self, case_id: str, timeout_s: float) -> bool:
        """Whether the platform acknowledged the case within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stored = self.store.case(case_id)
            if stored is not None and stored.state is OutboxState.SENT:
                return True
            time.sleep(0.05)
        return False

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
                    due = _earliest(self.store.next_due_at(), self.store.next_job_due_at())
                except Exception:
                    log.exception("outbox: cannot read the next due time")
                    due = None
                if due is not None:
                    wait = min(interval_s, max(0.05, due - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()
