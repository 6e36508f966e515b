"""The catalogue: choose an item among hundreds, by search, by department or by life event.

A model/view list (one model, no widget per item) that scrolls by finger drag (QScroller) and by
two large page buttons; tabs choose all items, a department or a life event (一件事), whose
filters show in a second list; the search field matches name, keyword, pinyin and pinyin
initials (the facade's index: no work per item per keystroke).  The detail of the selected item
shows conditions, materials, time limit, fee and legal basis as the service guide gives them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QScrollArea,
    QScroller,
    QScrollerProperties,
    QVBoxLayout,
)

from kiosk.i18n import bilingual, format_number, tr
from ui.facade import KioskFacade
from ui.facade_catalogue import CatalogueFilter, CatalogueRow, ItemDetail, LifeEventView
from ui.screens.base import Screen
from ui.viewmodels import Step
from ui.widgets import BigButton, Title

ID_ROLE = Qt.ItemDataRole.UserRole
TABS = ("all", "department", "life_event")
_Index = QModelIndex | QPersistentModelIndex


class RowModel(QAbstractListModel):
    """Rows of (key, primary text, secondary text); replaced whole on each search."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[str, str, str]] = []

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        key, primary, secondary = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{primary}\n{secondary}" if secondary else primary
        if role == ID_ROLE:
            return key
        return None

    def key(self, row: int) -> str:
        return self._rows[row][0]

    def row_of(self, key: str) -> int:
        for i, r in enumerate(self._rows):
            if r[0] == key:
                return i
        return -1


