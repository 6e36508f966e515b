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


def _at(text: str, x: float, y: float, conf: float = 0.99, ch: float = 30.0) -> OcrLine:
    """An OCR line of ``text`` at (x, y) in ``ch``-pixel characters (ASCII half as wide)."""
    w = sum(ch if ord(c) > 0x2E7F else ch / 2 for c in text)
    return OcrLine(text, conf, ((x, y), (x + w, y), (x + w, y + ch), (x, y + ch)))


def _vertical(text: str, x: float, y0: float, y1: float, ch: float = 30.0) -> OcrLine:
    """A tall box the detector made of label characters stacked in a column (``名类住``)."""
    return OcrLine(text, 0.99, ((x, y0), (x + ch, y0), (x + ch, y1), (x, y1)))


# ---- extraction logic on OCR lines (no model) ----


def _card(address: list[str], name_conf: float = 0.99) -> list[OcrLine]:
    """An ID card front as the detector boxes it: small labels, values right of them, the
    address wrapping after 11 characters under its first line."""
    lines = [_at("姓名", 50, 40, ch=22), _at("张桂兰", 150, 36, name_conf), _at("性别", 50, 110, ch=22),
             _at("女", 150, 106), _at("民族", 280, 110, ch=22), _at("汉", 360, 106),
             _at("出生", 50, 180, ch=22), _at("1952年3月14日", 150, 176), _at("住址", 50, 250, ch=22)]  # fmt: skip
    lines += [_at(part, 150, 246 + 42 * i) for i, part in enumerate(address)]
    lines += [_at("公民身份号码", 50, 440, ch=22), _at("371402195203140022", 250, 434, ch=38)]
    return lines


def test_low_confidence_field_goes_to_confirmation() -> None:
    lines = _card(["山东省德州市德城区新湖", "大街1号"], name_conf=0.55)
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.to_confirm == ("name",)
    name = out.fields["name"]
    assert name.value == "张桂兰" and name.reason is ConfirmReason.LOW_CONFIDENCE
    assert name.box == ((150, 36), (240, 36), (240, 66), (150, 66))
    assert out.fields["id_number"].valid and not out.fields["id_number"].needs_confirmation
    assert out.values()["birth"] == "1952-03-14"
    assert out.values()["address"] == "山东省德州市德城区新湖大街1号"
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
    assert set(EXTRACTORS) == {
        "business_licence",
        "id_card_front",
        "id_card_back",
        "lease",
        "household_register",
    }


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


# ---- layout: spaced labels, values beside or below, wrapped values ----


def test_two_line_address_is_joined_when_both_lines_are_read() -> None:
    out = run_extractor(_card(["山东省德州市德城区新湖", "大街1号院"]), ID_CARD_FRONT)
    address = out.fields["address"]
    assert address.value == "山东省德州市德城区新湖大街1号院"
    assert address.valid and not address.needs_confirmation
    # the box covers both lines (the crop the citizen is shown)
    assert address.box is not None and address.box[0][1] == 246 and address.box[2][1] == 246 + 42 + 30


def test_two_line_address_missing_its_continuation_is_flagged_never_valid() -> None:
    """The detector missed the second line: the first one fills the column, so the value may be
    cut; it must not come back as a valid address at high confidence."""
    out = run_extractor(_card(["山东省德州市德城区新湖"]), ID_CARD_FRONT)
    address = out.fields["address"]
    assert address.value == "山东省德州市德城区新湖"
    assert address.confidence > 0.95
    assert not address.valid and address.needs_confirmation
    assert address.reason is ConfirmReason.TRUNCATED
    assert "address" in out.to_confirm


def test_short_last_line_is_complete() -> None:
    """A value whose last line stops well short of its column is complete: not flagged."""
    lines = _card(["山东省德州市德城区新湖", "大街1号"])
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.fields["address"].valid and out.fields["address"].reason is None


