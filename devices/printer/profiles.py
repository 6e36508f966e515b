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
    "kiosk-80mm-presenter": {
        "description": "80 mm kiosk printer with presenter and paper-taken sensor (ESC/POS, GB18030)",
        "width_dots": 576,
        "width_chars": 48,
        "supports_status": True,
        "cutter": True,
        "encoding": "gb18030",
        "presenter_sensor": True,
    },
    "generic-80mm-raster": {
        "description": "80 mm printer without a Chinese font ROM: text printed as raster images (GS v 0)",
        "width_dots": 576,
        "width_chars": 48,
        "supports_status": True,
        "cutter": True,
        "encoding": "gb18030",
        "text_mode": "raster",
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
    presenter_sensor: bool = False  # answers StatusKind.PRESENTER (receipt still in the exit)
    #: "native": GB18030 text after FS & (printer has a Chinese font); "raster": the driver
    #: renders text with a CJK TrueType font and sends GS v 0 raster images.
    text_mode: str = "native"

    def __post_init__(self) -> None:
        if self.text_mode not in ("native", "raster"):
            raise ValueError(f"profile {self.name}: text_mode must be native or raster")


def get_profile(name: str) -> PrinterProfile:
    """The profile called ``name``; ``KeyError`` listing the known ones otherwise."""
    try:
        raw = PROFILES[name]
    except KeyError as err:
        raise KeyError(f"unknown printer profile {name!r}; known: {', '.join(sorted(PROFILES))}") from err
    return PrinterProfile(name=name, **raw)
