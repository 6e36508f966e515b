"""Receipt printer models as data.

Each profile says how wide the paper is (dots and characters of font A),
whether the model answers real-time status queries (DLE EOT) and whether it
has a cutter.  Add a model by adding an entry; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The models we know.  Keys are stable identifiers used in terminal config.
PROFILES: dict[str, dict[str, Any]] = {
    "generic-80mm": {
        "description": "Generic 80 mm thermal receipt printer (ESC/POS, GB18030 Chinese mode)",
        "width_dots": 576,
        "width_chars": 48,  # font A 12x24: 48 half-width or 24 full-width characters
        "supports_status": True,
        "cutter": True,
        "encoding": "gb18030",
    },
    "generic-58mm": {
        "description": "Generic 58 mm thermal receipt printer without cutter",
        "width_dots": 384,
        "width_chars": 32,
        "supports_status": True,
        "cutter": False,
        "encoding": "gb18030",
    },
    "basic-80mm-nostatus": {
        "description": "80 mm printer with a one-way link (no real-time status answers)",
        "width_dots": 576,
        "width_chars": 48,
        "supports_status": False,
        "cutter": True,
        "encoding": "gb18030",
    },
}


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    description: str
    width_dots: int
    width_chars: int
    supports_status: bool
    cutter: bool
    encoding: str


def get_profile(name: str) -> PrinterProfile:
    """The profile called ``name``; ``KeyError`` listing the known ones otherwise."""
    try:
        raw = PROFILES[name]
    except KeyError as err:
        raise KeyError(f"unknown printer profile {name!r}; known: {', '.join(sorted(PROFILES))}") from err
    return PrinterProfile(name=name, **raw)
