"""Guided consultation (智能咨询), part of the one facade (:attr:`ui.facade.KioskFacade.consult`).

Walks the catalogue's consultation tree (:mod:`kiosk.review.consultation`) one answer at a time:
the path of answers is kept here (back goes one question up, restart to the first), and each
step is an immutable :class:`ConsultView`.  At an answer, :meth:`ConsultFacade.begin` starts the
item as choosing it in the catalogue does, or the life event as one application (一件事); an
answer naming a window has nothing to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.review.consultation import Answer, ConsultationTree, Question
from ui.viewmodels import Bilingual

if TYPE_CHECKING:
    from kiosk.session.catalogue import Catalogue
    from ui.facade import KioskFacade


@dataclass(frozen=True)
class ConsultView:
    title: Bilingual
    #: the question asked now; None at an answer
    question: Bilingual | None = None
    options: tuple[Bilingual, ...] = ()
    #: at an answer: item | life_event | window
    kind: str | None = None
    #: the item's, the life event's or the window's name
    name: Bilingual | None = None
    #: the item's department, or the life event's items
    details: tuple[Bilingual, ...] = ()
    note: Bilingual | None = None
    #: questions answered so far
    depth: int = 0
    #: the answer's item or life event id ("" for a window)
    target: str = ""


def _pair(zh: str, en: str) -> Bilingual:
    return (zh, en)


class ConsultFacade:
    def __init__(self, facade: KioskFacade, catalogue: Catalogue) -> None:
        self.facade = facade
        self._catalogue = catalogue
        self._tree: ConsultationTree | None = None
        self._path: list[str] = []  # node ids from the start to the current node

    @property
    def available(self) -> bool:
        """The terminal has a consultation tree to offer."""
        return self._catalogue.consultation() is not None

    def open(self) -> ConsultView | None:
        """The first question (the tree as synced now); None when there is no tree."""
        self._tree = self._catalogue.consultation()
        if self._tree is None:
            return None
        self._path = [self._tree.start]
        return self.current()

    def choose(self, option: int) -> ConsultView:
        """Answer the current question with its ``option``-th option (0-based)."""
        node = self._node()
        if not isinstance(node, Question):
            raise ValueError("no question to answer at an answer")
        self._path.append(node.options[option].next)
        return self.current()

    def back(self) -> ConsultView:
        """One question up (at the first question: stays there)."""
        if len(self._path) > 1:
            self._path.pop()
        return self.current()

    def restart(self) -> ConsultView:
        del self._path[1:]
        return self.current()

    def current(self) -> ConsultView:
        tree = self._require()
        node = self._node()
        title = _pair(tree.title.zh, tree.title.en)
        depth = len(self._path) - 1
        if isinstance(node, Question):
            return ConsultView(
                title,
                question=_pair(node.text.zh, node.text.en),
                options=tuple(_pair(o.label.zh, o.label.en) for o in node.options),
                depth=depth,
            )
        return self._answer(title, node, depth)

    def _answer(self, title: Bilingual, node: Answer, depth: int) -> ConsultView:
        note = None if node.note is None else _pair(node.note.zh, node.note.en)
        if node.kind == "window" and node.window is not None:
            name = _pair(node.window.zh, node.window.en)
            return ConsultView(title, kind="window", name=name, note=note, depth=depth)
        if node.kind == "item" and node.target in self._catalogue:
            pkg = self._catalogue.package(node.target)
            dept = pkg.catalogue.department
            return ConsultView(
                title,
                kind="item",
                name=_pair(pkg.name_zh, pkg.name_en),
                details=(_pair(dept.zh, dept.en),),
                note=note,
                depth=depth,
                target=node.target,
            )
        for event in self._catalogue.life_events():
            if node.kind == "life_event" and event.id == node.target:
                items = tuple(
                    _pair(p.name_zh, p.name_en) for p in map(self._catalogue.package, event.item_ids)
                )
                return ConsultView(
                    title,
                    kind="life_event",
                    name=_pair(event.name.zh, event.name.en),
                    details=items,
                    note=note,
                    depth=depth,
                    target=node.target,
                )
        # the catalogue changed under the tree (a sync refused a later tree): ask at a window
        return ConsultView(title, kind="window", name=("咨询窗口", "an enquiries window"), depth=depth)

    def begin(self) -> None:
        """At an item: start it; at a life event: all its items as one application (to the ID card step)."""
        view = self.current()
        if view.kind == "item":
            self.facade.start()
            self.facade.choose_item(view.target)
        elif view.kind == "life_event":  # every item of it in one application (一件事)
            self.facade.start()
            self.facade.choose_life_event(view.target)

    def _require(self) -> ConsultationTree:
        if self._tree is None or not self._path:
            raise RuntimeError("the consultation is not open")
        return self._tree

    def _node(self) -> Question | Answer:
        return self._require().node(self._path[-1])