def test_spaced_label_licence_layout() -> None:
    """A 2018 licence scan as PP-OCR boxes it: ``名　称``, ``类　型``, ``住　所`` printed with wide
    letter-spacing, their first characters detected as one tall box (``名类住``) and their second
    ones alone; the address wraps; the credit code sits in one line with its label."""
    lines = [
        _at("营业执照", 318, 380, ch=180),
        _at("统一社会信用代码91441900595830037Q", 580, 636),
        _at("称", 478, 745), _at("广东乡谷村膳食管理有限公司", 564, 744),
        _vertical("名类住", 244, 731, 953),
        _at("型", 476, 812), _at("有限责任公司(自然人投资或控股)", 564, 816),
        _at("所", 476, 885), _at("东莞市南城街道周溪隆溪路5号高盛科技园一", 564, 875),
        _at("期之C座一层101室", 564, 913),
        _at("法定代表人", 249, 975), _at("杨芝军", 562, 975),
        _at("注册资本", 249, 1050), _at("贰佰万元（人民币）", 562, 1050),
        _at("成立日期", 251, 1127), _at("2012年05月02日", 562, 1127),
        _at("营业期限", 251, 1205), _at("长期", 558, 1205),
        _at("经营范围", 251, 1275), _at("膳食管理服务、餐饮服务、餐饮配送服务；销", 564, 1273),
        _at("售：送货服务；食品生产；批发业、零售业；", 562, 1306),
    ]  # fmt: skip
    out = run_extractor(lines, BUSINESS_LICENCE)
    assert out.values() == {
        "uscc": "91441900595830037Q",
        "name": "广东乡谷村膳食管理有限公司",
        "type": "有限责任公司(自然人投资或控股)",
        "representative": "杨芝军",
        "address": "东莞市南城街道周溪隆溪路5号高盛科技园一期之C座一层101室",
        "registered_capital": "贰佰万元(人民币)",
        "established": "2012-05-02",
        "term": "长期",
    }
    assert out.to_confirm == ()


def test_credit_code_under_its_label_beside_the_big_title() -> None:
    """2016/2019 layouts: the code printed under its label, the big title on the same band,
    first in reading order; each label character boxed on its own in the field rows."""
    lines = [
        _at("统一社会信用代码", 185, 344, ch=36),
        _at("营业执照", 713, 318, ch=140),
        _at("91330109MA27Y7DJXX (1/1)", 182, 398, ch=40),
        _at("(副本)", 905, 465, ch=60),
        _at("名", 193, 602), _at("称 杭州欧克液压科技有限公司", 324, 600),
        _at("注册资本壹仟万元整", 1111, 607),
        _at("类", 187, 673), _at("型", 329, 680), _at("有限责任公司（自然人投资或控股）", 373, 682),
        _at("成立日期 2016年07月18日", 1109, 682),
    ]  # fmt: skip
    out = run_extractor(lines, BUSINESS_LICENCE)
    values = out.values()
    assert values["uscc"] == "91330109MA27Y7DJXX" and out.fields["uscc"].valid
    assert values["name"] == "杭州欧克液压科技有限公司"
    assert values["type"] == "有限责任公司(自然人投资或控股)"
    assert values["registered_capital"] == "壹仟万元整"  # the other column's label ends the name
    assert values["established"] == "2016-07-18"
    # a valid code in the same line as its label is found too; a wrong check character is flagged
    same_line = run_extractor([_at("统一社会信用代码 91330109MA27Y7DJXX", 100, 100)], BUSINESS_LICENCE)
    assert same_line.fields["uscc"].valid
    bad = run_extractor(
        [_at("统一社会信用代码", 185, 344), _at("91330109MA27Y7DJX1", 182, 398)], BUSINESS_LICENCE
    )
    assert bad.fields["uscc"].reason is ConfirmReason.INVALID


def test_credit_code_letters_are_not_turned_into_digits() -> None:
    """A credit code uses B, D and Q (unlike an ID number): only I, O, S, Z (absent from its
    alphabet) are taken for digits."""
    out = run_extractor(
        [_at("统一社会信用代码", 185, 344), _at("9144O6O4MA537RKB8C", 182, 398)], BUSINESS_LICENCE
    )
    assert out.values()["uscc"] == "91440604MA537RKB8C" and out.fields["uscc"].valid


@pytest.mark.parametrize(
    "amount",
    ["贰佰万元（人民币）", "贰佰万元(人民币)", "200万元", "人民币贰佰万元整", "人民币200万元", "（人民币）200万元",
     "200万元人民币", "188万元整", "壹仟万元整", "人民币柒仟柒佰柒拾柒万元", "伍拾万元整", "100.5万元", "50万美元",
     "人民币 2,000,000元", "贰佰万元整（人民币）"],
)  # fmt: skip
def test_bracketed_and_other_amount_forms_are_valid(amount: str) -> None:
    out = run_extractor([_at("注册资本", 100, 100), _at(amount, 300, 100)], BUSINESS_LICENCE)
    field = out.fields["registered_capital"]
    assert field.valid and field.reason is None, amount


