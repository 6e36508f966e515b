"""Demo material rendering: a plausible 房屋租赁合同 (lease) page as a BGR image.

The page is what the document camera "sees" in the demo and in tests: the
simulator plays it as frames, OCR reads it back, and :mod:`kiosk.materials`
extracts the labelled fields.  Rendering is deterministic (no randomness).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    import numpy.typing as npt

logger = logging.getLogger(__name__)

#: Environment variable that overrides the CJK font location.
FONT_ENV = "KIOSK_CJK_FONT"

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_FONT_GLOBS = ("NotoSansCJK*.ttc", "NotoSansSC*.otf", "NotoSerifCJK*.ttc", "wqy-*.ttc")


class FontNotFoundError(RuntimeError):
    """No font with CJK glyphs was found on this machine."""


@functools.cache
def find_cjk_font() -> Path:
    """Locate a CJK-capable font: ``$KIOSK_CJK_FONT``, known paths, then a search of font dirs."""
    env = os.environ.get(FONT_ENV)
    if env and Path(env).is_file():
        return Path(env)
    for cand in _FONT_CANDIDATES:
        if Path(cand).is_file():
            return Path(cand)
    for root in ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts")):
        base = Path(root)
        if not base.is_dir():
            continue
        for pattern in _FONT_GLOBS:
            for hit in sorted(base.rglob(pattern)):
                return hit
    raise FontNotFoundError(
        "no CJK font found (install fonts-noto-cjk or set KIOSK_CJK_FONT to a .ttc/.otf path)"
    )


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), size=px)


def format_cn_date(d: dt.date) -> str:
    """``2025年1月1日`` style, as written in contracts."""
    return f"{d.year}年{d.month}月{d.day}日"


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy character wrap (Chinese has no spaces to break on)."""
    lines: list[str] = []
    cur = ""
    for ch in text:
        if font.getlength(cur + ch) > width and cur:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        lines.append(cur)
    return lines


def render_lease(
    lessor: str,
    lessee: str,
    lessee_id: str,
    premises_address: str,
    term_start: dt.date,
    term_end: dt.date,
    size: tuple[int, int] = (1536, 2048),
    monthly_rent: str = "2500",
) -> npt.NDArray[np.uint8]:
    """Render one page of a housing lease contract; returns a BGR uint8 array of ``size`` (w, h).

    Labelled fields are each on their own line, e.g. ``承租方（乙方）：李建国``,
    ``房屋坐落：山东省德州市德城区新华路26号``, ``租赁期限：2025年1月1日至2027年12月31日``.
    """
    width, height = size
    scale = width / 1536
    img = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(img)
    margin = int(140 * scale)
    text_w = width - 2 * margin

    title_font = _font(int(72 * scale))
    field_font = _font(int(40 * scale))
    body_font = _font(int(34 * scale))
    small_font = _font(int(28 * scale))
    ink = (20, 20, 20)

    y = int(150 * scale)
    title = "房屋租赁合同"
    tw = draw.textlength(title, font=title_font)
    draw.text(((width - tw) / 2, y), title, font=title_font, fill=ink)
    y += int(150 * scale)
    draw.text((width - margin - int(360 * scale), y), "合同编号：DZ-ZL-2024-0815", font=small_font, fill=ink)
    y += int(80 * scale)

    fields = [
        f"出租方（甲方）：{lessor}",
        f"承租方（乙方）：{lessee}",
        f"乙方身份证号码：{lessee_id}",
        f"房屋坐落：{premises_address}",
        f"租赁期限：{format_cn_date(term_start)}至{format_cn_date(term_end)}",
        f"月租金：人民币{monthly_rent}元整",
    ]
    line_h = int(68 * scale)
    for text in fields:
        draw.text((margin, y), text, font=field_font, fill=ink)
        y += line_h
    y += int(30 * scale)

    body = [
        "根据《中华人民共和国民法典》及有关法律法规的规定，甲乙双方在平等、自愿、协商一致的基础上，"
        "就乙方承租甲方房屋事宜订立本合同。",
        "第一条 甲方将上述房屋出租给乙方作经营使用，乙方保证按照国家有关规定从事合法经营活动。",
        "第二条 租金按季度支付，乙方应于每季度首月五日前支付当季租金。",
        "第三条 租赁期间，乙方应合理使用房屋及其附属设施，不得擅自改变房屋结构和用途。",
        "第四条 租赁期满，乙方需继续承租的，应提前一个月书面通知甲方，经甲方同意后重新签订合同。",
        "第五条 本合同一式两份，甲乙双方各执一份，自双方签字之日起生效。",
    ]
    body_h = int(54 * scale)
    for para in body:
        for ln in _wrap(para, body_font, text_w):
            draw.text((margin, y), ln, font=body_font, fill=ink)
            y += body_h
        y += int(14 * scale)

    y = max(y + int(60 * scale), height - int(360 * scale))
    col2 = margin + text_w // 2
    draw.text((margin, y), f"甲方（签字）：{lessor}", font=body_font, fill=ink)
    draw.text((col2, y), f"乙方（签字）：{lessee}", font=body_font, fill=ink)
    y += int(70 * scale)
    signed = format_cn_date(term_start - dt.timedelta(days=10))
    draw.text((margin, y), f"日期：{signed}", font=body_font, fill=ink)
    draw.text((col2, y), f"日期：{signed}", font=body_font, fill=ink)

    rgb = np.asarray(img, dtype=np.uint8)
    bgr: npt.NDArray[np.uint8] = np.ascontiguousarray(rgb[:, :, ::-1])
    return bgr


def render_demo_lease(size: tuple[int, int] = (1536, 2048)) -> npt.NDArray[np.uint8]:
    """The lease of the ``business`` demo citizen (李建国, 新华路26号)."""
    return render_lease(
        lessor="赵德明",
        lessee="李建国",
        lessee_id="37140219880721003X",
        premises_address="山东省德州市德城区新华路26号",
        term_start=dt.date(2025, 1, 1),
        term_end=dt.date(2027, 12, 31),
        size=size,
    )
