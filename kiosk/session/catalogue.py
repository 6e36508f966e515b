"""The items this terminal offers and the warning lists they check: what the offline cache holds,
replaced by what each verified rule sync activates."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kiosk.review.catalogue_entry import pinyin_of
from kiosk.review.consultation import ConsultationTree, TreeRejected, load_tree
from kiosk.review.items import ItemPackage, Text, load_package
from kiosk.review.search import LifeEvent, SearchIndex, life_events
from kiosk.review.sync import RuleSync
from kiosk.review.warnings import WarningList, load_warning_list
from offline_cache.store import Store

log = logging.getLogger(__name__)

#: store.meta key of the consultation tree (智能咨询) the terminal serves, as JSON text
CONSULTATION_META = "consultation.tree"


class Catalogue:
    def __init__(self, store: Store, rulesync: RuleSync | None = None) -> None:
        self.store = store
        self.rulesync = rulesync
        self._packages: dict[str, ItemPackage] = {}
        self._warning_lists: dict[str, WarningList] = {}
        self._index: SearchIndex | None = None
        self._tree: ConsultationTree | None = None
        self._tree_body = b""

    def load_cached(self) -> int:
        """Activate what the offline cache holds (start-up, network or not)."""
        for stored in self.store.packages.active_all():
            try:
                pkg = load_package(stored.body)
            except Exception:
                log.exception("cached package %s is unusable", stored.item_id)
                continue
            self._packages[pkg.id] = pkg
        self._index = None
        for blob in self.store.warning_lists.all():
            try:
                self._warning_lists[blob.name] = load_warning_list(blob.body)
            except Exception:
                log.exception("cached warning list %s is unusable", blob.name)
        cached = self.store.meta.get(CONSULTATION_META)
        if cached is not None:
            self._take_tree("cache", cached.encode())
        return len(self._packages)

    def sync(self) -> dict[str, str]:
        """TUF-verified sync of packages and warning lists (kiosk/review/sync.py).

        A package activates only if its golden cases pass; a failed sync (network,
        signatures, rollback, expiry) keeps the last verified versions serving.  Returns
        item id / list name → "activated" | "unchanged" | "rejected: ...", or {"error": ...}."""
        if self.rulesync is None:
            raise RuntimeError("no rule sync configured")
        report = self.rulesync.sync()
        for pkg in report.activated:
            self._packages[pkg.id] = pkg
        self._index = None
        for wl in report.warning_lists:
            self._warning_lists[wl.name] = wl
        if not report.ok:
            return {"error": report.error or "sync failed"}
        results = report.result_map
        for path, body in report.consultation[:1]:  # one tree per hall: the first listed
            results[path] = self._take_tree(path, body)
            if results[path] == "activated":
                self.store.meta.set(CONSULTATION_META, body.decode())
        return results

    def _take_tree(self, origin: str, body: bytes) -> str:
        """Serve the tree in ``body`` if every answer names an item or life event of this catalogue;
        a refused tree leaves the last good one serving."""
        try:
            tree = load_tree(body, set(self._packages), {e.id for e in self.life_events()})
        except TreeRejected as err:
            log.warning("consultation tree from %s refused, the last good one keeps serving: %s", origin, err)
            self.store.audit_trail.append("consultation_rejected", {"origin": origin, "error": str(err)})
            return f"rejected: TreeRejected: {err}"
        unchanged = body == self._tree_body
        self._tree, self._tree_body = tree, body
        return "unchanged" if unchanged else "activated"

    def consultation(self) -> ConsultationTree | None:
        """The consultation tree (智能咨询) the terminal serves; None before one was synced."""
        return self._tree

    def items(self) -> list[ItemPackage]:
        return sorted(self._packages.values(), key=lambda p: p.id)

    def search(
        self, query: str, department: str | None = None, life_event: str | None = None
    ) -> list[ItemPackage]:
        """Items by name, keyword, pinyin or initials, within a department (its Chinese name) or a
        life event (its id) when given; the index is rebuilt only when the packages change."""
        if self._index is None:
            self._index = SearchIndex(self._packages.values())
        return self._index.search(query, department, life_event)

    def departments(self) -> list[Text]:
        """The departments of the items, each once, in pinyin order of their Chinese names."""
        found = {p.catalogue.department.zh: p.catalogue.department for p in self._packages.values()}
        return [found[k] for k in sorted(found, key=lambda zh: pinyin_of(zh)[0])]

    def life_events(self) -> list[LifeEvent]:
        return life_events(self._packages.values())

    def package(self, item_id: str) -> ItemPackage:
        return self._packages[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._packages

    def warning_lists(self, names: Iterable[str]) -> list[WarningList]:
        """The loaded warning lists among ``names`` (a list not loaded is reported stale by the check)."""
        return [self._warning_lists[n] for n in names if n in self._warning_lists]