@pytest.mark.parametrize("amount", ["人民币", "贰佰", "万元", "壹佰万元整整整（人）", "有限公司"])
def test_non_amounts_are_invalid(amount: str) -> None:
    out = run_extractor([_at("注册资本", 100, 100), _at(amount, 300, 100)], BUSINESS_LICENCE)
    assert not out.fields["registered_capital"].valid


def test_wrapped_lease_address_by_geometry() -> None:
    """The premises address wraps to the margin (or under its value): joined; the body paragraph
    that follows a short line is not taken for a continuation."""
    body = "第一条甲方将上述房屋出租给乙方作经营使用，乙方保证按"  # as wide as the first address line
    for indent in (0, 150):
        lines = [_at("承租方（乙方）：李建国", 140, 400), _at("房屋坐落：山东省德州市德城区新华街道新华路26号院3号楼2单元", 140, 470),
                 _at("501室及地下储藏室", 140 + indent, 510), _at("租赁期限：2025年1月1日至2027年12月31日", 140, 580),
                 _at(body, 140, 700)]  # fmt: skip
        out = run_extractor(lines, LEASE)
        assert (
            out.values()["premises_address"]
            == "山东省德州市德城区新华街道新华路26号院3号楼2单元501室及地下储藏室"
        )
        assert out.fields["premises_address"].valid
    short = [
        _at("房屋坐落：山东省德州市德城区新华路26号", 140, 470),
        _at(body[:20], 140, 510),
        _at(body, 140, 580),
    ]
    out = run_extractor(short, LEASE)
    assert out.values()["premises_address"] == "山东省德州市德城区新华路26号"
    assert out.fields["premises_address"].reason is None


def test_birth_date_disagreeing_with_the_number_flags_both() -> None:
    lines = _card(["山东省德州市德城区新湖", "大街1号"])
    lines[7] = _at("1953年3月14日", 150, 176)
    out = run_extractor(lines, ID_CARD_FRONT)
    assert out.fields["birth"].reason is ConfirmReason.INVALID
    assert out.fields["id_number"].reason is ConfirmReason.INVALID


def test_rule_package_may_set_validator_threshold_and_multiline() -> None:
    spec = ExtractorSpec.from_dict(
        {"material": "x", "fields": [{"key": "capital", "label": "注册资本", "validator": "money",
                                      "min_confidence": 0.99, "multiline": True}]}
    )  # fmt: skip
    rule = spec.fields[0]
    assert (rule.validator, rule.min_confidence, rule.multiline) == ("money", 0.99, True)
    lines = [_at("注册资本", 100, 100), _at("贰佰万元（人民币）", 300, 100, conf=0.97),
             _at("销售建材、五金交电、日用百货等商品零售", 100, 140)]  # fmt: skip
    out = run_extractor(lines, spec)
    assert out.fields["capital"].value == "贰佰万元(人民币)"
    assert out.fields["capital"].reason is ConfirmReason.LOW_CONFIDENCE
    lines[1] = _at("贰佰万元人民（", 300, 100)
    assert run_extractor(lines, spec).fields["capital"].reason is ConfirmReason.INVALID
    with pytest.raises(MaterialSpecError):
        ExtractorSpec.from_dict(
            {"material": "x", "fields": [{"key": "a", "label": "b", "min_confidence": 2}]}
        )


# ---- real OCR on rendered forms ----


