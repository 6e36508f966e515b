"""Per-material extractors on generated pages (real PP-OCR), validators and confirmation flags."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

from kiosk.documents.extractors import (
    BUSINESS_LICENCE,
    EXTRACTORS,
    ID_CARD_BACK,
    ID_CARD_FRONT,
    LEASE,
    ConfirmReason,
    ExtractorSpec,
    FieldRule,
    extract_key_values,
    run_extractor,
)
from kiosk.documents.materials import MaterialSpecError
from kiosk.documents.ocr import OcrLine, RapidOcrEngine
from kiosk.documents.pagecapture import capture_page
from kiosk.review.checks import uscc_check_char
from terminal.docgen import (
    photograph,
    render_business_licence,
    render_demo_lease,
    render_id_card_back,
    render_id_card_front,
)

USCC = "91371402MA3C8K2L1" + uscc_check_char("91371402MA3C8K2L1")
BOX = ((10.0, 10.0), (200.0, 10.0), (200.0, 40.0), (10.0, 40.0))


def _line(text: str, conf: float = 0.99) -> OcrLine:
    return OcrLine(text, conf, BOX)


# ---- extraction logic on OCR lines (no model) ----


def test_low_confidence_field_goes_to_confirmation() -> None:
    lines = [_line("姓名 张桂兰", 0.55), _line("性别 女 民族 汉"), _line("出生 1952年3月14日"),
             _line("住址 山东省德州市德城区新湖大街1号"), _line("公民身份号码 371402195203140022")]  # fmt: skip
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.to_confirm == ("name",)
    name = out.fields["name"]
    assert name.value == "张桂兰" and name.reason is ConfirmReason.LOW_CONFIDENCE and name.box == BOX
    assert out.fields["id_number"].valid and not out.fields["id_number"].needs_confirmation
    assert out.values()["birth"] == "1952-03-14"
    assert "张桂兰" not in repr(name)  # personal data stays out of reprs


def test_failed_validator_and_missing_field_go_to_confirmation() -> None:
    bad_uscc = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    lines = [_line(f"统一社会信用代码：{bad_uscc}"), _line("名称：德城区建国便利店"), _line("类型：个体工商户"),
             _line("经营者：李建国"), _line("经营场所：山东省德州市德城区新华路26号")]  # fmt: skip
    out = run_extractor(lines, BUSINESS_LICENCE)
    assert out.fields["uscc"].reason is ConfirmReason.INVALID and out.fields["uscc"].needs_confirmation
    assert out.fields["established"].reason is ConfirmReason.MISSING
    assert out.fields["established"].needs_confirmation  # required
    assert not out.fields["registered_capital"].needs_confirmation  # optional
    good = run_extractor([_line(f"统一社会信用代码 {USCC}")], BUSINESS_LICENCE)
    assert good.fields["uscc"].valid and good.fields["uscc"].value == USCC


def test_ocr_confusables_in_codes_are_repaired_before_validation() -> None:
    lines = [_line("公民身份号码 37l4O2l952O3l4OO22")]
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.fields["id_number"].value == "371402195203140022" and out.fields["id_number"].valid


def test_generic_key_value_extractor() -> None:
    lines = [
        _line("申请人：李建国"),
        _line("联系电话：13905340000", 0.6),
        _line("一段说明文字"),
        _line("申请人：重复"),
    ]
    fields = extract_key_values(lines)
    assert [(f.key, f.value) for f in fields] == [("申请人", "李建国"), ("联系电话", "13905340000")]
    assert fields[1].needs_confirmation and not fields[0].needs_confirmation


def test_spec_from_data_and_errors() -> None:
    spec = ExtractorSpec.from_dict(
        {"material": "x", "regions": [[0, 0, 1, 0.5]],
         "fields": [{"key": "code", "label": "代码", "validator": "uscc", "normaliser": "code"}]}
    )  # fmt: skip
    assert spec.fields[0] == FieldRule("code", "代码", validator="uscc", normaliser="code")
    assert spec.regions == ((0.0, 0.0, 1.0, 0.5),)
    with pytest.raises(MaterialSpecError):
        ExtractorSpec.from_dict(
            {"material": "x", "fields": [{"key": "a", "label": "b", "validator": "nope"}]}
        )
    with pytest.raises(MaterialSpecError):
        ExtractorSpec.from_dict({"material": "x", "fields": [{"key": "a", "label": "(", "value": "x"}]})
    with pytest.raises(MaterialSpecError):
        ExtractorSpec.from_dict({"material": "x", "fields": [{"key": "a"}]})
    assert set(EXTRACTORS) == {"business_licence", "id_card_front", "id_card_back", "lease"}


# ---- real OCR on generated pages ----


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    eng = RapidOcrEngine()
    t = threading.Thread(target=eng.load)
    t.start()
    t.join()
    return eng


@pytest.mark.slow
def test_business_licence_page(engine: RapidOcrEngine) -> None:
    page = render_business_licence(
        USCC, "德州市德城区建国便利店有限公司", "有限责任公司（自然人独资）", "李建国",
        "山东省德州市德城区新华路26号", dt.date(2019, 5, 8), "伍拾万元整",
    )  # fmt: skip
    lines = engine.recognise_regions(page, list(BUSINESS_LICENCE.regions))
    out = run_extractor(lines, BUSINESS_LICENCE)
    assert out.values() == {
        "uscc": USCC,
        "name": "德州市德城区建国便利店有限公司",
        "type": "有限责任公司(自然人独资)",
        "representative": "李建国",
        "address": "山东省德州市德城区新华路26号",
        "registered_capital": "伍拾万元整",
        "established": "2019-05-08",
        "term": "2019-05-08至长期",
    }
    assert out.to_confirm == ()
    assert all(f.box is not None and f.confidence > 0.85 for f in out.fields.values())


@pytest.mark.slow
def test_id_card_front_and_back_photographed(engine: RapidOcrEngine) -> None:
    front = render_id_card_front("张桂兰", "女", "汉", dt.date(1952, 3, 14), "山东省德州市德城区新湖大街1号",
                                 "371402195203140022")  # fmt: skip
    frame = photograph(front, corners=((0.18, 0.36), (0.84, 0.37), (0.85, 0.63), (0.17, 0.62)))
    cap = capture_page(frame)
    out = run_extractor(engine.recognise(cap.page), ID_CARD_FRONT)
    assert out.values() == {
        "name": "张桂兰", "sex": "女", "nation": "汉", "birth": "1952-03-14",
        "address": "山东省德州市德城区新湖大街1号", "id_number": "371402195203140022",
    }  # fmt: skip
    back = render_id_card_back("武城县公安局", dt.date(2004, 5, 10), dt.date(2024, 5, 10))
    out = run_extractor(engine.recognise(back), ID_CARD_BACK)
    assert out.values() == {
        "authority": "武城县公安局",
        "valid_from": "2004-05-10",
        "valid_until": "2024-05-10",
    }


@pytest.mark.slow
def test_lease_photographed_sideways_and_warped(engine: RapidOcrEngine) -> None:
    page = render_demo_lease()
    frame = photograph(page, rotation=270, corners=((0.04, 0.18), (0.97, 0.22), (0.95, 0.8), (0.03, 0.77)))
    cap = capture_page(frame, upright_score=engine.upright_score)
    assert cap.rotation == 90
    lines = engine.recognise_regions(cap.page, list(LEASE.regions))
    out = run_extractor(lines, LEASE)
    assert out.values()["lessee"] == "李建国"
    assert out.values()["premises_address"] == "山东省德州市德城区新华路26号"
    assert out.values()["term_end"] == "2027-12-31"
    assert out.fields["lessee_id"].valid
    # boxes are in rectified-page pixels, inside the page
    h, w = cap.page.shape[:2]
    assert all(0 <= x <= w and 0 <= y <= h for x, y in np.array(out.fields["lessee"].box))


@pytest.mark.slow
def test_upside_down_lease_is_turned_by_the_orientation_classifier(engine: RapidOcrEngine) -> None:
    """capture_page without an OCR score leaves a page lying at 180 degrees as it is; read_regions
    finds it upside down from its lines, turns it and reads the fields."""
    frame = photograph(render_demo_lease(), rotation=180)
    cap = capture_page(frame)
    assert cap.rotation == 0
    read = engine.read_regions(cap.page, LEASE.regions)
    assert read.turned
    out = run_extractor(read.lines, LEASE)
    assert out.values()["lessee"] == "李建国"
    assert out.values()["term_end"] == "2027-12-31"
    assert out.to_confirm == ()
    # boxes refer to the turned page the result carries
    assert read.page.shape == cap.page.shape
    x0, y0 = out.fields["lessee"].box[0]  # type: ignore[index]
    assert x0 < read.page.shape[1] / 3 and y0 < read.page.shape[0] * 0.45
    # told it is upright, the same page is read as it lies: no lessee found
    as_is = engine.read_regions(cap.page, LEASE.regions, upright=True)
    assert not as_is.turned
    assert run_extractor(as_is.lines, LEASE).fields["lessee"].value != "李建国"


@pytest.mark.slow
def test_upright_page_is_not_turned(engine: RapidOcrEngine) -> None:
    read = engine.read_regions(render_demo_lease(), LEASE.regions)
    assert not read.turned
    assert run_extractor(read.lines, LEASE).values()["lessee"] == "李建国"


@pytest.mark.slow
def test_high_resolution_scan_is_detected_at_page_scale(engine: RapidOcrEngine) -> None:
    """A 300-dpi flatbed scan of the lease (2480 x 3307 px, here the rendered page enlarged) is
    detected at the same page scale as a document-camera frame and its lines are read from the
    full-resolution page (boxes in its pixels)."""
    import cv2

    page = render_demo_lease()
    scan = np.asarray(cv2.resize(page, (2480, 3307), interpolation=cv2.INTER_CUBIC), np.uint8)
    read = engine.read_regions(scan, LEASE.regions, upright=True)
    out = run_extractor(read.lines, LEASE)
    assert out.values()["lessee"] == "李建国"
    assert out.values()["lessee_id"] == "37140219880721003X"
    assert out.values()["premises_address"] == "山东省德州市德城区新华路26号"
    x0, _ = out.fields["lessee"].box[0]  # type: ignore[index]
    assert 200 < x0 < 260  # full-resolution page pixels (140 px at 1536 wide)


def test_sex_label_read_in_its_traditional_form() -> None:
    lines = [_line("姓名张桂兰"), _line("性別"), _line("女"), _line("民族汉")]
    # the value sits on the line after the label, as the detector splits them on the card
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.values()["sex"] == "女" and out.values()["nation"] == "汉"
