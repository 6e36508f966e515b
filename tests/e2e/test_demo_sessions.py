"""The whole terminal, end to end: three citizens through the real UI on the simulators.

Checks the decisions, the cases the sandbox platform received (exactly once
each), the receipts as decoded from the ESC/POS bytes the printer simulator
received, the certificate, the screenshots and summary.json of ``make demo``,
and that no personal data reached any log line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from devices.idcard.sim_cards import sim_card
from kiosk import logsetup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class _Raw(logging.Handler):
    """Everything logged, before redaction, as the code produced it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, face_verifier: Any, ocr_engine: Any) -> dict[str, Any]:
    from terminal.demo import run_demo

    out = tmp_path_factory.mktemp("demo-out")
    work = tmp_path_factory.mktemp("demo-work")
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    logsetup.configure(out / "logs", level=logging.DEBUG, console=False)
    raw = _Raw()
    root.addHandler(raw)
    received: list[dict[str, Any]] = []
    try:
        summary = run_demo(out, workdir=work, face=face_verifier, ocr=ocr_engine, collect_platform=received)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            if h is not raw:
                h.close()
        for h in saved_handlers:
            root.addHandler(h)
        root.setLevel(saved_level)
        logsetup.clear_sensitive()
    return {"summary": summary, "out": out, "raw": raw.lines, "received": received, "work": work}


def _session(demo: dict[str, Any], item: str) -> dict[str, Any]:
    [s] = [s for s in demo["summary"]["sessions"] if s["item"] == item]
    return s


def test_three_items_give_the_three_outcomes(demo: dict[str, Any]) -> None:
    assert _session(demo, "senior-card")["decision"] == "approve"
    business = _session(demo, "business-registration")
    assert business["decision"] == "manual"
    assert any("dishonest" in r for r in business["reasons"])
    # the expired card is refused at the card step, with what to do next: no case is filed
    pension = _session(demo, "resident-pension")
    assert pension["decision"] == "refused_at_card"
    assert pension["reasons"] == ["The ID card has expired"]
    assert pension["case_id"] == "" and pension["case_number"] == "" and not pension["receipt_text"]
    steps = [st["step"] for st in pension["steps"]]
    assert steps[:3] == ["attract", "choose_item", "read_card"] and "face_check" not in steps


def test_every_case_reached_the_sandbox_exactly_once(demo: dict[str, Any]) -> None:
    sessions = [s for s in demo["summary"]["sessions"] if s["case_id"]]  # the refused card filed none
    assert len(sessions) == 2 and all(s["acknowledged"] for s in sessions)
    applicants = {a["case_id"] for a in demo["summary"]["applicants"]["sessions"]}  # checked below
    single = [
        c
        for c in demo["received"]
        if "bundle" not in json.loads(base64.b64decode(c["opened_payload_b64"]))
        and c["case_id"] not in applicants
    ]
    ids = [c["case_id"] for c in single]
    assert sorted(ids) == sorted(s["case_id"] for s in sessions)
    assert len(ids) == len(set(ids))
    by_id = {c["case_id"]: c for c in demo["received"]}
    for s in sessions:
        received = by_id[s["case_id"]]
        # The case body travelled sealed (FieldCipher, key agreed with the platform): no ID number or
        # name on the wire; the platform opened it and reads the fields the terminal sent.
        wire = base64.b64decode(received["payload_b64"])
        assert received["encryption"] == "aes-256-gcm"
        as_sent = {k: v for k, v in received.items() if k not in ("opened_payload_b64", "published")}
        for secret in ("371402195203140022", "37140219880721003X", "371428197911020016", "张桂兰", "李建国"):
            assert secret.encode() not in wire and secret not in json.dumps(as_sent, ensure_ascii=False)
        payload = json.loads(base64.b64decode(received["opened_payload_b64"]))
        assert payload["item"]["id"] == s["item"]
        assert payload["decision"]["outcome"] == s["decision"]
        # The signature (and page images) went ahead as attachments, referenced by id and hash.
        refs = {r["name"]: r for r in received["attachments"]}
        assert payload["signature_attachment"] == refs["signature"]["attachment_id"]
        # The face check's best frame went too; score and threshold in the identity evidence
        evidence = payload["identity_evidence"]
        assert evidence["face_frame_attachment"] == refs["face"]["attachment_id"]
        assert evidence["face_matched"] is True and evidence["face_score"] <= evidence["face_threshold"]
    business = json.loads(
        base64.b64decode(by_id[_session(demo, "business-registration")["case_id"]]["opened_payload_b64"])
    )
    [lease] = business["materials"]
    assert lease["fields"]["lessee"]["value"] == "李建国"
    assert all(c["match"] for c in lease["cross_checks"])
    assert (
        lease["image_attachment"]
        == {r["name"]: r for r in by_id[_session(demo, "business-registration")["case_id"]]["attachments"]}[
            "material:lease:0"
        ]["attachment_id"]
    )


