"""Build a warning list file from clear identifiers given on the command line.

    python items/tools/make_warning_list.py dishonest_persons id_number 37140219880721003X \\
        --fresh-until 2030-12-31 --version 2025.1 > items/warning_lists/dishonest_persons.json

Identifiers are HMAC'd with the demo key (kiosk.review.warnings.DEMO_LIST_KEY) unless --key-hex and
--key-id are given; they never reach the output file in clear.  With --keyword the entries
are kept in clear (business-scope keywords, not personal data).  Texts come from --texts, a
JSON file {"description": {zh, en}, "what_follows": {zh, en}, "whom_to_ask": {zh, en}}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiosk.review.warnings import (
    DEMO_KEY_ID,
    DEMO_LIST_KEY,
    IDENTIFIER_KINDS,
    hash_identifier,
    load_warning_list,
)

_DEFAULT_TEXT = {"zh": "（待填写）", "en": "(to be written)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("identifier", choices=IDENTIFIER_KINDS)
    ap.add_argument("values", nargs="*")
    ap.add_argument("--version", required=True)
    ap.add_argument("--fresh-until", required=True)
    ap.add_argument("--keyword", action="store_true", help="keyword list: entries stay in clear")
    ap.add_argument("--key-hex", help="HMAC key as hex (default: the sandbox demo key)")
    ap.add_argument("--key-id", default=DEMO_KEY_ID)
    ap.add_argument("--texts", type=Path, help="JSON file with description/what_follows/whom_to_ask")
    args = ap.parse_args(argv)

    texts = json.loads(args.texts.read_text("utf-8")) if args.texts else {}
    doc: dict[str, object] = {
        "name": args.name,
        "version": args.version,
        "fresh_until": args.fresh_until,
        "match": "keyword" if args.keyword else "hmac",
        "identifier": args.identifier,
        "description": texts.get("description", _DEFAULT_TEXT),
        "what_follows": texts.get("what_follows", _DEFAULT_TEXT),
        "whom_to_ask": texts.get("whom_to_ask", _DEFAULT_TEXT),
    }
    if args.keyword:
        doc["entries"] = sorted(set(args.values))
    else:
        key = bytes.fromhex(args.key_hex) if args.key_hex else DEMO_LIST_KEY
        doc["key_id"] = args.key_id
        doc["entries"] = sorted({hash_identifier(key, v) for v in args.values})
    body = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    load_warning_list(body.encode("utf-8"))  # refuse to write what the terminal would refuse
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
