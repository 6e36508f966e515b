"""Attachments in resumable chunks, and the field key agreed with the platform (R-UPLOAD, R-SEC).

:class:`FieldKeyring` gives the :class:`~kiosk.cases.crypto.FieldCipher` shared with the platform: the
terminal's X25519 key comes from the machine secret, the platform's public key is fetched once
(``POST /api/v1/terminals/{id}/field-key``) and kept in the store's ``meta`` table, so later starts
need no network for it.  Until it is known nothing personal is uploaded (the case waits).

:class:`AttachmentUploader` uploads one stored attachment (material page image, signature,
certificate PDF): it is sealed deterministically with the case id as associated data (the same
bytes every time, so a resumed upload continues the same file), an upload session is created with
the attachment id as idempotency key (a session created before a crash is found again), the
committed offset is asked for, the missing chunks are PUT with ``Content-Range`` and the session is
completed, which makes the platform check the SHA-256 of the whole and open it.  Then the store
marks the attachment uploaded.  Any failure leaves the committed chunks on the platform; the next
attempt resumes at the committed offset.

An attachment that fits in one chunk (the signature, the face frame, most material pages) goes in
the create request itself (``content``, base64): the platform makes complete's checks and answers
the session complete, one signed request instead of three.  Should the answer still be open (a
platform that ignores ``content``), the chunk is PUT and completed as above, so nothing is lost.

Chunk size: 256 KiB (:data:`CHUNK_BYTES`, docs/uploads.md).  A scanned A4 page as JPEG is
0.3-1 MB, the certificate PDF with its embedded font ~0.2-1 MB, the signature a few KB: one to four
chunks.  On a hall uplink of ~2 Mbit/s a chunk takes about 1 s, so a dropped connection loses at
most ~1 s of transfer, while the fixed cost per chunk (one signed request) stays below 1 %.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.cases.crypto import FieldAlgorithm, FieldCipher, agreed_field_cipher, terminal_agreement_key
from kiosk.cases.platform_client import PlatformClient, PlatformUnavailable
from kiosk.cases.platform_models import INLINE_MAX_BYTES
from offline_cache.store import Store, StoredAttachment

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
_META_PLATFORM_KEY = "field_key.platform_public"


class FieldKeyring:
    """The field cipher shared with the platform, agreed on first use and remembered in the store."""

    def __init__(
        self,
        store: Store,
        client: PlatformClient,
        machine_secret: bytes,
        *,
        terminal_id: str,
        algorithm: FieldAlgorithm = FieldAlgorithm.AES_256_GCM,
    ) -> None:
        self.store = store
        self.client = client
        self.terminal_id = terminal_id
        self.algorithm = algorithm
        self._private = terminal_agreement_key(machine_secret, terminal_id=terminal_id)
        self._cipher: FieldCipher | None = None

    def cipher(self) -> FieldCipher:
        """The agreed cipher; asks the platform once (PlatformError when it cannot be reached)."""
        if self._cipher is not None:
            return self._cipher
        meta_key = f"{_META_PLATFORM_KEY}.{self.algorithm.value}"
        known = self.store.meta.get(meta_key)
        if known is None:
            mine = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            platform = self.client.agree_field_key(mine, self.algorithm.value)
            self.store.meta.set(meta_key, platform.hex())
            log.info("field key agreed with the platform (%s)", self.algorithm.value)
        else:
            platform = bytes.fromhex(known)
        self._cipher = agreed_field_cipher(
            self._private, platform, terminal_id=self.terminal_id, algorithm=self.algorithm
        )
        return self._cipher


class AttachmentUploader:
    """Uploads stored attachments inline or in resumable chunks (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        client: PlatformClient,
        cipher: Callable[[], FieldCipher | None] = lambda: None,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if chunk_bytes <= 0:
            raise ValueError("chunk_bytes must be positive")
        self.store = store
        self.client = client
        self.cipher = cipher
        self.chunk_bytes = chunk_bytes
        self.clock = clock or time.time

    def wire_bytes(self, attachment: StoredAttachment) -> tuple[bytes, str]:
        """The bytes that travel (sealed when a cipher is agreed) and the encryption name."""
        if attachment.body is None:
            raise ValueError(f"attachment {attachment.attachment_id} was wiped before it was uploaded")
        cipher = self.cipher()
        if cipher is None:
            return attachment.body, "none"
        return cipher.seal_deterministic(attachment.body, attachment.case_id), cipher.algorithm.value

    def upload(self, attachment: StoredAttachment) -> None:
        """Upload (or finish uploading) one attachment, then mark it uploaded.  Raises PlatformError."""
        if attachment.uploaded_at is not None:
            return
        wire, encryption = self.wire_bytes(attachment)
        spec: dict[str, Any] = {
            "case_id": attachment.case_id,
            "name": attachment.name,
            "media_type": attachment.media_type,
            "size": len(wire),
            "sha256": hashlib.sha256(wire).hexdigest(),
            "plaintext_sha256": attachment.sha256,
            "encryption": encryption,
        }
        if len(wire) <= min(self.chunk_bytes, INLINE_MAX_BYTES):  # one request: create completes it
            spec["content"] = base64.b64encode(wire).decode("ascii")
        session = self.client.create_upload(attachment.attachment_id, spec)
        offset = session.offset
        while not session.complete and offset < len(wire):
            chunk = wire[offset : offset + self.chunk_bytes]
            session = self.client.put_chunk(session.upload_id, offset, chunk, len(wire))
            if session.offset <= offset:
                raise PlatformUnavailable(f"upload {session.upload_id}: offset did not advance")
            offset = session.offset
        if not session.complete:
            session = self.client.complete_upload(session.upload_id)
        self.store.attachments.mark_uploaded(attachment.attachment_id, self.clock())
        log.info("attachment %s of case %s uploaded", attachment.attachment_id, attachment.case_id)

    def refs(self, case_id: str) -> list[dict[str, Any]]:
        """How the case body references its attachments: id, name, media type, SHA-256 in clear."""
        return self.refs_of(self.store.attachments.for_case(case_id))

    @staticmethod
    def refs_of(attachments: list[StoredAttachment]) -> list[dict[str, Any]]:
        return [
            {"attachment_id": a.attachment_id, "name": a.name, "media_type": a.media_type, "sha256": a.sha256}
            for a in attachments
        ]