def test_the_life_event_reached_the_sandbox_as_one_application(demo: dict[str, Any]) -> None:
    """退休一件事: one case per item, sealed, each once, all carrying the same bundle object."""
    opened = [(c, json.loads(base64.b64decode(c["opened_payload_b64"]))) for c in demo["received"]]
    bundled = [(c, p) for c, p in opened if "bundle" in p]
    items = demo["summary"]["life_event"]["items"]
    assert [p["bundle"]["position"] for _c, p in bundled] == [0, 1, 2]
    assert [c["item_id"] for c, _p in bundled] == items == bundled[0][1]["bundle"]["items"]
    assert len({p["bundle"]["id"] for _c, p in bundled}) == 1
    assert len({c["case_id"] for c, _p in bundled}) == 3
    assert all(c["encryption"] == "aes-256-gcm" for c, _p in bundled)
    assert [p["decision"]["outcome"] for _c, p in bundled] == ["approve", "manual", "approve"]
    assert bundled[0][1]["form"]["bank_account"] and "bank_account" not in bundled[2][1]["form"]
    # the approved item's double-publicity record is published like a single item's
    assert [len(c["published"]) for c, _p in bundled] == [1, 0, 1]


def test_publicity_record_of_the_approval_is_published(demo: dict[str, Any]) -> None:
    # The approval's double-publicity record went through the outbox to the platform.
    by_id = {c["case_id"]: c for c in demo["received"]}
    senior = by_id[_session(demo, "senior-card")["case_id"]]
    [published] = senior["published"]
    assert published["record"]["id_number"] == "3714**********0022"
    assert published["record"]["party_name"] == "张桂兰"
    assert by_id[_session(demo, "business-registration")["case_id"]]["published"] == []


def test_receipts_decoded_from_the_printer_bytes(demo: dict[str, Any]) -> None:
    senior = _session(demo, "senior-card")
    assert "办结回执" in senior["receipt_text"]
    # the short readable number, never the UUID (the idempotency key)
    assert senior["case_number"] in senior["receipt_text"] and senior["case_id"] not in senior["receipt_text"]
    assert len(senior["case_number"]) < 20
    assert "老年人优待证申领" in senior["receipt_text"]
    assert "张*兰" in senior["receipt_text"]
    assert "371402195203140022" not in senior["receipt_text"]
    assert "转人工审核" in _session(demo, "business-registration")["receipt_text"]
    out: Path = demo["out"]
    for key in ("senior", "business"):
        assert (out / f"{key}-receipt.txt").read_text(encoding="utf-8").strip()
        assert (out / f"{key}-receipt.png").stat().st_size > 1000


def test_certificate_only_for_the_approved_item(demo: dict[str, Any]) -> None:
    assert _session(demo, "senior-card")["certificate"] == "senior-certificate.pdf"
    assert _session(demo, "business-registration")["certificate"] is None
    assert _session(demo, "resident-pension")["certificate"] is None
    assert (demo["out"] / "senior-certificate.pdf").read_bytes().startswith(b"%PDF")
    # The certificate went to the platform as an attachment; it serves the same PDF.
    by_id = {c["case_id"]: c for c in demo["received"]}
    pdf = (demo["out"] / "senior-certificate.pdf").read_bytes()
    assert (
        by_id[_session(demo, "senior-card")["case_id"]]["certificate_sha256"]
        == hashlib.sha256(pdf).hexdigest()
    )
    assert by_id[_session(demo, "business-registration")["case_id"]]["certificate_sha256"] is None


