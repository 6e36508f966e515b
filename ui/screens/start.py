"""The attract screen and the choice of the item."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.facade import KioskFacade
from ui.screens.base import Screen, clear_layout, label
from ui.viewmodels import ItemView, Step
from ui.widgets import BigButton, Title


class AttractScreen(Screen):
    step = Step.ATTRACT

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.hint = label(name="hint")
        self.start = BigButton()
        self.start.setObjectName("start")
        self.start.setMinimumHeight(120)
        self.start.clicked.connect(facade.start)
        self.layout_.addStretch(2)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.hint)
        self.layout_.addSpacing(40)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start, 2)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addStretch(3)

    def enter(self) -> None:
        self.title.setText(tr("attract.welcome"))
        self.hint.setText(tr("attract.hint"))
        self.start.setText(tr("attract.touch"))


class ChooseItemScreen(Screen):
    step = Step.CHOOSE_ITEM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.search = QLineEdit()
        self.search.setObjectName("itemSearch")
        self.search.textChanged.connect(lambda _t: self._fill())
        body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body_row = body  # list beside the details; stacked on a narrow or elderly screen
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(12)
        left = QWidget()
        left.setLayout(self.list_box)
        self.detail = QLabel()
        self.detail.setObjectName("card")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMargin(20)
        self.go = BigButton()
        self.go.setObjectName("startItem")
        self.go.clicked.connect(self._go)
        right = QVBoxLayout()
        right.addWidget(self.detail, 1)
        body.addWidget(left, 1)
        body.addLayout(right, 1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.search)
        self.layout_.addLayout(body, 1)
        self.add_main_action(self.go)  # below the scrolling list, always in view
        self.selected: str | None = None
        self.items: dict[str, ItemView] = {}

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = self.width() < 1100 * self.scale
        self.body_row.setDirection(
            QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        )

    def enter(self) -> None:
        self.title.setText(tr("items.title"))
        self.search.setPlaceholderText(tr("items.search"))
        self.go.setText(tr("items.start"))
        self._fill()

    def _fill(self) -> None:
        clear_layout(self.list_box)
        items = self.facade.items(self.search.text())
        self.items = {i.id: i for i in items}
        for pkg in items:
            b = BigButton(bilingual(*pkg.name), role="item")
            b.setObjectName(f"item:{pkg.id}")
            b.clicked.connect(lambda _c=False, i=pkg.id: self.select(i))
            self.list_box.addWidget(b)
        self.list_box.addStretch(1)
        if self.selected not in {p.id for p in items}:
            self.selected = items[0].id if items else None
        self._show_detail()

    def select(self, item_id: str) -> None:
        self.selected = item_id
        self._show_detail()

    def _show_detail(self) -> None:
        self.go.setEnabled(self.selected is not None)
        if self.selected is None:
            self.detail.setText("")
            return
        pkg: ItemView = self.items[self.selected]
        days = pkg.time_limit_days
        limit = tr("items.on_the_spot") if days == 0 else tr("items.days", n=days)
        mats = "、".join(bilingual(*m.name) for m in pkg.materials) or tr("items.no_materials")
        self.detail.setText(
            f"<h2>{bilingual(*pkg.name)}</h2>"
            f"<p><b>{tr('items.conditions')}</b>：{'；'.join(bilingual(*c) for c in pkg.conditions)}</p>"
            f"<p><b>{tr('items.materials')}</b>：{mats}</p>"
            f"<p><b>{tr('items.time_limit')}</b>：{limit}</p>"
        )

    def _go(self) -> None:
        if self.selected:
            self.facade.choose_item(self.selected)
