"""store.outbox.dead_letters: what maintenance mode lists (no payload), oldest first."""

from __future__ import annotations

from pathlib import Path

from offline_cache.store import DeadLetter, OutboxState, Store


def test_dead_letters_lists_only_dead_cases_without_payload(tmp_path: Path) -> None:
    with Store(tmp_path / "kiosk.sqlite3", clock=lambda: 1000.0) as store:
        for i, case_id in enumerate(("c-late", "c-early", "c-sent", "c-pending")):
            store.cases.add(case_id, "senior-card", b'{"name": "secret"}', 100.0 - i)
        store.outbox.dead_letter("c-late", "rejected: HTTP 400: unknown item")
        store.outbox.dead_letter("c-early", "conflict: HTTP 409: other key")
        store.outbox.acknowledge("c-sent", b"{}", 200.0)
        assert store.outbox.dead_letters() == [
            DeadLetter("c-early", "case", "c-early", "senior-card", 99.0, 1, "conflict: HTTP 409: other key"),
            DeadLetter(
                "c-late", "case", "c-late", "senior-card", 100.0, 1, "rejected: HTTP 400: unknown item"
            ),
        ]
        assert [d.case_id for d in store.outbox.dead_letters(limit=1)] == ["c-early"]
        store.outbox.requeue("c-early", 300.0)
        assert [d.case_id for d in store.outbox.dead_letters()] == ["c-late"]
        assert store.outbox.counts(cases=True) == {
            OutboxState.PENDING: 2,
            OutboxState.IN_FLIGHT: 0,
            OutboxState.ACKNOWLEDGED: 1,
            OutboxState.DEAD: 1,
        }
