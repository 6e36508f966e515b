"""The applicant line of the confirm screen: who is applying, with which identity document.

A foreigner's permanent residence card shows the English name (the name on the card that
every other document of the holder carries) beside the Chinese name, and the nationality.
"""

from __future__ import annotations

from kiosk.i18n import tr
from ui.viewmodels import ApplicantView


def applicant_text(applicant: ApplicantView | None) -> str:
    """One line for ``applicant`` (``None``: empty line)."""
    if applicant is None:
        return ""
    document = tr(f"applicant.document.{applicant.document_kind}")
    if applicant.foreigner:
        names = f"{applicant.chinese_name} " if applicant.chinese_name else ""
        return (
            f"{tr('applicant.label')}：{names}{applicant.english_name}　"
            f"{tr('applicant.nationality')}：{applicant.nationality}　{document}"
        )
    return f"{tr('applicant.label')}：{applicant.name}　{document}"
