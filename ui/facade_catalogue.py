"""The catalogue's queries, part of the one facade (:attr:`ui.facade.KioskFacade.catalogue`).

Rows, filters and details are immutable view-models; a row is built once per package version
and reused, so a keystroke costs one index search and no widget (the screen shows the rows
through a model/view list)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.review.items import ItemPackage
from ui.viewmodels import Bilingual

if TYPE_CHECKING:
    from kiosk.session.catalogue import Catalogue
    from ui.facade import KioskFacade


@dataclass(frozen=True)
class CatalogueRow:
    id: str
    name: Bilingual
    department: Bilingual
    #: reviewed by staff only (no automatic decision)
    manual: bool


@dataclass(frozen=True)
class CatalogueFilter:
    """A department (key: its Chinese name) or a life event (key: its id) with its item count."""

    key: str
    label: Bilingual
    count: int


@dataclass(frozen=True)
class LifeEventView:
    id: str
    name: Bilingual
    items: tuple[Bilingual, ...]
    #: labels of the form fields the bundle's items share: filled in once
    shared_fields: tuple[Bilingual, ...]


@dataclass(frozen=True)
class ItemDetail:
    row: CatalogueRow
    conditions: tuple[Bilingual, ...]
    materials: tuple[Bilingual, ...]
    legal_basis: tuple[Bilingual, ...]
    time_limit_days: int | None
    time_limit_note: Bilingual | None
    fee_yuan: float | None
    fee_note: Bilingual | None
    life_events: tuple[Bilingual, ...]


def _pair(zh: str, en: str) -> Bilingual:
    return (zh, en)


class CatalogueFacade:
    def __init__(self, facade: KioskFacade, catalogue: Catalogue) -> None:
        self.facade = facade
        self._catalogue = catalogue
        self._rows: dict[str, tuple[str, CatalogueRow]] = {}  # id -> (sha256, row)

    def _row(self, pkg: ItemPackage) -> CatalogueRow:
        cached = self._rows.get(pkg.id)
        if cached is not None and cached[0] == pkg.sha256:
            return cached[1]
        dept = pkg.catalogue.department
        row = CatalogueRow(pkg.id, (pkg.name_zh, pkg.name_en), (dept.zh, dept.en), pkg.manual_only)
        self._rows[pkg.id] = (pkg.sha256, row)
        return row

    def rows(
        self, query: str = "", department: str | None = None, life_event: str | None = None
    ) -> list[CatalogueRow]:
        """The items matching ``query`` within a department or a life event, best matches first."""
        return [self._row(p) for p in self._catalogue.search(query, department, life_event)]

    def departments(self) -> list[CatalogueFilter]:
        counts: dict[str, int] = {}
        for pkg in self._catalogue.items():
            counts[pkg.catalogue.department.zh] = counts.get(pkg.catalogue.department.zh, 0) + 1
        return [CatalogueFilter(d.zh, _pair(d.zh, d.en), counts[d.zh]) for d in self._catalogue.departments()]

    def life_events(self) -> list[LifeEventView]:
        out = []
        for event in self._catalogue.life_events():
            pkgs = [self._catalogue.package(i) for i in event.item_ids]
            labels: dict[str, Bilingual] = {}
            for pkg in pkgs:
                for f in pkg.form:
                    if f.key in event.shared_fields:
                        labels.setdefault(f.key, (f.label.zh, f.label.en))
            out.append(
                LifeEventView(
                    event.id,
                    (event.name.zh, event.name.en),
                    tuple((p.name_zh, p.name_en) for p in pkgs),
                    tuple(labels.values()),
                )
            )
        return out

    def detail(self, item_id: str) -> ItemDetail:
        pkg = self._catalogue.package(item_id)
        cat = pkg.catalogue
        return ItemDetail(
            row=self._row(pkg),
            conditions=tuple((c.zh, c.en) for c in cat.conditions),
            materials=tuple((m.zh, m.en) for m in cat.materials_summary),
            legal_basis=tuple((b.zh, b.en) for b in cat.legal_basis),
            time_limit_days=cat.time_limit_days,
            time_limit_note=None
            if cat.time_limit_note is None
            else (cat.time_limit_note.zh, cat.time_limit_note.en),
            fee_yuan=cat.fee_yuan,
            fee_note=None if cat.fee_note is None else (cat.fee_note.zh, cat.fee_note.en),
            life_events=tuple((e.name.zh, e.name.en) for e in cat.life_events),
        )

    def choose(self, item_id: str) -> None:
        self.facade.choose_item(item_id)

    def choose_life_event(self, event_id: str) -> None:
        """Apply for every item of the life event at once (一件事)."""
        self.facade.choose_life_event(event_id)
