"""The applicant line of the confirm screen: who is applying, with which identity document.

A foreigner's permanent residence card shows the English name (the name on the card that
every other document of the holder carries) beside the Chinese name, and the nationality.
"""

from __future__ import annotations

from typing import Any

from devices.interfaces import ForeignerIdCardText
from kiosk.i18n import tr


def applicant_text(card: Any) -> str:
    """One line for ``card`` (a ``devices.interfaces.IdCardRead`` or ``None``: empty line)."""
    if card is None:
        return ""
    text = card.text
    document = tr(f"applicant.document.{text.kind.value}")
    if isinstance(text, ForeignerIdCardText):
        names = f"{text.chinese_name} " if text.chinese_name else ""
        return (
            f"{tr('applicant.label')}：{names}{text.english_name}　"
            f"{tr('applicant.nationality')}：{text.nationality}　{document}"
        )
    return f"{tr('applicant.label')}：{text.name}　{document}"