def touch_list(name: str, row_height: int) -> QListView:
    """A list view for fingers: uniform tall rows, kinetic drag scrolling, no scroll bar to aim at."""
    view = QListView()
    view.setObjectName(name)
    view.setUniformItemSizes(True)
    view.setWordWrap(True)
    view.setSpacing(4)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setStyleSheet(f"QListView::item {{ min-height: {row_height}px; padding: 6px 12px; }}")
    view.setProperty("dragScroll", True)  # its own gesture: ui.scrolling.enable_drag leaves it alone
    QScroller.grabGesture(view.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    # A touch reaches the row at once (no held press replayed later to whatever widget lies
    # under that screen position); a drag beyond the threshold still scrolls.
    props = QScroller.scroller(view.viewport()).scrollerProperties()
    props.setScrollMetric(QScrollerProperties.ScrollMetric.MousePressEventDelay, 0)
    QScroller.scroller(view.viewport()).setScrollerProperties(props)
    return view


class CatalogueScreen(Screen):
    step = Step.CHOOSE_ITEM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.search = QLineEdit()
        self.search.setObjectName("itemSearch")
        self.search.setMinimumHeight(64)
        self.search.textChanged.connect(lambda _t: self._fill())
        self.tabs = QButtonGroup(self)
        tab_row = QHBoxLayout()
        for i, key in enumerate(TABS):
            b = BigButton(role="secondary")
            b.setObjectName(f"catalogueTab:{key}")
            b.setCheckable(True)
            self.tabs.addButton(b, i)
            tab_row.addWidget(b)
        self.tabs.button(0).setChecked(True)
        self.tabs.idClicked.connect(lambda _i: self._tab_changed())
        self.count = QLabel()
        self.count.setObjectName("catalogueCount")
        tab_row.addStretch(1)
        tab_row.addWidget(self.count)

        self.filter_model = RowModel()
        self.filters = touch_list("catalogueFilters", 72)
        self.filters.setModel(self.filter_model)
        self.filters.clicked.connect(self._filter_clicked)
        self.item_model = RowModel()
        self.list = touch_list("itemList", 88)
        self.list.setModel(self.item_model)
        self.list.clicked.connect(lambda index: self.select(self.item_model.key(index.row())))
        self.bundle = QLabel()
        self.bundle.setObjectName("lifeEventBundle")
        self.bundle.setWordWrap(True)
        self.up = BigButton(role="secondary")
        self.up.setObjectName("catalogueUp")
        self.up.clicked.connect(lambda: self.page(-1))
        self.down = BigButton(role="secondary")
        self.down.setObjectName("catalogueDown")
        self.down.clicked.connect(lambda: self.page(1))
        pager = QHBoxLayout()
        pager.addWidget(self.up)
        pager.addWidget(self.down)
        middle = QVBoxLayout()
        middle.addWidget(self.bundle)
        middle.addWidget(self.list, 1)
        middle.addLayout(pager)

        self.detail = QLabel()
        self.detail.setObjectName("card")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMargin(20)
        self.go = BigButton()
        self.go.setObjectName("startItem")
        self.go.clicked.connect(self._go)
        self.detail_area = QScrollArea()
        self.detail_area.setObjectName("itemDetail")
        self.detail_area.setWidgetResizable(True)
        self.detail_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail_area.setWidget(self.detail)
        QScroller.grabGesture(
            self.detail_area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        self.go_event = BigButton()  # 一件事: every item of the life event in one application
        self.go_event.setObjectName("startLifeEvent")
        self.go_event.clicked.connect(self._go_event)
        right = QVBoxLayout()
        right.addWidget(self.detail_area, 1)
        right.addWidget(self.go_event)
        right.addWidget(self.go)

        body = QHBoxLayout()
        body.addWidget(self.filters, 2)
        body.addLayout(middle, 3)
        body.addLayout(right, 3)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.search)
        self.layout_.addLayout(tab_row)
        self.layout_.addLayout(body, 1)
        self.selected: str | None = None
        self.filter_key: str | None = None
        self._events: dict[str, LifeEventView] = {}

    # ------------------------------------------------------------------ what the citizen does
    @property
    def tab(self) -> str:
        return TABS[max(0, self.tabs.checkedId())]

    def enter(self) -> None:
        self.title.setText(tr("items.title"))
        self.search.setPlaceholderText(tr("items.search"))
        self.go.setText(tr("items.start"))
        self.go_event.setText(tr("catalogue.start_event"))
        self.list.setAccessibleName(tr("items.title"))  # the list of items, read out by its title
        self.up.setText("▲ " + tr("catalogue.up"))
        self.down.setText("▼ " + tr("catalogue.down"))
        for i, key in enumerate(TABS):
            self.tabs.button(i).setText(tr(f"catalogue.tab.{key}"))
        self._fill_filters()
        self._fill()

    def show_tab(self, tab: str, filter_key: str | None = None) -> None:
        """Switch to ``tab`` (all | department | life_event), with one of its filters chosen."""
        self.tabs.button(TABS.index(tab)).setChecked(True)
        self._tab_changed(filter_key)

    def select(self, item_id: str) -> None:
        self.selected = item_id
        row = self.item_model.row_of(item_id)
        if row >= 0:
            index = self.item_model.index(row)
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)
        self._show_detail()

    def page(self, direction: int) -> None:
        """Scroll the item list by most of a page (the large buttons beside the list)."""
        bar = self.list.verticalScrollBar()
        bar.setValue(bar.value() + direction * max(1, int(self.list.viewport().height() * 0.8)))

    # ------------------------------------------------------------------ filling
    def _tab_changed(self, filter_key: str | None = None) -> None:
        self.filter_key = filter_key
        self._fill_filters()
        self._fill()

    def _filter_clicked(self, index: QModelIndex) -> None:
        self.filter_key = self.filter_model.key(index.row())
        self._fill()

    def _fill_filters(self) -> None:
        self.filters.setVisible(self.tab != "all")
        self.filters.setAccessibleName(tr(f"catalogue.tab.{self.tab}"))  # read out by the tab's name
        if self.tab == "all":
            self.filter_model.set_rows([])
            self.filter_key = None
            return
        if self.tab == "department":
            found: list[CatalogueFilter] = self.facade.catalogue.departments()
            rows = [(f.key, bilingual(*f.label), tr("catalogue.count", n=f.count)) for f in found]
        else:
            self._events = {e.id: e for e in self.facade.catalogue.life_events()}
            rows = [
                (e.id, bilingual(*e.name), tr("catalogue.count", n=len(e.items)))
                for e in self._events.values()
            ]
        self.filter_model.set_rows(rows)
        if self.filter_key not in {r[0] for r in rows}:
            self.filter_key = rows[0][0] if rows else None
        if self.filter_key is not None:
            self.filters.setCurrentIndex(self.filter_model.index(self.filter_model.row_of(self.filter_key)))

    def _fill(self) -> None:
        dept = self.filter_key if self.tab == "department" else None
        event = self.filter_key if self.tab == "life_event" else None
        rows: list[CatalogueRow] = self.facade.catalogue.rows(self.search.text(), dept, event)
        show_dept = self.tab != "department"
        self.item_model.set_rows(
            [(r.id, bilingual(*r.name), bilingual(*r.department) if show_dept else "") for r in rows]
        )
        self.count.setText(tr("catalogue.count", n=len(rows)))
        self._show_bundle(event)
        if self.selected not in {r.id for r in rows}:
            self.selected = rows[0].id if rows else None
        if self.selected is not None:
            self.select(self.selected)
        else:
            self._show_detail()

    def _show_bundle(self, event_id: str | None) -> None:
        event = self._events.get(event_id or "")
        self.bundle.setVisible(event is not None)
        self.go_event.setVisible(event is not None)
        if event is not None:
            fields = "、".join(bilingual(*f) for f in event.shared_fields) or "—"
            self.bundle.setText(
                tr("catalogue.bundle", name=bilingual(*event.name), n=len(event.items), fields=fields)
            )

    def _show_detail(self) -> None:
        self.go.setEnabled(self.selected is not None)
        if self.selected is None:
            self.detail.setText(tr("catalogue.none") if self.search.text().strip() else "")
            return
        self.detail.setText(detail_html(self.facade.catalogue.detail(self.selected)))

    def _go_event(self) -> None:
        if self.tab == "life_event" and self.filter_key:
            self.facade.catalogue.choose_life_event(self.filter_key)

    def _go(self) -> None:
        if self.selected:
            self.facade.catalogue.choose(self.selected)


