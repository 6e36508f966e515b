"""The terminal config ``hall-kiosk provision`` writes: TOML in the schema of kiosk/config.py
(docs/terminal.example.toml), the device sections from discovery or the installer's flags."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

ORDER = ("idcard", "camera", "document_camera", "receipt_printer", "document_printer", "staff_card")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _table(name: str, values: dict[str, Any]) -> list[str]:
    return [f"[{name}]", *(f"{k} = {_value(v)}" for k, v in values.items()), ""]


def render_config(answers: Any, data_dir: Path, *, ca_bundle: str = "", hall_name: str = "") -> str:
    """The config text for ``answers`` (terminal/provision.py Answers)."""
    lines = [
        f"# Written by hall-kiosk provision on {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}.",
        "# Schema: kiosk/config.py; every key: docs/terminal.example.toml.",
        f"terminal_id = {_value(answers.terminal_id)}",
        'profile = "production"',
        f"data_dir = {_value(str(data_dir))}",
        "",
    ]
    platform: dict[str, Any] = {"url": answers.platform_url}
    if ca_bundle:
        platform["ca_bundle"] = ca_bundle
    lines += _table("platform", platform)
    for kind in ORDER:
        if kind in answers.devices:
            lines += _table(f"devices.{kind}", answers.devices[kind])
    lines += _table("maintenance", {"staff_issuer_ca": str(data_dir / "secrets" / "staff-issuer-ca.pem")})
    if hall_name:
        lines += _table("ui", {"hall_name": hall_name})
    return "\n".join(lines)
