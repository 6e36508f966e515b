"""``python -m sandbox_platform --port 8765 --data DIR --items DIR``

``python -m sandbox_platform --write-openapi PATH`` writes the OpenAPI document the sandbox serves
(to compare with the contract, docs/platform-api/openapi.json, which is written by hand and which
tests/sandbox_platform/test_contract.py holds the sandbox to).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
from pathlib import Path

from sandbox_platform.app import create_app
from sandbox_platform.server import SandboxServer


def openapi_document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp) / "data", Path(tmp) / "items")
        doc = app.openapi()
        app.state.db.close()
        app.state.citizens.close()
        app.state.outbox.close()
        app.state.ratings.close()
    return doc


def write_openapi(path: Path) -> None:
    path.write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox_platform", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--data", type=Path, default=Path("var/sandbox"), help="directory for the platform DB"
    )
    parser.add_argument("--items", type=Path, default=Path("items"), help="directory of item packages")
    parser.add_argument(
        "--write-openapi", type=Path, metavar="PATH", help="write the OpenAPI document and exit"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.write_openapi:
        write_openapi(args.write_openapi)
        return 0
    server = SandboxServer(args.data, args.items, host=args.host, port=args.port, access_log=True)
    server.start()
    print(
        f"sandbox platform on {server.url} (data {args.data}, items {args.items}); Ctrl-C stops", flush=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
