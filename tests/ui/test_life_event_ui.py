"""A life event applied for as one application (一件事一次办) through the real window against the
sandbox platform: identity once, one combined form with the shared fields asked once, the bank card
scanned once, each item reviewed by its own rules, one signature; the platform receives one case per
item under one application id, exactly once; the receipt, decoded from the printer's bytes, lists
every item with its decision."""

from __future__ import annotations

import pytest
import requests
from PySide6.QtWidgets import QLineEdit

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from offline_cache.store import OutboxState
from terminal.demo_bundle import run_life_event
from tests.conftest import Factory

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def test_retirement_as_one_application(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    fields_seen: list[str] = []
    # the combined form: every item's fields, each key once
    terminal.session.machine.subscribe(
        lambda _old, new: (
            fields_seen.extend(
                w.objectName()
                for w in driver.window.findChildren(QLineEdit)
                if w.objectName().startswith("field:")
            )
            if new is Step.MATERIALS
            else None
        )
    )
    rec = run_life_event(driver)
    items = ["hpf-withdrawal-retirement", "retirement-pension-claim", "senior-card"]
    assert rec.items == items
    assert sorted(set(fields_seen)) == sorted(
        f"field:{k}" for k in ("name", "id_number", "address", "birth_date", "age", "phone", "bank_account")
    )
    assert len(fields_seen) == len(set(fields_seen))  # the shared fields asked once

    # one review per item: the pension is staff-reviewed, so the application goes to staff
    assert rec.decision == "manual"
    assert [r.split(":")[0] for r in rec.reasons] == [
        terminal.session.catalogue.package(i).name_en for i in items
    ]

    # the receipt, decoded from the printer's ESC/POS bytes, lists every item and its decision
    text = rec.receipt_text.replace("\n", "")  # lines wrap at the paper's width
    assert "事项名称：退休一件事" in text
    # the platform lookup finds 张桂兰 retired (sandbox_platform/lookups.py): approved on the spot
    assert "1. 离休、退休提取住房公积金：准予办理" in text
    assert "2. 职工基本养老保险待遇申领（退休）：已受理，转人工审核（本事项由工作人员审核办理）" in text
    assert "3. 老年人优待证申领：准予办理（申请人年满60周岁，符合条件）" in text

    # one application at the platform: one case per item, one bundle id, each exactly once
    def acknowledged() -> bool:
        terminal.drainer.kick()
        return terminal.store.outbox.counts(cases=True)[OutboxState.ACKNOWLEDGED] == 3

    driver.wait_until(acknowledged, 30.0, "the three cases acknowledged")
    assert terminal.sandbox is not None
    [bundle] = requests.get(f"{terminal.sandbox.url}/_sandbox/bundles", timeout=10).json()
    assert bundle["life_event"] == "retirement" and bundle["items"] == items and bundle["complete"]
    assert [c["item_id"] for c in bundle["cases"]] == items
    assert [c["outcome"] for c in bundle["cases"]] == ["approve", "manual", "approve"]
    assert len({c["platform_ref"] for c in bundle["cases"]}) == 3
    received = [c["case_id"] for c in terminal.client.sandbox.received_cases()]
    assert sorted(received) == sorted(c["case_id"] for c in bundle["cases"])  # each case once
    assert rec.case_id == bundle["cases"][0]["case_id"]

    # the approved items (the withdrawal and the senior card) get their double-publicity records,
    # the one for staff none
    approved = {bundle["cases"][0]["case_id"], bundle["cases"][2]["case_id"]}

    def published() -> list[str]:
        terminal.drainer.kick()
        return [p["record"]["case_id"] for p in terminal.client.published_records()]

    driver.wait_until(lambda: approved <= set(published()), 30.0, "the approvals' publicity records")
    assert sorted(published()) == sorted(approved)
