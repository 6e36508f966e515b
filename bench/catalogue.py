"""Catalogue search at hall scale (``python -m bench.catalogue``).

Builds ``--n`` items (1,000 by default) from the real packages in ``items/``: each real item in
its own words plus variants named as halls name sub-items (变更, 注销, 补办, 延续 …), each loaded
through :func:`kiosk.review.items.load_package` like a synced package (schema, graph, pinyin).
Then times what a keystroke costs on the catalogue screen: the search (name, keyword, pinyin,
pinyin initials, within a department or a life event when the citizen chose one) and refilling
the screen's list model with the result (Qt offscreen, model/view: no widget per item).  The
queries are typed one key at a time, as a citizen types them.

Prints ``items`` (the real item count), ``generated``, ``search_ms_p95`` (target < 50 ms on 2
cores), ``keystroke_ms_p95`` (search + list model), the index build and load times.  The last
line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench._stats import percentile
from kiosk.review.items import ItemPackage, load_package
from kiosk.review.search import SearchIndex

ITEMS_DIR = Path(__file__).resolve().parent.parent / "items"
VARIANTS = (
    ("变更", "change"),
    ("注销", "cancellation"),
    ("补办", "replacement"),
    ("延续", "renewal"),
    ("查询", "enquiry"),
    ("证明开具", "certificate"),
    ("信息修改", "correction"),
    ("暂停", "suspension"),
    ("恢复", "resumption"),
    ("转移", "transfer"),
    ("撤回", "withdrawal"),
    ("复核", "review"),
    ("备案", "filing"),
    ("年度确认", "yearly confirmation"),
    ("材料补正", "additional documents"),
    ("异地办理", "elsewhere"),
    ("代办", "by an agent"),
    ("预约", "appointment"),
    ("进度查询", "progress"),
    ("结果打印", "result printout"),
    ("跨省通办", "across provinces"),
    ("容缺受理", "pending documents"),
    ("告知承诺", "by undertaking"),
    ("首次申请", "first application"),
    ("再次申请", "new application"),
    ("到期换证", "expiry renewal"),
    ("遗失补领", "lost replacement"),
    ("损坏换领", "damaged replacement"),
    ("信息核对", "information check"),
    ("待遇核定", "benefit assessment"),
    ("资格认证", "eligibility check"),
    ("退费", "refund"),
    ("缴费", "payment"),
)
#: what citizens type, one key at a time: Chinese words, initials, full pinyin, English
QUERIES = (
    "公积金",
    "gjj",
    "gjjtq",
    "shebao",
    "身份证",
    "sfz",
    "ydjy",
    "户口",
    "hk",
    "营业执照",
    "yyzz",
    "低保",
    "db",
    "结婚",
    "jh",
    "养老",
    "yanglao",
    "pension",
    "birth",
    "失业",
    "sy",
    "注销",
    "zx",
)


def generate(real: list[ItemPackage], n: int) -> list[ItemPackage]:
    """``n`` packages: the real ones, then variants of them, each loaded as a synced package is."""
    out = list(real)
    docs = [json.loads((ITEMS_DIR / f"{p.id}.json").read_text("utf-8")) for p in real]
    k = 0
    while len(out) < n:
        doc = json.loads(json.dumps(docs[k % len(docs)]))
        zh, en = VARIANTS[(k // len(docs)) % len(VARIANTS)]
        doc["id"] = f"{doc['id'][:40]}-v{k}"
        doc["catalogue"]["name"] = {
            "zh": f"{doc['catalogue']['name']['zh']}（{zh}）",
            "en": f"{doc['catalogue']['name']['en']} ({en})",
        }
        doc["catalogue"].pop("pinyin_initials", None)  # computed at load, as an author may leave it
        doc["catalogue"]["keywords"] = [*doc["catalogue"].get("keywords", []), zh]
        out.append(load_package(json.dumps(doc, ensure_ascii=False).encode()))
        k += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="items in the generated catalogue")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from ui.screens.catalogue import RowModel

    app = QApplication.instance() or QApplication([])
    real = [load_package(p.read_bytes()) for p in sorted(ITEMS_DIR.glob("*.json"))]
    t0 = time.perf_counter()
    packages = generate(real, args.n)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = SearchIndex(packages)
    index_ms = (time.perf_counter() - t0) * 1000
    departments = sorted({p.catalogue.department.zh for p in real})
    events = sorted({e.id for p in real for e in p.catalogue.life_events})
    filters: list[tuple[str | None, str | None]] = [(None, None), (departments[0], None), (None, events[0])]
    model = RowModel()
    search_ms: list[float] = []
    keystroke_ms: list[float] = []
    hits = 0
    for _round in range(3):
        for dept, event in filters:
            for query in QUERIES:
                for i in range(len(query) + 1):  # "" first: the list before any key
                    t0 = time.perf_counter()
                    found = index.search(query[:i], dept, event)
                    t1 = time.perf_counter()
                    model.set_rows([(p.id, p.name_zh, p.catalogue.department.zh) for p in found])
                    t2 = time.perf_counter()
                    search_ms.append((t1 - t0) * 1000)
                    keystroke_ms.append((t2 - t0) * 1000)
                    hits += len(found)
    app.processEvents()
    result = {
        "items": len(real),
        "generated": len(packages),
        "searches": len(search_ms),
        "search_ms_p50": round(percentile(search_ms, 50), 3),
        "search_ms_p95": round(percentile(search_ms, 95), 3),
        "keystroke_ms_p95": round(percentile(keystroke_ms, 95), 3),
        "index_build_ms": round(index_ms, 1),
        "load_s": round(load_s, 1),
        "mean_hits": round(hits / len(search_ms), 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
