"""Electronic licences (电子证照) the platform already holds for a citizen.

Before asking for a scan, the terminal offers what the platform holds
electronically for this citizen.  A reused e-licence needs no OCR:
its fields come signed from the platform, and the terminal checks the signature
before it believes them.

The lookup itself is a platform call; the rest of the terminal sees
only :class:`ELicenceSource`, so the materials step does not care whether the
licences come from the sandbox, the real platform or nowhere (offline: an empty
list, never an error that blocks the citizen).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ELicence:
    """One e-licence, already verified against the platform's signing key."""

    licence_id: str
    material_type: str  # same identifiers as the item packages' materials, e.g. "business_licence"
    title_zh: str
    title_en: str
    issued_at: str  # ISO 8601 date
    fields: Mapping[str, str] = field(default_factory=dict)  # extractor field names -> values
    issuer: str = ""

    def __repr__(self) -> str:  # fields hold personal data: keep them out of accidental logs
        return f"ELicence(licence_id={self.licence_id!r}, material_type={self.material_type!r})"


class ELicenceSource(Protocol):
    """Where the terminal looks up a citizen's e-licences."""

    def for_holder(self, id_number: str) -> list[ELicence]:
        """Verified e-licences held for this ID number; [] when none or when the platform
        cannot be reached (the citizen then scans the paper).  Never logs the ID number."""
        ...
