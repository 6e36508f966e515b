"""Field extraction and cross-checks on OCR lines (no model)."""

from __future__ import annotations

import pytest

from kiosk.documents.materials import (
    LEASE_FIELDS,
    FieldSpec,
    MaterialSpecError,
    cross_check,
    extract_fields,
    normalise_text,
)
from kiosk.documents.ocr import OcrLine
from terminal.docgen import find_cjk_font, format_cn_date, render_demo_lease

BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


def lines(*texts: str) -> list[OcrLine]:
    return [OcrLine(t, 0.9, BOX) for t in texts]


def test_normalise_text() -> None:
    assert normalise_text("承租方（乙方）： 李 建国") == "承租方(乙方):李建国"
    assert normalise_text("ＡＢＣ１２３") == "ABC123"
    assert normalise_text("37l4O2198807210O3x", "code") == "37140219880721003X"
    assert normalise_text("2027年12月31日", "date") == "2027-12-31"
    assert normalise_text("2025.1.1", "date") == "2025-01-01"
    with pytest.raises(MaterialSpecError):
        normalise_text("x", "nope")


def test_extract_lease_fields_full_and_half_width() -> None:
    got = extract_fields(
        lines(
            "房屋租赁合同",
            "出租方（甲方）：赵德明",
            "承租方(乙方):李建国",
            "乙方身份证号码：37l4O2198807210O3X",
            "房屋坐落：山东省德州市德城区 新华路26号",
            "租赁期限：2025年1月1日至2027年12月31日",
            "乙方（签字）：李建国",
        ),
        LEASE_FIELDS,
    )
    assert {k: v.value for k, v in got.items()} == {
        "lessor": "赵德明",
        "lessee": "李建国",
        "lessee_id": "37140219880721003X",
        "premises_address": "山东省德州市德城区新华路26号",
        "term_start": "2025-01-01",
        "term_end": "2027-12-31",
    }
    assert got["lessee"].confidence == 0.9 and got["lessee"].box == BOX
    assert "李建国" not in repr(got["lessee"])


def test_label_alone_takes_next_line_and_missing_fields_absent() -> None:
    got = extract_fields(lines("承租方（乙方）：", "李建国"), LEASE_FIELDS)
    assert got["lessee"].value == "李建国"
    assert "premises_address" not in got and "term_end" not in got


def test_field_spec_from_plain_data() -> None:
    spec = FieldSpec.from_dict(
        {"key": "phone", "label": "联系电话", "value": r"(1\d{10})", "normaliser": "code"}
    )
    assert extract_fields(lines("联系电话：139 0534 OOOO"), [spec])["phone"].value == "13905340000"
    with pytest.raises(MaterialSpecError):
        FieldSpec.from_dict({"key": "x", "label": "(", "value": "(.+)"})
    with pytest.raises(MaterialSpecError):
        FieldSpec.from_dict({"key": "x", "label": "a", "normaliser": "upper"})
    with pytest.raises(MaterialSpecError):
        FieldSpec.from_dict({"key": "x", "label": "a", "colour": "red"})


def test_cross_check() -> None:
    got = extract_fields(lines("承租方（乙方）：李建国", "房屋坐落：新华路26号"), LEASE_FIELDS)
    results = cross_check(
        got, {"lessee": "李 建国", "premises_address": "新华路28号", "term_end": "2027-12-31"}
    )
    assert [(r.field, r.found, r.match) for r in results] == [
        ("lessee", "李建国", True),
        ("premises_address", "新华路26号", False),
        ("term_end", None, False),
    ]


def test_docgen_renders_page() -> None:
    assert find_cjk_font().is_file()
    assert format_cn_date(__import__("datetime").date(2025, 1, 1)) == "2025年1月1日"
    page = render_demo_lease()
    assert page.shape == (2048, 1536, 3) and page.dtype.name == "uint8"
    dark = (page.min(axis=2) < 100).mean()
    assert 0.005 < dark < 0.2  # there is text, and it is a page, not a black box
    assert render_demo_lease(size=(768, 1024)).shape == (1024, 768, 3)


def test_validator_names_in_the_schema_are_the_extractors() -> None:
    """The rule-package schema lists exactly the validators the extractor knows."""
    import json

    from kiosk.documents.extractors import VALIDATORS
    from kiosk.documents.materials import NORMALISERS
    from kiosk.review.items import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    extract = schema["$defs"]["material"]["properties"]["extract"]["items"]["properties"]
    assert set(extract["validator"]["enum"]) == set(VALIDATORS)
    assert set(extract["normaliser"]["enum"]) == set(NORMALISERS)


def test_package_sets_validator_threshold_and_multiline_per_field() -> None:
    """What the package sets wins over the built-in extractor's defaults; unset, those apply."""
    from kiosk.documents.capture import field_rules
    from kiosk.review.items import ExtractSpec, MaterialSpec, Text

    spec = MaterialSpec(
        "lease",
        Text("租赁合同", "Lease"),
        True,
        (
            ExtractSpec("lessee", Text("承租方", "Lessee"), "承租方", "(.+)", "text", "cjk_name", 0.95, None),
            ExtractSpec("premises_address", Text("房屋坐落", "Premises"), "房屋坐落", "(.+)"),
            ExtractSpec("rent", Text("月租金", "Rent"), "月租金", "(.+)", "text", "money", None, True),
        ),
        (),
    )
    rules = field_rules(spec)
    assert (rules["lessee"].validator, rules["lessee"].min_confidence) == ("cjk_name", 0.95)
    assert rules["premises_address"].multiline  # the built-in lease extractor's
    assert (rules["rent"].validator, rules["rent"].min_confidence, rules["rent"].multiline) == (
        "money",
        0.85,
        True,
    )


def test_shipped_package_per_field_settings_are_loaded() -> None:
    from pathlib import Path

    from kiosk.review.items import load_package

    path = Path(__file__).resolve().parents[2] / "items" / "business-registration.json"
    (lease,) = load_package(path.read_bytes()).materials
    by_key = {e.key: e for e in lease.extract}
    assert (by_key["lessee"].validator, by_key["lessee"].min_confidence) == ("cjk_name", 0.9)
    assert by_key["premises_address"].multiline is True
    assert by_key["term_end"].validator == "date" and by_key["term_end"].min_confidence is None