@pytest.mark.slow
def test_rendered_spaced_label_licence_and_household_register(engine: RapidOcrEngine) -> None:
    from kiosk.documents.extractors import HOUSEHOLD_REGISTER
    from terminal.docgen_forms import render_business_licence_2019, render_household_register

    licence = render_business_licence_2019(
        USCC, "德州市德城区建国建材有限公司", "有限责任公司(自然人独资)", "李建国", "贰佰万元（人民币）",
        dt.date(2019, 5, 8), "长期", "山东省德州市德城区新华街道新华路26号院3号楼一层101室",
    )  # fmt: skip
    out = run_extractor(engine.read_regions(licence, BUSINESS_LICENCE.regions).lines, BUSINESS_LICENCE)
    assert out.values()["uscc"] == USCC and out.fields["uscc"].valid
    assert out.values()["registered_capital"] == "贰佰万元(人民币)" and out.fields["registered_capital"].valid
    assert out.values()["address"] == "山东省德州市德城区新华街道新华路26号院3号楼一层101室"
    assert out.values()["type"] == "有限责任公司(自然人独资)"
    register = render_household_register(
        "户主", "李建国", "男", "汉", dt.date(1988, 7, 21), "山东省德州市", "37140219880721003X",
        "山东省德州市德城区新华街道新华路26号院3号楼2单元501室",
    )  # fmt: skip
    out = run_extractor(engine.read_regions(register, HOUSEHOLD_REGISTER.regions).lines, HOUSEHOLD_REGISTER)
    assert out.values() == {
        "relation": "户主", "name": "李建国", "sex": "男", "nation": "汉", "birth": "1988-07-21",
        "native_place": "山东省德州市", "id_number": "37140219880721003X",
        "address": "山东省德州市德城区新华街道新华路26号院3号楼2单元501室",
    }  # fmt: skip


@pytest.mark.slow
def test_rendered_lease_with_wrapped_address(engine: RapidOcrEngine) -> None:
    from terminal.docgen import render_lease

    address = "山东省德州市德城区新华街道新华路26号院3号楼2单元501室及地下储藏室"
    for hanging in (False, True):
        page = render_lease("赵德明", "李建国", "37140219880721003X", address, dt.date(2025, 1, 1),
                            dt.date(2027, 12, 31), hanging_indent=hanging)  # fmt: skip
        out = run_extractor(engine.read_regions(page, LEASE.regions).lines, LEASE)
        assert out.values()["premises_address"] == address
        assert out.fields["premises_address"].valid
        assert out.values()["term_end"] == "2027-12-31"


@pytest.mark.parametrize(
    ("printed", "ok"),
    [("有限责任公司(自然人投资或控股)", True), ("有限责任公司（自然人独资）", True), ("其他有限责任公司", True),
     ("股份有限公司(上市、自然人投资或控股)", True), ("个体工商户", True), ("普通合伙企业", True),
     ("有限责任公司分公司(自然人独资)", True), ("型有限责任公司(自然人投资或控股)", False),
     ("有限责任公司(自然人投资或控股", False), ("杭州欧克液压科技有限公司", False)],
)  # fmt: skip
def test_company_type_is_a_closed_vocabulary(printed: str, ok: bool) -> None:
    """A label character read twice (``类型型有限…``) or a neighbour's text is not a company type."""
    out = run_extractor([_at("类型", 100, 100), _at(printed, 300, 100)], BUSINESS_LICENCE)
    assert out.fields["type"].valid is ok and out.fields["type"].needs_confirmation is not ok


def test_label_character_read_twice_is_flagged() -> None:
    lines = [_at("名", 100, 100), _at("称称杭州欧克液压科技有限公司", 200, 100),
             _at("依法须经批准的项目，经相关部门批准后方可开展经营活动", 100, 140)]  # fmt: skip
    out = run_extractor(lines, BUSINESS_LICENCE)
    assert out.fields["name"].needs_confirmation and out.fields["name"].reason is ConfirmReason.LOW_CONFIDENCE


def test_a_date_cut_before_its_day_character_is_not_a_date() -> None:
    """营业期限 wrapped after 2034年11月3: the 0日 on the next line missed, the date must not
    come back as 2034-11-03."""
    lines = [_at("营业期限", 100, 100), _at("2014年12月01日至2034年11月3", 300, 100), _at("0日", 400, 140)]
    out = run_extractor(lines, BUSINESS_LICENCE)
    assert out.fields["term"].value != "2014-12-01至2034-11-03"
    assert not out.fields["term"].valid and out.fields["term"].needs_confirmation
    whole = run_extractor(
        [_at("营业期限", 100, 100), _at("2014年12月01日至2034年11月30日", 300, 100)], BUSINESS_LICENCE
    )
    assert whole.fields["term"].value == "2014-12-01至2034-11-30" and whole.fields["term"].valid
