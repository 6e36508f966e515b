"""The materials step's widgets: one panel per material with the e-licence offer, the page
thumbnails (retake, delete, add a page, confirm the pages) and, for every field the terminal
is not sure of, the crop of where it was read with an editable value and a confirm button.

Panels are passive like the screens: they show the :class:`ui.viewmodels.MaterialView` of the
facade's view and call facade methods; the screen rebuilds them when the material changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.facade import KioskFacade
from ui.viewmodels import LicenceOffer, MaterialFieldView, MaterialSpecView, MaterialView
from ui.widgets import BigButton, pixmap_from_jpeg

_OK = "#1e8449"
_BAD = "#c0392b"
_ASK = "#b9770e"


def _small_button(text: str, name: str, role: str = "secondary") -> BigButton:
    b = BigButton(text, role=role)
    b.setObjectName(name)
    b.setMinimumWidth(120)
    return b


class FieldConfirm(QFrame):
    """One field to confirm or correct: the crop of its source box, the value, confirm."""

    def __init__(
        self, facade: KioskFacade, spec: MaterialSpecView, key: str, fld: MaterialFieldView | None
    ) -> None:
        super().__init__()
        self.facade = facade
        self.material_type = spec.type
        self.key = key
        self.setObjectName("warning")
        grid = QGridLayout(self)
        label = next((bilingual(*lab) for k, lab in spec.extract if k == key), key)
        reason = fld.reason if fld is not None and fld.reason else "missing"
        grid.addWidget(QLabel(f"<b>{label}</b>（{tr(f'materials.reason.{reason}')}）"), 0, 0, 1, 3)
        self.crop = QLabel()
        self.crop.setObjectName(f"crop:{spec.type}:{key}")
        if fld is not None and fld.crop_jpeg:
            self.crop.setPixmap(pixmap_from_jpeg(fld.crop_jpeg, 760, 120))
        grid.addWidget(self.crop, 1, 0, 1, 3)
        self.edit = QLineEdit(fld.value if fld is not None else "")
        self.edit.setObjectName(f"fieldEdit:{spec.type}:{key}")
        grid.addWidget(self.edit, 2, 0, 1, 2)
        self.ok = _small_button(tr("common.confirm"), f"confirmField:{spec.type}:{key}", role="primary")
        self.ok.clicked.connect(self._confirm)
        grid.addWidget(self.ok, 2, 2)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        grid.addWidget(self.error, 3, 0, 1, 3)

    def _confirm(self) -> None:
        self.facade.touch()
        errors = self.facade.materials.confirm_field(self.material_type, self.key, self.edit.text())
        # accepted: the core emits the new material and the screen rebuilds this panel away
        self.error.setText(tr(errors[self.key]) if self.key in errors else "")


class MaterialPanel(QFrame):
    """Everything about one material on the materials screen."""

    def __init__(
        self,
        facade: KioskFacade,
        spec: MaterialSpecView,
        result: MaterialView | None,
        offers: Sequence[LicenceOffer] = (),
    ) -> None:
        super().__init__()
        self.facade = facade
        self.spec = spec
        self.setObjectName("card")
        self.lay = QVBoxLayout(self)
        name = QLabel(f"<b>{bilingual(*spec.name)}</b>" + (" *" if spec.required else ""))
        self.lay.addWidget(name)
        if result is None:
            self._offer(offers)
        elif result.licence_id is not None:
            self._licence(result, offers)
        else:
            self._pages(result)
        if result is not None:
            self._fields(result)

    # ------------------------------------------------------------------ parts
    def _offer(self, offers: Sequence[LicenceOffer]) -> None:
        t = self.spec.type
        row = QHBoxLayout()
        if offers:
            self.lay.addWidget(QLabel(tr("materials.elicence_hint")))
            for lic in offers:
                b = BigButton(f"{tr('materials.use_elicence')}：{bilingual(*lic.title)}")
                b.setObjectName(f"elicence:{t}:{lic.licence_id}")
                b.clicked.connect(lambda _c=False, i=lic.licence_id: self.facade.materials.use_elicence(t, i))
                self.lay.addWidget(b)
        cap = BigButton(tr("materials.scan_paper") if offers else tr("materials.capture"))
        cap.setProperty("role", "secondary" if offers else "primary")
        cap.setObjectName(f"capture:{t}")
        cap.clicked.connect(lambda _c=False: self.facade.materials.capture(t))
        row.addStretch(1)
        row.addWidget(cap)
        self.lay.addLayout(row)

    def _licence(self, result: MaterialView, offers: Sequence[LicenceOffer]) -> None:
        t = self.spec.type
        title = next(
            (bilingual(*lic.title) for lic in offers if lic.licence_id == result.licence_id),
            result.licence_id or "",
        )
        used = QLabel(f'<span style="color:{_OK}">✔ {tr("materials.elicence_used")}：{title}</span>')
        used.setObjectName(f"elicenceUsed:{t}")
        self.lay.addWidget(used)
        cap = _small_button(tr("materials.scan_paper"), f"capture:{t}")
        cap.clicked.connect(lambda _c=False: self.facade.materials.capture(t))
        self.lay.addWidget(cap, 0, Qt.AlignmentFlag.AlignRight)

    def _pages(self, result: MaterialView) -> None:
        t = self.spec.type
        strip = QHBoxLayout()
        for i, thumb_jpeg in enumerate(result.pages):
            cell = QVBoxLayout()
            thumb = QLabel()
            thumb.setObjectName(f"thumb:{t}:{i}")
            thumb.setPixmap(pixmap_from_jpeg(thumb_jpeg, 120, 160))
            cell.addWidget(thumb, 0, Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(QLabel(tr("materials.page", n=i + 1)), 0, Qt.AlignmentFlag.AlignHCenter)
            buttons = QHBoxLayout()
            retake = _small_button(tr("materials.retake"), f"retake:{t}:{i}")
            retake.clicked.connect(lambda _c=False, n=i: self.facade.materials.retake_page(t, n))
            delete = _small_button(tr("materials.delete"), f"delete:{t}:{i}", role="danger")
            delete.clicked.connect(lambda _c=False, n=i: self.facade.materials.delete_page(t, n))
            buttons.addWidget(retake)
            buttons.addWidget(delete)
            cell.addLayout(buttons)
            strip.addLayout(cell)
        strip.addStretch(1)
        side = QVBoxLayout()
        add = _small_button(tr("materials.add_page"), f"capture:{t}")
        add.clicked.connect(lambda _c=False: self.facade.materials.capture(t))
        side.addWidget(add)
        if result.pages_confirmed:
            done = QLabel(f'<span style="color:{_OK}">✔ {tr("materials.pages_confirmed")}</span>')
            done.setObjectName(f"pagesConfirmed:{t}")
            side.addWidget(done)
        else:
            ok = _small_button(tr("materials.confirm_pages"), f"confirmPages:{t}", role="primary")
            ok.clicked.connect(lambda _c=False: self.facade.materials.confirm_pages(t))
            side.addWidget(ok)
        side.addStretch(1)
        strip.addLayout(side)
        self.lay.addLayout(strip)

    def _fields(self, result: MaterialView) -> None:
        t = self.spec.type
        checks = result.checks
        lines = []
        for key, lab in self.spec.extract:
            fld = result.fields.get(key)
            label = bilingual(*lab)
            if fld is None:
                lines.append(f'{label}：<span style="color:{_ASK}">—</span>')
                continue
            marks = []
            if fld.pending:
                marks.append(f'<span style="color:{_ASK}">{tr("materials.to_confirm")}</span>')
            elif fld.corrected:
                marks.append(tr("materials.corrected"))
            if key in checks:
                ok = checks[key]
                word = tr("materials.match") if ok else tr("materials.mismatch")
                marks.append(f'<span style="color:{_OK if ok else _BAD}">{word}</span>')
            mark = f"（{'，'.join(marks)}）" if marks else ""
            lines.append(f"{label}：{fld.value}{mark}")
        pending = result.pending_fields
        if pending:
            self.lay.addWidget(QLabel(tr("materials.check_field")))
            for key in pending:
                self.lay.addWidget(FieldConfirm(self.facade, self.spec, key, result.fields.get(key)))
        summary = QLabel("<br>".join(lines) or "—")
        summary.setObjectName(f"extracted:{t}")
        summary.setWordWrap(True)
        self.lay.addWidget(summary)


def material_panels(
    facade: KioskFacade,
    specs: Sequence[MaterialSpecView],
    done: Mapping[str, MaterialView],
    offers: Mapping[str, Sequence[LicenceOffer]],
) -> tuple[list[QWidget], bool]:
    """The panels of the materials step, and whether the citizen may go on to the review."""
    panels: list[QWidget] = []
    complete = True
    for spec in specs:
        result = done.get(spec.type)
        panels.append(MaterialPanel(facade, spec, result, offers.get(spec.type, ())))
        ok = (not spec.required) if result is None else result.ready
        complete = complete and ok
    return panels, complete
