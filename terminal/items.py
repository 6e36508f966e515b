"""The item author's command: check, test, preview and version a rule package.

    python -m terminal.items lint items/senior-card.json        # schema and meaning, in plain words
    python -m terminal.items test items/senior-card.json        # golden cases, one line each
    python -m terminal.items coverage items/senior-card.json    # rules no golden case fires
    python -m terminal.items render items/senior-card.json --out preview/   # form, receipt, certificate as PNG
    python -m terminal.items bump items/senior-card.json --part minor        # raise the version
    python -m terminal.items check items/                       # all of it for every package (CI)

Also installed as the console script ``hall-kiosk-items``.  Exit status 0 when everything is
right, 1 when the package needs work, 2 for a wrong command line.  After ``check`` passes
and the version is bumped, the package goes to the platform's TUF signing step
(docs/rule-package-sync.md); the terminal only ever activates signed packages whose golden
cases all pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from PIL import Image, ImageDraw, ImageFont

from devices.printer.codec import EscPosCodec
from devices.printer.decoder import DecodedReceipt, DecoderHooks, EscPosDecoder
from devices.printer.profiles import get_profile
from devices.printer.simulator import find_cjk_font, render_png
from kiosk.outputs import render as outputs
from kiosk.review.author import bump_version, form_preview_rows, lint, run_golden, uncovered_rules
from kiosk.review.engine import Outcome, ReviewEngine
from kiosk.review.items import ItemPackage, PackageRejected, load_package
from terminal.items_consult import is_tree, lint_trees, trees_of

_SAMPLE_NAME = "样例"  # previews never carry a real person's data
_SAMPLE_ID = "110101199003070011"


def _load(path: Path, out: list[str]) -> ItemPackage | None:
    findings = lint(path.read_bytes(), path.name)
    if findings:
        out.append(f"✗ {path.name}: {len(findings)} problem(s) to fix")
        out.extend(f"    {f}" for f in findings)
        return None
    return load_package(path.read_bytes())


def _report(paths: list[Path], check: Callable[[Path, ItemPackage, list[str]], bool]) -> int:
    """Lint every package, then ``check`` each one that loads (True: it needs work); 1 when any does."""
    out: list[str] = []
    bad = 0
    for path in paths:
        pkg = _load(path, out)
        bad += pkg is None or check(path, pkg, out)
    print("\n".join(out))
    return 1 if bad else 0


def _well_formed(path: Path, pkg: ItemPackage, out: list[str]) -> bool:
    out.append(f"✓ {path.name}: the package is well formed")
    return False


def _golden(engine: ReviewEngine) -> Callable[[Path, ItemPackage, list[str]], bool]:
    def check(path: Path, pkg: ItemPackage, out: list[str]) -> bool:
        results = run_golden(pkg, engine)
        failed = [r for r in results if not r.passed]
        passed = len(results) - len(failed)
        out.append(f"{'✓' if not failed else '✗'} {path.name}: {passed} of {len(results)} golden cases pass")
        for r in failed:
            out.append(
                f"    ✗ {r.name}: expected {r.expected[0]} {list(r.expected[1])}, got {r.actual[0]} {list(r.actual[1])}"
            )
        if not results:
            out.append("    ✗ no golden cases: add at least one per outcome the item can give")
        return bool(failed) or not results

    return check


def _coverage(engine: ReviewEngine) -> Callable[[Path, ItemPackage, list[str]], bool]:
    def check(path: Path, pkg: ItemPackage, out: list[str]) -> bool:
        missing = uncovered_rules(pkg, engine)
        if not missing:
            out.append(f"✓ {path.name}: every rule is fired by a golden case")
            return False
        out.append(f"! {path.name}: {len(missing)} rule(s) no golden case fires; add a case for each")
        out.extend(f"    table {r.table}, row {r.number}: {r.outcome} / {r.reason}" for r in missing)
        return False  # a warning: untested rules do not stop a package

    return check


def _receipt_png(pkg: ItemPackage) -> bytes:
    doc = outputs.build_receipt(
        outputs.ReceiptData(
            hall_name="政务服务中心（预览）",
            item_name=pkg.name_zh,
            case_id="PREVIEW-0001",
            decision=Outcome.APPROVE.value if pkg.certificate else Outcome.MANUAL.value,
            reasons=(),
            applicant_name_masked=outputs.mask_name(_SAMPLE_NAME),
            id_number_masked=outputs.mask_id_number(_SAMPLE_ID),
            submitted_at=dt.datetime(2026, 1, 5, 9, 30).astimezone(),
            pickup_text="预览",
            progress_url="https://example.invalid/progress/PREVIEW-0001",
            contact_line="预览",
        )
    )
    received: list[DecodedReceipt] = []
    # Through the same bytes a printer would get, decoded as the simulator decodes them.
    decoder = EscPosDecoder(hooks=DecoderHooks(finished=received.append))
    decoder.feed(EscPosCodec(get_profile("generic-80mm")).encode(doc))
    return render_png(received[-1])


def _pdf_png(pdf: bytes, stem: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "page.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(src), str(stem)],
            check=True,
            timeout=60,
        )
    return stem.with_suffix(".png")


def _form_png(pkg: ItemPackage) -> bytes:
    rows = form_preview_rows(pkg)
    font = ImageFont.truetype(find_cjk_font(), 22)
    width, line = 1100, 40
    img = Image.new("L", (width, line * (len(rows) + 2)), 255)
    draw = ImageDraw.Draw(img)
    draw.text((20, 10), f"{pkg.name_zh}  {pkg.id} {pkg.version}", font=font, fill=0)
    for n, (label, how) in enumerate(rows, start=1):
        draw.text((20, 10 + n * line), label, font=font, fill=0)
        draw.text((560, 10 + n * line), how, font=font, fill=80)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def cmd_render(path: Path, out_dir: Path) -> int:
    out: list[str] = []
    pkg = _load(path, out)
    if pkg is None:
        print("\n".join(out))
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    form = out_dir / f"{pkg.id}-form.png"
    form.write_bytes(_form_png(pkg))
    made.append(form)
    receipt = out_dir / f"{pkg.id}-receipt.png"
    receipt.write_bytes(_receipt_png(pkg))
    made.append(receipt)
    cert = pkg.certificate
    if cert is not None:
        pdf = outputs.build_certificate_pdf(
            outputs.CertificateData(
                title=cert.title_zh,
                number=f"{cert.number_prefix}PREVIEW",
                holder_name=_SAMPLE_NAME,
                id_number=_SAMPLE_ID,
                issue_date=dt.date(2026, 1, 5),
                authority=cert.authority.zh,
                verify_url="https://example.invalid/verify/PREVIEW",
            )
        )
        made.append(_pdf_png(pdf, out_dir / f"{pkg.id}-certificate"))
    print("\n".join(f"wrote {p}" for p in made))
    return 0


def cmd_bump(path: Path, part: str) -> int:
    try:
        body, version = bump_version(path.read_bytes(), part)
    except PackageRejected as err:
        print(f"✗ {path.name}: {err}")
        return 1
    path.write_bytes(body)
    print(f"{path.name}: version {version}; run `check` again, then hand it to the signing step")
    return 0


def _packages(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        found.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hall-kiosk-items", description="Check and preview rule packages.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("lint", "test", "coverage", "check"):
        p = sub.add_parser(name)
        p.add_argument("paths", nargs="+", type=Path, help="package files or folders of them")
    p = sub.add_parser("render")
    p.add_argument("path", type=Path)
    p.add_argument("--out", type=Path, default=Path("preview"))
    p = sub.add_parser("bump")
    p.add_argument("path", type=Path)
    p.add_argument("--part", choices=("major", "minor", "patch"), default="patch")
    args = parser.parse_args(argv)

    if args.command == "render":
        return cmd_render(args.path, args.out)
    if args.command == "bump":
        return cmd_bump(args.path, args.part)
    paths = _packages(args.paths)
    missing = [p for p in paths if not p.exists()]
    if missing or not paths:
        print(f"no such package: {', '.join(map(str, missing)) or args.paths}", file=sys.stderr)
        return 2
    trees_bad, tree_lines = lint_trees(trees_of(args.paths))  # 智能咨询 trees (terminal/items_consult.py)
    paths = [p for p in paths if not is_tree(p)]
    if tree_lines:
        print("\n".join(tree_lines))
    if not paths:
        return 1 if trees_bad else 0
    if args.command == "lint":
        return max(int(trees_bad), _report(paths, _well_formed))
    engine = ReviewEngine()
    try:
        if args.command == "test":
            return _report(paths, _golden(engine))
        if args.command == "coverage":
            return _report(paths, _coverage(engine))
        checks = (_well_formed, _golden(engine), _coverage(engine))
        return max(int(trees_bad), *(_report(paths, check) for check in checks))
    finally:
        engine.close()


def run() -> NoReturn:
    """The command line's process: :func:`main`, then exit without interpreter finalisation.

    Under load the process died of SIGSEGV during interpreter finalisation, after all its output
    was written (about 1 run in 6 with four runs at once on 2 cores; faulthandler shows no Python
    frame: a native thread, most likely zen-engine's runtime, still running while Python tears
    down).  The answer is complete by then, so flush and leave at once."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
