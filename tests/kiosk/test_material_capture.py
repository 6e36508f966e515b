"""Multi-page materials, on-screen confirmation of flagged fields and e-licence reuse, at the
service level: real terminal parts (simulated ID card reader and document camera, sandbox
platform, encrypted store) and the real OCR engine."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from kiosk.config import TerminalConfig
from kiosk.documents import capture as mc
from kiosk.documents.elicence import ELicence
from kiosk.documents.ocr import OcrLine
from kiosk.review.items import ExtractSpec, MaterialSpec, Text
from kiosk.session.assembly import build_session
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.machine import Step
from terminal.runtime import SimulatorBench, Terminal, build_terminal
from tests.kiosk.lease_pages import LESSEE, PREMISES, lease_page_one, lease_page_two

BUSINESS_ID = "37140219880721003X"
FORM = {
    "business_name": "德城区建国便利店",
    "business_scope": "日用百货零售",
    "premises_address": PREMISES,
    "phone": "13905340000",
}


@dataclass
class MemoryELicences:
    """An in-memory ELicenceSource (the unit boundary until the platform source is merged)."""

    by_holder: dict[str, list[ELicence]] = field(default_factory=dict)
    calls: int = 0

    def for_holder(self, id_number: str) -> list[ELicence]:
        self.calls += 1
        return list(self.by_holder.get(id_number, []))


def _lease_licence(licence_id: str = "EL-LEASE-0001", premises: str = PREMISES) -> ELicence:
    return ELicence(
        licence_id=licence_id,
        material_type="lease",
        title_zh="房屋租赁登记备案证明",
        title_en="Registered house lease",
        issued_at="2025-01-05",
        fields={"lessee": LESSEE, "premises_address": premises, "term_end": "2027年12月31日"},
        issuer="德州市住房和城乡建设局",
    )


@pytest.fixture
def terminal(tmp_path: Path, face_verifier: Any, ocr_engine: Any) -> Iterator[Terminal]:
    t = build_terminal(
        TerminalConfig(data_dir=str(tmp_path)), tmp_path / "work", face=face_verifier, ocr=ocr_engine
    )
    yield t
    t.close()


def _service(terminal: Terminal, elicences: Any = None) -> SessionCoordinator:
    """A service over the terminal's real parts, with an e-licence source when given."""
    base = terminal.session
    return build_session(
        terminal.config,
        base.devices,
        terminal.store,
        terminal.client,
        base.face.verifier,
        base.materials.ocr,
        review=base.review.engine,
        drainer=terminal.drainer,
        elicences=elicences,
    )


def _to_materials(svc: SessionCoordinator, bench: SimulatorBench) -> None:
    svc.start()
    svc.choose_item("business-registration")
    bench.idcard.insert("business")
    assert svc.card.read() is not None
    svc.machine.go(Step.FORM)  # the face model is not what this test is about: straight to the form
    values = {f.key: f.value for f in svc.form.fields()}
    values.update(FORM)
    assert svc.form.submit(values) == {}
    assert svc.step is Step.MATERIALS


def _capture(svc: SessionCoordinator, bench: SimulatorBench, page: Any) -> mc.MaterialResult:
    bench.place_document(page)
    result = svc.materials.capture("lease")
    assert result is not None
    return result