def _fee(d: ItemDetail) -> str:
    if d.fee_yuan is None:
        text = tr("catalogue.fee_window")
    elif d.fee_yuan == 0:
        text = tr("catalogue.free")
    else:
        text = tr("catalogue.fee_yuan", amount=format_number(d.fee_yuan))
    return text + (f"（{escape(bilingual(*d.fee_note))}）" if d.fee_note else "")


def _time(d: ItemDetail) -> str:
    if d.time_limit_days is None:
        text = tr("catalogue.time_window")
    elif d.time_limit_days == 0:
        text = tr("items.on_the_spot")
    else:
        text = tr("items.days", n=d.time_limit_days)
    return text + (f"（{escape(bilingual(*d.time_limit_note))}）" if d.time_limit_note else "")


def detail_html(d: ItemDetail) -> str:
    """The selected item as the service guide summarises it."""

    def joined(pairs: tuple[tuple[str, str], ...]) -> str:
        return "；".join(escape(bilingual(*p)) for p in pairs)

    review = tr("catalogue.manual") if d.row.manual else tr("catalogue.automatic")
    parts = [
        f"<h2>{escape(bilingual(*d.row.name))}</h2>",
        f"<p><b>{tr('catalogue.department')}</b>：{escape(bilingual(*d.row.department))}（{review}）</p>",
        f"<p><b>{tr('items.conditions')}</b>：{joined(d.conditions)}</p>",
        f"<p><b>{tr('items.materials')}</b>：{joined(d.materials) or tr('items.no_materials')}</p>",
        f"<p><b>{tr('items.time_limit')}</b>：{_time(d)}</p>",
        f"<p><b>{tr('catalogue.fee')}</b>：{_fee(d)}</p>",
        f"<p><b>{tr('catalogue.legal_basis')}</b>：{joined(d.legal_basis)}</p>",
    ]
    if d.life_events:
        parts.append(f"<p><b>{tr('catalogue.life_events')}</b>：{joined(d.life_events)}</p>")
    return "".join(parts)