def test_summary_json_shape_and_screenshots(demo: dict[str, Any]) -> None:
    out: Path = demo["out"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["sessions"]) == 3
    catalogue = summary["catalogue"]  # the catalogue browsed all, by department, by life event, by initials
    assert catalogue["items"] >= 30
    assert {s["tab"] for s in catalogue["screenshots"]} == {"all", "department", "life_event"}
    consultation = summary["consultation"]  # 智能咨询: one item started, one life event opened
    assert [(s["kind"], s["started"]) for s in consultation["sessions"]] == [
        ("item", "senior-card"),
        ("life_event", ["birth-registration", "maternity-allowance", "newborn-medical-insurance"]),
    ]
    life_event = summary["life_event"]  # 退休一件事 as one application, one receipt listing each item
    assert life_event["items"] == ["hpf-withdrawal-retirement", "retirement-pension-claim", "senior-card"]
    assert life_event["decision"] == "manual" and len(life_event["reasons"]) == 3
    assert "退休一件事" in life_event["receipt_text"]
    for name in life_event["screenshots"]:
        assert (out / name).stat().st_size > 10_000
    for name in consultation["screenshots"]:
        assert (out / name).stat().st_size > 10_000
    for shot in catalogue["screenshots"]:
        assert (out / shot["file"]).read_bytes().startswith(b"\x89PNG") and shot["items"] > 0
    for s in summary["sessions"]:
        assert isinstance(s["item"], str)
        assert s["decision"] in {"approve", "reject", "manual", "refused_at_card"}
        assert isinstance(s["reasons"], list) and all(isinstance(r, str) for r in s["reasons"])
        assert isinstance(s["acknowledged"], bool)
        steps = [st["step"] for st in s["steps"]]
        if s["decision"] == "refused_at_card":
            assert steps[:3] == ["attract", "choose_item", "read_card"] and "face_check" not in steps
            assert not s["case_id"]
            assert any("card_refused" in name for name in s["screenshots"])
            continue
        assert isinstance(s["case_id"], str) and s["case_id"] and s["case_number"]
        assert steps[:4] == ["attract", "choose_item", "read_card", "face_check"]
        assert {"form", "review", "confirm_sign", "submit", "result", "rating"} <= set(steps)
        assert all(isinstance(st["ms"], (int, float)) and st["ms"] >= 0 for st in s["steps"])
        for name in s["screenshots"]:
            assert (out / name).stat().st_size > 5000
    assert "materials" in [st["step"] for st in _session(demo, "business-registration")["steps"]]


def test_no_personal_data_in_any_log(demo: dict[str, Any]) -> None:
    secrets: list[str] = []
    for key in ("senior", "business", "expired"):
        text = sim_card(key).text
        secrets += [text.id_number, text.name, text.address]
    secrets += ["13905340000", "山东省德州市德城区新华路26号"]
    log_dir: Path = demo["out"] / "logs"
    files = sorted(log_dir.glob("*.log"))
    assert files, "the run wrote no log files"
    written = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert "session" in written and "tx find_card" in written  # the logs did capture the run
    raw = "\n".join(demo["raw"])
    for secret in secrets:
        assert secret not in written, "personal data in a log file"
        assert secret not in raw, "personal data logged (before redaction)"


