"""Delivery choice values and checks (kiosk.outputs.delivery) and how item packages declare them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.i18n import has_key
from kiosk.outputs.delivery import (
    DeliveryChoice,
    DeliveryMethod,
    ExpressAddress,
    mask_address,
    mask_mobile,
    options_for,
    validate_express,
)
from kiosk.review.items import PackageRejected, load_package, load_packages

ITEMS = Path(__file__).resolve().parents[2] / "items"
HALL = ("山东省德州市",)
GOOD = {
    "recipient": "张桂兰",
    "mobile": "13905340000",
    "address": "山东省德州市德城区新湖大街1号",
    "postal_code": "253000",
}
P, W, E = DeliveryMethod.PRINT_HERE, DeliveryMethod.WINDOW, DeliveryMethod.EXPRESS


def test_a_good_address_passes() -> None:
    assert validate_express(GOOD, HALL) == {}
    # province left out, full-width spaces, +86 prefix: still fine
    assert (
        validate_express({**GOOD, "address": "德州市 武城县广运街5号", "mobile": "+86 139-0534-0000"}, HALL)
        == {}
    )


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("recipient", "", "delivery.error.recipient"),
        ("recipient", "张" * 31, "delivery.error.recipient"),
        ("mobile", "0534-1234567", "delivery.error.mobile"),
        ("mobile", "1390534000", "delivery.error.mobile"),
        ("address", "  ", "delivery.error.address_required"),
        ("address", "北京市朝阳区建国路1号", "delivery.error.address_outside"),
        ("address", "山东省济南市历下区泉城路1号", "delivery.error.address_outside"),
        ("address", "山东省德州市德城区", "delivery.error.address_incomplete"),
        ("postal_code", "25300", "delivery.error.postal_code"),
        ("postal_code", "", "delivery.error.postal_code"),
    ],
)
def test_each_bad_field_gets_its_own_message(field: str, value: str, key: str) -> None:
    errors = validate_express({**GOOD, field: value}, HALL)
    assert errors == {field: key}
    assert has_key(key)


def test_all_bad_fields_reported_at_once() -> None:
    errors = validate_express({}, HALL)
    assert set(errors) == {"recipient", "mobile", "address", "postal_code"}


def test_options_follow_the_outcome() -> None:
    assert options_for((P, W, E), P, "approve") == ((P, W, E), P)
    assert options_for((P, W, E), P, "manual") == ((W, E), W)  # nothing to print before review
    assert options_for((P, W, E), E, "manual") == ((W, E), E)
    assert options_for((P, W, E), P, "reject") == ((), None)
    assert options_for((P,), P, "manual") == ((), None)


def test_masking_for_paper() -> None:
    assert mask_address("山东省德州市德城区新湖大街1号") == "山东省德州市德城区******"
    assert mask_address("德州市武城县广运街5号") == "德州市武城县******"
    assert "新湖大街" not in mask_address("山东省德州市德城区新湖大街1号")
    assert mask_mobile("13905340000") == "139****0000"
    assert mask_mobile("+86 139 0534 0000") == "139****0000"


def test_choice_values() -> None:
    address = ExpressAddress(**GOOD)
    assert "张桂兰" not in repr(address) and "新湖大街" not in repr(address)
    assert DeliveryChoice(E, address).to_record()["address"] == GOOD
    assert DeliveryChoice(W).to_record() == {"method": "window", "address": None}
    with pytest.raises(ValueError):
        DeliveryChoice(E)
    with pytest.raises(ValueError):
        DeliveryChoice(W, address)


def test_packages_declare_delivery_and_commitment() -> None:
    packages = load_packages(ITEMS)
    senior = packages["senior-card"].outputs
    assert senior.delivery is not None
    assert senior.delivery.options == ("print_here", "window", "express")
    assert senior.delivery.default == "print_here"
    assert senior.commitment is None
    business = packages["business-registration"].outputs
    assert business.delivery is not None and business.delivery.default == "window"
    assert business.commitment is not None
    assert business.commitment.deadline_days == 20
    assert business.commitment.outcomes == ("approve", "manual")
    assert "房屋租赁合同" in business.commitment.originals[0].zh
    assert packages["resident-pension"].outputs.delivery is None


def _senior_doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads((ITEMS / "senior-card.json").read_text(encoding="utf-8"))
    return doc


def test_a_default_outside_the_options_is_refused() -> None:
    doc = _senior_doc()
    doc["outputs"]["delivery"] = {"options": ["window"], "default": "express"}  # type: ignore[index]
    with pytest.raises(PackageRejected, match="default"):
        load_package(json.dumps(doc, ensure_ascii=False).encode("utf-8"))


@pytest.mark.parametrize(
    "delivery",
    [
        {"options": ["drone"], "default": "drone"},
        {"options": [], "default": "window"},
        {"options": ["window"]},
    ],
)
def test_malformed_delivery_is_refused_by_the_schema(delivery: dict[str, object]) -> None:
    doc = _senior_doc()
    doc["outputs"]["delivery"] = delivery  # type: ignore[index]
    with pytest.raises(PackageRejected, match="schema violation"):
        load_package(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
