"""What the hall keeps: the double-publicity record (§8.4), the ledger entry and archive record (§8.5).

* :class:`PublicityRecord` carries every field of §8.4.2 (行政相对人名称 ... 许可决定日期, after
  GB/T 32617) and is queued to the platform as JSON (:meth:`PublicityRecord.to_json`).  For a
  natural person the published ID number is masked, as credit publication rules require.
  :func:`revoke` gives the record that stops publication of a revoked decision (§8.4.4).
* :class:`Ledger` writes, after each approval, a :class:`LedgerEntry` (§8.5.3: who applied, when
  the permit was decided, when it was published) wrapped in an :class:`ArchiveRecord`: canonical
  JSON plus its SHA-256 fixity hash, written once (``O_EXCL``), fsynced, made read-only, and chained
  into ``ledger.jsonl`` (each line carries the previous line's hash), after GB/T 18894's idea of an
  immutable electronic record.  §8.5.2 allows 20 s; the write time is measured and returned.

Personal data in the ledger: the archived record itself holds none.  The applicant in
brief (masked name and a **keyed** HMAC-SHA256 of the ID number, the key derived from the machine
secret) goes into a sealed side file ``<archive id>.personal`` (AES-256-GCM under a key derived from
the same ledger key, the archive id as associated data); the record carries only an HMAC over it
(``personal_mac``), so the fixity chain still covers it.  The published record is referred to by an
HMAC over its published form (``publicity_mac``), never copied with the name next to the masked
number.  :meth:`Ledger.wipe_personal` deletes the side files after the retention period
(:class:`kiosk.cases.retention.RetentionWiper` calls it); the chain stays intact.  The directory is
0700, records 0400, the chain and side files 0600.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kiosk.cases.crypto import CryptoError, FieldCipher, derive_key
from kiosk.outputs.render import mask_id_number, mask_name

logger = logging.getLogger(__name__)

LEDGER_LIMIT_S = 20.0  # §8.5.2
PUBLICITY_WORKING_DAYS = 7  # §8.4.1


class PartyType(enum.Enum):
    """行政相对人类别 (GB/T 32617 style)."""

    NATURAL_PERSON = "natural_person"  # 自然人
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户
    LEGAL_PERSON = "legal_person"  # 法人及非法人组织


class IdType(enum.Enum):
    """证件类型."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    FOREIGNER_PERMANENT_RESIDENCE = "foreigner_permanent_residence"  # 外国人永久居留身份证
    USCC = "uscc"  # 统一社会信用代码


class PermitCategory(enum.Enum):
    """许可类别."""

    GENERAL = "general"  # 普通
    SPECIAL = "special"  # 特许
    RECOGNITION = "recognition"  # 认可
    APPROVAL = "approval"  # 核准
    REGISTRATION = "registration"  # 登记
    OTHER = "other"  # 其他


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the fixity hash is taken over."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def publication_deadline(decision_date: dt.date, working_days: int = PUBLICITY_WORKING_DAYS) -> dt.date:
    """The last day for publication: ``working_days`` Monday-Friday days after the decision
    (public holidays are not modelled)."""
    day, left = decision_date, working_days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


@dataclass(frozen=True)
class PublicityRecord:
    """行政许可双公示 record, every field of §8.4.2."""

    party_name: str  # 行政相对人名称
    party_type: PartyType  # 行政相对人类别
    id_type: IdType  # 证件类型
    id_number: str  # 证件号码 (full here; masked in to_json for natural persons)
    upload_time: dt.datetime  # 数据上传时间
    decision_document_name: str  # 行政许可决定文书名称
    decision_document_number: str  # 行政许可决定文书号
    authority: str  # 许可机关
    permit_category: PermitCategory  # 许可类别
    content: str  # 许可内容
    decision_date: dt.date  # 许可决定日期
    case_id: str = ""
    published: bool = True
    revoked_at: dt.datetime | None = None
    revocation_reason: str = ""

    def __post_init__(self) -> None:
        for name in (
            "party_name",
            "id_number",
            "decision_document_name",
            "decision_document_number",
            "authority",
        ):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"publicity record field {name} is empty")
        if not self.published and self.revoked_at is None:
            raise ValueError("an unpublished record must say when it was revoked")

    def __repr__(self) -> str:
        return f"PublicityRecord(case_id={self.case_id!r}, doc={self.decision_document_number!r})"

    def to_dict(self) -> dict[str, Any]:
        """The publication form: natural persons' names stay, their ID numbers are masked."""
        masked = self.party_type is PartyType.NATURAL_PERSON or self.id_type is IdType.RESIDENT_ID
        return {
            "party_name": self.party_name,
            "party_type": self.party_type.value,
            "id_type": self.id_type.value,
            "id_number": mask_id_number(self.id_number) if masked else self.id_number,
            "upload_time": self.upload_time.isoformat(),
            "decision_document_name": self.decision_document_name,
            "decision_document_number": self.decision_document_number,
            "authority": self.authority,
            "permit_category": self.permit_category.value,
            "content": self.content,
            "decision_date": self.decision_date.isoformat(),
            "case_id": self.case_id,
            "published": self.published,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revocation_reason": self.revocation_reason,
            "publish_by": publication_deadline(self.decision_date).isoformat(),
        }

    def to_json(self) -> bytes:
        return canonical_json(self.to_dict())