def test_terminal_database_encrypted_and_approval_archived(demo: dict[str, Any]) -> None:
    work: Path = demo["work"]
    db_files = [p for p in work.glob("terminal.db*") if p.is_file()]
    assert db_files
    for path in db_files:
        raw = path.read_bytes()
        assert b"SQLite format 3" not in raw
        for key in ("senior", "business", "expired"):
            text = sim_card(key).text
            assert text.id_number.encode() not in raw
            assert text.name.encode("utf-8") not in raw
    # §8.5: each approved case has a ledger entry with a fixity hash; the others do not: the senior
    # card of the single session, the approved ones within the life event (its first and third cases:
    # the platform lookup finds the citizen retired), then the agent's and the legal person's
    # applications (terminal/demo_applicants.py)
    chain = (work / "ledger" / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    senior_case = _session(demo, "senior-card")["case_id"]
    opened = [(c["case_id"], json.loads(base64.b64decode(c["opened_payload_b64"]))) for c in demo["received"]]
    bundled = [i for i, p in opened if p.get("bundle", {}).get("position") == 2]
    approved_in_bundle = [i for i, p in opened if "bundle" in p and p["decision"]["outcome"] == "approve"]
    applicants = [a["case_id"] for a in demo["summary"]["applicants"]["sessions"]]
    expected = [senior_case, *approved_in_bundle, *applicants]
    assert bundled and bundled[0] in approved_in_bundle and len(approved_in_bundle) == 2
    assert len(chain) == len(expected) and all(
        case in entry for case, entry in zip(expected, chain, strict=True)
    )


def test_summary_has_the_delivery_choice_slips_and_commitment_form(demo: dict[str, Any]) -> None:
    senior = _session(demo, "senior-card")
    assert senior["delivery"] == "print_here" and senior["queue_number"] is None
    assert "取件方式：本机打印" in senior["receipt_text"] and senior["slips"] == []
    business = _session(demo, "business-registration")
    assert business["delivery"] == "window"  # the item's default; print here is not offered in review
    number = business["queue_number"]
    assert number and f"排 队 号：{number}" in business["receipt_text"]
    pickup, ticket = business["slips"]
    assert "取件单" in pickup and business["case_number"] in pickup
    assert "排队号" in ticket and number in ticket.splitlines()
    assert business["commitment"] == "business-commitment.pdf"
    assert (demo["out"] / "business-commitment.pdf").read_bytes().startswith(b"%PDF")
    assert (demo["out"] / "business-commitment.png").stat().st_size > 5000
    pension = _session(demo, "resident-pension")
    assert pension["delivery"] is None and pension["queue_number"] is None and pension["commitment"] is None
    received = {c["case_id"]: c for c in demo["received"]}
    payload = json.loads(base64.b64decode(received[business["case_id"]]["opened_payload_b64"]))
    assert payload["delivery"] == {"method": "window", "address": None}
    assert payload["queue_number"] == number


def test_summary_reports_accessibility_and_keyboard_typing(demo: dict[str, Any]) -> None:
    """Every screen checked in both modes at four sizes, none failing."""
    out: Path = demo["out"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    report = summary["accessibility"]
    assert report["violations"] == 0, report["violation_list"]
    assert report["screens_checked"] >= 17 * 4 * 2
    assert report["modes"] == ["normal", "elderly"] and len(report["sizes"]) == 4
    for size in ("1920x1080", "1080x1920"):
        for mode in ("normal", "elderly"):
            assert (out / "accessibility" / f"confirm_sign_{mode}_{size}.png").is_file()
    # typed on the keys where the keyboard serves the window (the first window of a process:
    # `make demo`; tests/ui/test_keyboard_typing.py types in a fresh process)
    assert isinstance(_session(demo, "business-registration")["keyboard_typed_chars"], int)


def test_an_agent_and_a_legal_person_apply_with_their_receipts(demo: dict[str, Any]) -> None:
    """代办 (hpf-withdrawal-rent) and 法人 (employer-social-insurance-registration) through the UI:
    the platform received each case once, with who applied for whom; the receipts name both."""
    out: Path = demo["out"]
    applicants = demo["summary"]["applicants"]
    agent, entity = applicants["sessions"]
    assert (agent["item"], agent["applicant_kind"], agent["applicant_type"], agent["agent_role"]) == (
        "hpf-withdrawal-rent",
        "agent",
        "person",
        "agent",
    )
    assert (entity["item"], entity["applicant_kind"], entity["applicant_type"], entity["agent_role"]) == (
        "employer-social-insurance-registration",
        "legal_person",
        "legal_person",
        "legal_representative",
    )
    received = [c["case_id"] for c in demo["received"]]
    for s in (agent, entity):
        assert s["decision"] == "approve" and received.count(s["case_id"]) == 1
        text = (out / s["receipt"]).read_text(encoding="utf-8")
        assert text == s["receipt_text"] and (out / s["receipt_png"]).stat().st_size > 1000
    assert "申 请 人：王*明" in agent["receipt_text"] and "代 办 人：张*兰" in agent["receipt_text"]
    assert "信用代码：9137" in entity["receipt_text"] and "法定代表人：李*国" in entity["receipt_text"]
    for secret in ("371402195203140022", "37140219880721003X", "371428197911020016"):
        assert secret not in agent["receipt_text"] + entity["receipt_text"]
    for label in ("agent", "legal_person"):
        names = [n for n in applicants["screenshots"] if n.startswith(f"applicant-{label}-")]
        assert [n.split("-", 3)[3] for n in names] == [
            "form.png",
            "materials.png",
            "confirm_sign.png",
            "result.png",
        ]
        assert all((out / n).stat().st_size > 10_000 for n in names)
