"""The materials step: pages from the document camera (found, corrected, checked, OCR'd), fields
read over all pages of a material, the citizen's confirmation of pages and flagged fields, and
the citizen's e-licences standing in for paper."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from devices.base import DeviceError
from devices.interfaces import Camera
from kiosk.documents import capture as mc
from kiosk.documents.capture import MaterialResult
from kiosk.documents.elicence import ELicence, ELicenceSource
from kiosk.documents.extractors import EXTRACTORS
from kiosk.documents.ocr import OcrEngine
from kiosk.documents.pagecapture import capture_page
from kiosk.session.context import SessionContext
from kiosk.session.events import MaterialUpdated
from kiosk.session.machine import SessionData, Step
from kiosk.session.steps.form import session_known_values

log = logging.getLogger(__name__)


def pending_materials(data: SessionData) -> dict[str, tuple[str, ...]]:
    """Material type → what the citizen must still do: "pages" and/or flagged field keys."""
    pending: dict[str, tuple[str, ...]] = {}
    for mtype, result in data.application.materials.items():
        todo = (() if result.pages_confirmed else ("pages",)) + result.pending_fields
        if todo:
            pending[mtype] = todo
    return pending


class MaterialsStep:
    def __init__(
        self,
        ctx: SessionContext,
        document_camera: Camera,
        ocr: OcrEngine,
        *,
        elicences: ELicenceSource | None = None,
    ) -> None:
        self.ctx = ctx
        self.document_camera = document_camera
        self.ocr = ocr
        #: The citizen's e-licences held by the platform (None: not offered).
        self.elicences = elicences
        self._elicence_cache: tuple[str, list[ELicence]] | None = None  # (session id, licences)

    def capture(self, material_type: str) -> MaterialResult | None:
        """Capture one more page of a material, OCR it, and read the fields over all its pages."""
        page = self._capture_page(material_type)
        if page is None:
            return None
        data = self.ctx.data
        spec = self.ctx.applying(data).material(material_type)
        expected = self._expectations(data, spec.cross_checks)
        current = data.application.materials.get(material_type)
        return self._set(data, material_type, mc.add_page(spec, current, page, expected))

    def retake_page(self, material_type: str, index: int) -> MaterialResult | None:
        """Capture page ``index`` of a material again (the other pages stay)."""
        page = self._capture_page(material_type)
        if page is None:
            return None
        data = self.ctx.data
        spec, current, expected = self._material_now(data, material_type)
        return self._set(data, material_type, mc.replace_page(spec, current, index, page, expected))

    def delete_page(self, material_type: str, index: int) -> MaterialResult | None:
        """Drop page ``index``; the material is gone when it was the last page."""
        data = self.ctx.data
        spec, current, expected = self._material_now(data, material_type)
        return self._set(data, material_type, mc.delete_page(spec, current, index, expected))

    def confirm_pages(self, material_type: str) -> MaterialResult | None:
        """The citizen checked the thumbnails: these are the pages of the material."""
        data = self.ctx.data
        _spec, current, _expected = self._material_now(data, material_type)
        return self._set(data, material_type, mc.confirm_pages(current))

    def confirm_field(self, material_type: str, key: str, value: str) -> dict[str, str]:
        """Confirm or correct a field on screen.  Returns field key → i18n error key (empty: accepted)."""
        data = self.ctx.data
        spec, current, expected = self._material_now(data, material_type)
        try:
            result = mc.confirm_field(spec, current, key, value, expected)
        except mc.InvalidFieldValue:
            self.ctx.touch()
            return {key: "form.invalid"}
        self._set(data, material_type, result)
        return {}

    def pending(self) -> dict[str, tuple[str, ...]]:
        """Material type → what the citizen must still do: "pages" and/or flagged field keys."""
        return pending_materials(self.ctx.data)

    def elicence_offers(self) -> dict[str, list[ELicence]]:
        """Material type → the citizen's e-licences that can stand for it (blocking: platform call).

        Looked up once per session; {} without an e-licence source, a card, or when offline."""
        data = self.ctx.data
        if self.elicences is None or data.identity.card is None or data.item_id is None:
            return {}
        cached = self._elicence_cache
        if cached is None or cached[0] != data.session_id:
            try:
                found = self.elicences.for_holder(data.identity.card.text.id_number)
            except Exception:  # a lookup must never block the citizen: scan the paper instead
                log.exception("e-licence lookup failed")
                found = []
            cached = (data.session_id, found)
            self._elicence_cache = cached
        pkg = self.ctx.applying(data)
        offers = {m.type: mc.matching_licences(m, cached[1]) for m in pkg.materials}
        return {t: lics for t, lics in offers.items() if lics}

    def use_elicence(self, material_type: str, licence_id: str) -> MaterialResult | None:
        """Fill a material from one of the offered e-licences (no OCR, no confirmation)."""
        data = self.ctx.data
        cached = self._elicence_cache
        if cached is None or cached[0] != data.session_id:
            raise KeyError("no e-licences looked up in this session")
        licence = next((lic for lic in cached[1] if lic.licence_id == licence_id), None)
        if licence is None:
            raise KeyError(licence_id)
        spec = self.ctx.applying(data).material(material_type)
        result = mc.from_elicence(spec, licence, self._expectations(data, spec.cross_checks))
        self.ctx.audit(
            "elicence_used", {"session": data.session_id, "material": material_type, "licence": licence_id}
        )
        return self._set(data, material_type, result)

    def finish(self) -> bool:
        """On to the review, once every material's pages and flagged fields are confirmed."""
        data = self.ctx.data
        if pending_materials(data):
            self.ctx.touch()
            return False
        pkg = self.ctx.applying(data)
        for mtype, result in list(data.application.materials.items()):  # the form may have changed meanwhile
            spec = pkg.material(mtype)
            data.application.materials[mtype] = mc.recheck(
                result, self._expectations(data, spec.cross_checks)
            )
        self.ctx.go(Step.REVIEW)
        return True

    def forget(self) -> None:
        """The session ended: its e-licences go with it."""
        self._elicence_cache = None

    # ------------------------------------------------------------------ internals
    def _capture_page(self, material_type: str) -> mc.MaterialPage | None:
        """One page from the document camera: found, corrected, checked, OCR'd (None on a device problem)."""
        data = self.ctx.data
        cam = self.document_camera
        try:
            cam.open()
            try:
                image = cam.read_frame(timeout=5.0)
            finally:
                cam.close()
        except DeviceError as err:
            self.ctx.device_problem("document_camera", err, retry=Step.MATERIALS, data=data)
            return None
        t0 = time.perf_counter()
        # Find the page, correct perspective and 90° turns, and check legibility before OCR.
        capture = capture_page(image)
        # Known layouts read only their regions; the engine settles 0/180 on the lines it finds
        # and the page it returns (possibly turned) is what the field boxes refer to.
        known = EXTRACTORS.get(material_type)
        regions = known.regions if known is not None else ((0.0, 0.0, 1.0, 1.0),)
        read = self.ocr.read_regions(capture.page, regions)
        ocr_ms = (time.perf_counter() - t0) * 1000.0
        return mc.make_page(read.page, read.lines, ocr_ms, [i.value for i in capture.issues])

    def _set(
        self, data: SessionData, material_type: str, result: MaterialResult | None
    ) -> MaterialResult | None:
        if result is None:
            data.application.materials.pop(material_type, None)
        else:
            data.application.materials[material_type] = result
        self.ctx.touch()
        self.ctx.publish(MaterialUpdated(material_type, result, data.session_id))
        return result

    def _material_now(
        self, data: SessionData, material_type: str
    ) -> tuple[Any, MaterialResult, dict[str, str]]:
        spec = self.ctx.applying(data).material(material_type)
        current = data.application.materials.get(material_type)
        if current is None:
            raise KeyError(f"no {material_type} captured")
        return spec, current, self._expectations(data, spec.cross_checks)

    def _expectations(self, data: SessionData, specs: Iterable[Any]) -> dict[str, str]:
        known = session_known_values(self.ctx, data)
        expected: dict[str, str] = {}
        for cc in specs:
            if cc.against.startswith("form."):
                value = data.application.form.get(cc.against.removeprefix("form."), "")
            else:
                value = known.get(cc.against, "")
            expected[cc.field] = value
        return expected