def revoke(record: PublicityRecord, when: dt.datetime, reason: str) -> PublicityRecord:
    """§8.4.4: the record that withdraws a revoked decision from publication (send it to the platform)."""
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    return replace(record, published=False, revoked_at=when, revocation_reason=reason)


@dataclass(frozen=True)
class LedgerEntry:
    """台账 line (§8.5.3): the applicant in brief, the permit time, the publication time."""

    case_id: str
    terminal_id: str
    item_id: str
    item_name: str
    party_name_masked: str = field(repr=False)
    party_type: PartyType
    id_type: IdType
    #: Held in memory only until the ledger writes the entry: it is stored as a keyed HMAC
    #: (:meth:`Ledger.id_mac`) in the sealed side file, never in clear.
    id_number: str = field(repr=False)
    decision: str  # approve | reject | manual
    decided_at: dt.datetime  # 行政许可时间
    certificate_number: str
    publicity_upload_time: dt.datetime | None  # 公示时间 (queued to the platform)

    def to_dict(self) -> dict[str, Any]:
        """The non-personal part archived in the chained record (masked name and number go to the
        sealed side file)."""
        out = asdict(self)
        del out["party_name_masked"], out["id_number"]
        out["party_type"] = self.party_type.value
        out["id_type"] = self.id_type.value
        out["decided_at"] = self.decided_at.isoformat()
        out["publicity_upload_time"] = (
            self.publicity_upload_time.isoformat() if self.publicity_upload_time else None
        )
        return out


def ledger_entry_for(
    *,
    case_id: str,
    terminal_id: str,
    item_id: str,
    item_name: str,
    party_name: str,
    id_number: str,
    decision: str,
    decided_at: dt.datetime,
    certificate_number: str = "",
    publicity: PublicityRecord | None = None,
    party_type: PartyType = PartyType.NATURAL_PERSON,
    id_type: IdType = IdType.RESIDENT_ID,
) -> LedgerEntry:
    """Build the entry from clear data; the ledger stores only the masked name and a keyed hash."""
    return LedgerEntry(
        case_id=case_id,
        terminal_id=terminal_id,
        item_id=item_id,
        item_name=item_name,
        party_name_masked=mask_name(party_name),
        party_type=party_type,
        id_type=id_type,
        id_number=id_number.strip().upper(),
        decision=decision,
        decided_at=decided_at,
        certificate_number=certificate_number,
        publicity_upload_time=publicity.upload_time if publicity else None,
    )


@dataclass(frozen=True)
class ArchiveRecord:
    """An archived record: its canonical content and the fixity hash over it."""

    archive_id: str
    kind: str  # ledger_entry | publicity_revocation
    case_id: str
    archived_at: dt.datetime
    content: bytes  # canonical JSON
    fixity_algorithm: str
    fixity: str  # hex digest over content
    previous: str  # fixity of the previous record in the chain ("" for the first)
    elapsed_ms: float  # time to write it (§8.5.2 allows 20 s)

    def __repr__(self) -> str:
        return f"ArchiveRecord(archive_id={self.archive_id!r}, fixity={self.fixity[:12]}...)"

    def verify(self) -> bool:
        return sha256_hex(self.content) == self.fixity