def _decode(jpeg: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def _case(terminal: Terminal, svc: SessionCoordinator) -> dict[str, Any]:
    decision = svc.review.run()
    assert decision is not None and svc.step is Step.CONFIRM_SIGN
    result = svc.submission.submit(b"\x89PNG signature")
    assert result is not None
    stored = terminal.store.cases.get(result.case_id)
    assert stored is not None
    payload: dict[str, Any] = json.loads(stored.payload)
    return payload


def test_two_page_lease_flagged_field_corrected_before_review(
    terminal: Terminal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert terminal.bench is not None
    bench = terminal.bench
    svc = _service(terminal)
    _to_materials(svc, bench)

    first = _capture(svc, bench, lease_page_one())
    assert len(first.pages) == 1
    assert first.values() == {"lessee": LESSEE, "premises_address": PREMISES}
    assert first.unread == ("term_end",)  # the term is on page 2
    assert svc.materials.pending() == {"lease": ("pages", "term_end")}
    assert svc.materials.finish() is False and svc.step is Step.MATERIALS
    with pytest.raises(RuntimeError, match="not confirmed"):
        svc.review.run()

    # Page 2 carries an impossible date: read over both pages, flagged, with its crop.
    both = _capture(svc, bench, lease_page_two("2025年1月1日至2027年13月31日"))
    assert len(both.pages) == 2 and both.pages[0].sha256 == first.pages[0].sha256
    term = both.fields["term_end"]
    assert term.value == "2027-13-31" and term.page == 1
    assert term.needs_confirmation and term.reason == "invalid" and not term.valid
    crop = _decode(term.crop_jpeg)
    assert crop is not None and 20 < crop.shape[0] < 200 and crop.shape[1] < both.pages[1].image.shape[1]
    assert not both.fields["lessee"].needs_confirmation and both.fields["lessee"].page == 0
    assert svc.materials.pending() == {"lease": ("pages", "term_end")}

    # The citizen corrects it on screen; an invalid correction is refused in place.
    assert svc.materials.confirm_field("lease", "term_end", "2027年13月32日") == {"term_end": "form.invalid"}
    assert svc.materials.confirm_field("lease", "term_end", "2027年12月31日") == {}
    fixed = svc.data.application.materials["lease"]
    assert fixed.fields["term_end"].value == "2027-12-31"
    assert fixed.fields["term_end"].source is mc.FieldSource.CITIZEN
    assert [c.to_record() for c in fixed.corrections] == [
        {
            "field": "term_end",
            "original": "2027-13-31",
            "corrected": "2027-12-31",
            "confidence": round(term.confidence, 4),
            "reason": "invalid",
        }
    ]
    assert svc.materials.pending() == {"lease": ("pages",)}
    assert svc.materials.finish() is False
    svc.materials.confirm_pages("lease")
    assert svc.materials.finish() is True and svc.step is Step.REVIEW

    case = _case(terminal, svc)
    [lease] = case["materials"]
    assert lease["source"] == "ocr" and lease["elicence_id"] is None
    assert lease["fields"]["term_end"] == {
        "value": "2027-12-31",
        "confidence": term.confidence,
        "source": "citizen",
        "page": 1,
        "flagged": True,
        "confirmed": True,
    }
    assert lease["corrections"] == [c.to_record() for c in fixed.corrections]
    assert [p["sha256"] for p in lease["pages"]] == [p.sha256 for p in fixed.pages]
    assert {c["field"]: c["match"] for c in lease["cross_checks"]} == {
        "lessee": True,
        "premises_address": True,
    }
    # nothing of it in the logs
    for secret in (LESSEE, BUSINESS_ID, "2027-13-31", "2027-12-31", "新华路"):
        assert secret not in caplog.text


def test_retake_and_delete_pages_read_the_fields_again(terminal: Terminal) -> None:
    assert terminal.bench is not None
    bench = terminal.bench
    svc = _service(terminal)
    _to_materials(svc, bench)
    _capture(svc, bench, lease_page_one())
    bad = _capture(svc, bench, lease_page_two("2025年1月1日至2027年13月31日"))
    svc.materials.confirm_pages("lease")

    bench.place_document(lease_page_two())
    retaken = svc.materials.retake_page("lease", 1)
    assert retaken is not None and len(retaken.pages) == 2
    assert retaken.pages[0].sha256 == bad.pages[0].sha256 and retaken.pages[1].sha256 != bad.pages[1].sha256
    assert (
        retaken.fields["term_end"].value == "2027-12-31" and not retaken.fields["term_end"].needs_confirmation
    )
    assert not retaken.pages_confirmed  # other pages: the citizen looks at them again
    assert _decode(retaken.pages[1].thumb_jpeg).shape[0] == 240

    after_delete = svc.materials.delete_page("lease", 1)
    assert after_delete is not None and len(after_delete.pages) == 1
    assert after_delete.unread == ("term_end",) and "term_end" not in after_delete.fields
    # the citizen says the material has no such field: settled, recorded, not invented
    assert svc.materials.confirm_field("lease", "term_end", "") == {}
    assert svc.data.application.materials["lease"].corrections[-1].to_record()["corrected"] is None
    assert svc.materials.delete_page("lease", 0) is None
    assert "lease" not in svc.data.application.materials
    with pytest.raises(KeyError):
        svc.materials.delete_page("lease", 0)


def test_elicence_offered_used_without_ocr_and_recorded(terminal: Terminal) -> None:
    assert terminal.bench is not None
    other = ELicence("EL-BL-7", "business_licence", "营业执照", "Business licence", "2024-02-02")
    source = MemoryELicences(
        {BUSINESS_ID: [_lease_licence(), other], "371402195203140022": [_lease_licence("X")]}
    )
    svc = _service(terminal, elicences=source)
    _to_materials(svc, terminal.bench)

    offers = svc.materials.elicence_offers()
    assert list(offers) == ["lease"] and [lic.licence_id for lic in offers["lease"]] == ["EL-LEASE-0001"]
    assert svc.materials.elicence_offers() == offers and source.calls == 1  # looked up once per session

    result = svc.materials.use_elicence("lease", "EL-LEASE-0001")
    assert result is not None and result.pages == () and result.licence_id == "EL-LEASE-0001"
    assert result.values() == {"lessee": LESSEE, "premises_address": PREMISES, "term_end": "2027-12-31"}
    assert all(f.source is mc.FieldSource.ELICENCE and not f.pending for f in result.fields.values())
    assert svc.materials.pending() == {}
    assert svc.materials.finish() is True

    case = _case(terminal, svc)
    [lease] = case["materials"]
    assert lease["source"] == "elicence" and lease["elicence_id"] == "EL-LEASE-0001"
    assert lease["pages"] == [] and lease["corrections"] == []
    assert {c["field"]: c["match"] for c in lease["cross_checks"]} == {
        "lessee": True,
        "premises_address": True,
    }


def test_elicence_fields_are_cross_checked_like_ocr_fields(terminal: Terminal) -> None:
    assert terminal.bench is not None
    source = MemoryELicences({BUSINESS_ID: [_lease_licence(premises="山东省德州市德城区东风中路88号")]})
    svc = _service(terminal, elicences=source)
    _to_materials(svc, terminal.bench)
    assert "lease" in svc.materials.elicence_offers()
    result = svc.materials.use_elicence("lease", "EL-LEASE-0001")
    assert result is not None
    assert {c.field: c.match for c in result.checks} == {"lessee": True, "premises_address": False}
    assert svc.materials.finish() is True
    decision = svc.review.run()
    assert decision.outcome.value != "approve"


def test_no_offer_without_a_source_or_for_another_holder(terminal: Terminal) -> None:
    assert terminal.bench is not None
    plain = _service(terminal)
    _to_materials(plain, terminal.bench)
    assert plain.materials.elicence_offers() == {}
    plain.cancel()
    terminal.bench.idcard.remove()
    svc = _service(terminal, elicences=MemoryELicences({"371402195203140022": [_lease_licence()]}))
    _to_materials(svc, terminal.bench)
    assert svc.materials.elicence_offers() == {}
    with pytest.raises(KeyError):
        svc.materials.use_elicence("lease", "EL-LEASE-0001")


# --------------------------------------------------------------------------- pure functions
_SPEC = MaterialSpec(
    "lease",
    Text("房屋租赁合同", "House lease contract"),
    True,
    (
        ExtractSpec("lessee", Text("承租方", "Lessee"), r"承租方(?:\(乙方\))?", "(.+)"),
        ExtractSpec("term_end", Text("租赁期限至", "Lease term ends"), "租赁期限", "至(.+)$", "date"),
    ),
    (),
)


def _page(lines: list[OcrLine]) -> mc.MaterialPage:
    return mc.make_page(np.full((400, 600, 3), 250, np.uint8), lines, 1.0, [])


def test_low_confidence_flagged_with_its_crop_and_confirming_keeps_the_value() -> None:
    box = ((40.0, 100.0), (400.0, 100.0), (400.0, 140.0), (40.0, 140.0))
    lines = [
        OcrLine("承租方（乙方）：李建国", 0.61, box),
        OcrLine("租赁期限：2025年1月1日至2027年12月31日", 0.99, box),
    ]
    result = mc.read_pages(_SPEC, [_page(lines)], {"lessee": LESSEE})
    lessee = result.fields["lessee"]
    assert lessee.needs_confirmation and lessee.reason == "low_confidence" and lessee.valid
    assert _decode(lessee.crop_jpeg).shape[:2] == (40 + 2 * 12 + 1, 360 + 2 * 12 + 1)
    assert result.pending_fields == ("lessee",)
    same = mc.confirm_field(_SPEC, result, "lessee", "李建国", {"lessee": LESSEE})
    assert same.pending_fields == () and same.corrections == ()
    assert same.fields["lessee"].confirmed and same.fields["lessee"].source is mc.FieldSource.OCR
    assert "李建国" not in repr(same) and "李建国" not in repr(same.fields["lessee"])