class FixityError(Exception):
    """An archived record whose content no longer matches its fixity hash."""


#: Permissions: the directory is the terminal user's only; records are read-only once written.
DIR_MODE = 0o700
RECORD_MODE = 0o400
FILE_MODE = 0o600
PERSONAL_SUFFIX = ".personal"


def _private_dir(path: Path) -> None:
    """Create ``path`` 0700, or tighten it when it exists with group/other access."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)


def _append_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_once(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Ledger:
    """Append-only ledger and archive in a directory (one immutable file per record + a hash chain).

    ``key`` is the terminal's ledger key (``derive_key(machine_secret, "ledger", terminal_id=...)``);
    it keys the ID-number hash and seals the personal side files."""

    def __init__(self, directory: str | os.PathLike[str], *, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the ledger key must be at least 32 bytes")
        self.directory = Path(directory)
        _private_dir(self.directory)
        self.chain = self.directory / "ledger.jsonl"
        self._mac_key = derive_key(key, "ledger/mac")
        self._sealer = FieldCipher(derive_key(key, "ledger/seal"))

    def __repr__(self) -> str:
        return f"Ledger({str(self.directory)!r})"

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()

    def id_mac(self, id_number: str) -> str:
        """The keyed hash of an ID number as the ledger stores it (to find a citizen's entries)."""
        return self._mac(b"id\x00" + id_number.strip().upper().encode("utf-8"))

    def _last_fixity(self) -> str:
        if not self.chain.exists():
            return ""
        last = ""
        with self.chain.open("rb") as fh:
            for line in fh:
                if line.strip():
                    last = line.decode("utf-8")
        return str(json.loads(last)["fixity"]) if last else ""

    def _write(
        self,
        kind: str,
        case_id: str,
        body: dict[str, Any],
        now: dt.datetime,
        personal: dict[str, Any] | None = None,
    ) -> ArchiveRecord:
        started = time.perf_counter()
        previous = self._last_fixity()
        archive_id = f"{kind}-{case_id}"
        path = self.directory / f"{archive_id}.json"
        if path.exists():
            raise FileExistsError(f"archive record {archive_id} already exists (records are immutable)")
        if personal is not None:
            plain = canonical_json(personal)
            body = {**body, "personal_mac": self._mac(b"personal\x00" + plain)}
            side = self.directory / f"{archive_id}{PERSONAL_SUFFIX}"
            side.unlink(missing_ok=True)  # a leftover of a write that crashed before its record
            _write_once(side, self._sealer.seal(plain, archive_id), FILE_MODE)
        envelope = {
            "archive_id": archive_id,
            "kind": kind,
            "archived_at": now.isoformat(),
            "previous": previous,
        }
        content = canonical_json({**envelope, "record": body})
        fixity = sha256_hex(content)
        try:
            _write_once(path, content, RECORD_MODE)
        except FileExistsError as err:
            raise FileExistsError(
                f"archive record {archive_id} already exists (records are immutable)"
            ) from err
        line = canonical_json({"archive_id": archive_id, "fixity": fixity, "previous": previous}) + b"\n"
        _append_private(self.chain, line)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms > LEDGER_LIMIT_S * 1000:
            logger.error("ledger write took %.0f ms, over the %.0f s limit", elapsed_ms, LEDGER_LIMIT_S)
        logger.info("archived %s (%s, %.1f ms)", archive_id, fixity[:12], elapsed_ms)
        return ArchiveRecord(archive_id, kind, case_id, now, content, "sha256", fixity, previous, elapsed_ms)

    def _publicity_ref(self, publicity: PublicityRecord) -> dict[str, Any]:
        """The published record as the ledger keeps it: its non-personal fields and a keyed hash of
        the published form (which names the party next to the masked number)."""
        published = publicity.to_dict()
        ref = {k: v for k, v in published.items() if k not in ("party_name", "id_number")}
        ref["publicity_mac"] = self._mac(b"publicity\x00" + canonical_json(published))
        return ref

    def publicity_matches(self, record: ArchiveRecord, publicity: PublicityRecord) -> bool:
        """Whether the archived record refers to exactly this published record."""
        stored = json.loads(record.content)["record"].get("publicity", {})
        return hmac.compare_digest(
            str(stored.get("publicity_mac", "")), self._publicity_ref(publicity)["publicity_mac"]
        )

    def record_approval(
        self, entry: LedgerEntry, publicity: PublicityRecord | None, now: dt.datetime
    ) -> ArchiveRecord:
        """§8.5.1: the ledger entry (and the publicity record as queued) archived after approval."""
        body: dict[str, Any] = {"ledger_entry": entry.to_dict()}
        if publicity is not None:
            body["publicity"] = self._publicity_ref(publicity)
        personal = {
            "party_name_masked": entry.party_name_masked,
            "id_number_hmac": self.id_mac(entry.id_number),
        }
        return self._write("ledger_entry", entry.case_id, body, now, personal)

    def record_revocation(self, revoked: PublicityRecord, now: dt.datetime) -> ArchiveRecord:
        """A revocation is a new archived record; the original stays untouched."""
        if revoked.published:
            raise ValueError("record_revocation takes the record returned by revoke()")
        return self._write(
            "publicity_revocation", revoked.case_id, {"publicity": self._publicity_ref(revoked)}, now
        )

    def personal(self, archive_id: str) -> dict[str, Any] | None:
        """The applicant in brief of one record (None once retention wiped it); CryptoError or
        FixityError when the side file was swapped or tampered with."""
        side = self.directory / f"{archive_id}{PERSONAL_SUFFIX}"
        try:
            blob = side.read_bytes()
        except FileNotFoundError:
            return None
        plain = self._sealer.open(blob, archive_id)
        record = json.loads((self.directory / f"{archive_id}.json").read_bytes())["record"]
        if not hmac.compare_digest(str(record.get("personal_mac", "")), self._mac(b"personal\x00" + plain)):
            raise FixityError(f"personal data of {archive_id} does not match its record")
        value: dict[str, Any] = json.loads(plain)
        return value

    def find(self, id_number: str) -> list[str]:
        """Archive ids of the entries (still within retention) for one ID number."""
        wanted = self.id_mac(id_number)
        found = []
        for side in sorted(self.directory.glob(f"*{PERSONAL_SUFFIX}")):
            archive_id = side.name[: -len(PERSONAL_SUFFIX)]
            try:
                data = self.personal(archive_id)
            except (CryptoError, FixityError, OSError, ValueError):
                logger.warning("ledger: unreadable personal data of %s", archive_id)
                continue
            if data is not None and hmac.compare_digest(str(data.get("id_number_hmac", "")), wanted):
                found.append(archive_id)
        return found

    def wipe_personal(self, before: float) -> list[str]:
        """Delete the personal side files of records archived before ``before`` (epoch seconds);
        returns their archive ids.  The records and the chain stay (they hold no personal data)."""
        wiped = []
        for side in sorted(self.directory.glob(f"*{PERSONAL_SUFFIX}")):
            archive_id = side.name[: -len(PERSONAL_SUFFIX)]
            try:
                archived = json.loads((self.directory / f"{archive_id}.json").read_bytes())["archived_at"]
                at = dt.datetime.fromisoformat(str(archived)).timestamp()
            except FileNotFoundError:
                at = side.stat().st_mtime  # its record was never written (crash): wipe by age
            except (OSError, ValueError, KeyError) as err:
                logger.warning("ledger: cannot date %s: %s", archive_id, err)
                continue
            if at < before:
                side.unlink(missing_ok=True)
                wiped.append(archive_id)
        if wiped:
            logger.info("ledger: wiped the personal data of %d record(s)", len(wiped))
        return wiped

    def verify(self) -> int:
        """Check every record against its fixity hash and the chain; returns how many; FixityError otherwise."""
        previous = ""
        count = 0
        if not self.chain.exists():
            return 0
        for raw in self.chain.read_bytes().splitlines():
            if not raw.strip():
                continue
            link = json.loads(raw)
            content = (self.directory / f"{link['archive_id']}.json").read_bytes()
            if sha256_hex(content) != link["fixity"]:
                raise FixityError(f"archive record {link['archive_id']} does not match its fixity hash")
            if link["previous"] != previous or json.loads(content)["previous"] != previous:
                raise FixityError(f"hash chain broken at {link['archive_id']}")
            previous = link["fixity"]
            count += 1
        return count
