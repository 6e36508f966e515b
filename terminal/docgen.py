"""Demo material rendering: a plausible 房屋租赁合同 (lease) page as a BGR image.

The page is what the document camera "sees" in the demo and in tests: the
simulator plays it as frames, OCR reads it back, and :mod:`kiosk.documents.materials`
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
    hanging_indent: bool = False,
    field_px: int = 40,
) -> npt.NDArray[np.uint8]:
    """Render one page of a housing lease contract; returns a BGR uint8 array of ``size`` (w, h).

    Labelled fields are each on their own line, e.g. ``承租方（乙方）：李建国``,
    ``房屋坐落：山东省德州市德城区新华路26号``, ``租赁期限：2025年1月1日至2027年12月31日``.
    A field too long for the line wraps to the margin, or under its value with ``hanging_indent``
    (``field_px``: the fields' character height at 1536 px page width).
    """
    width, height = size
    scale = width / 1536
    img = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(img)
    margin = int(140 * scale)
    text_w = width - 2 * margin

    title_font = _font(int(72 * scale))
    field_font = _font(int(field_px * scale))
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
        label, value = text.split("：", 1)
        if draw.textlength(text, font=field_font) <= text_w:
            draw.text((margin, y), text, font=field_font, fill=ink)
            y += line_h
            continue
        head = label + "："
        indent = int(draw.textlength(head, font=field_font)) if hanging_indent else 0
        first_w = text_w - int(draw.textlength(head, font=field_font))
        first = _wrap(value, field_font, first_w)[0]
        draw.text((margin, y), head + first, font=field_font, fill=ink)
        y += int(line_h * 0.8)
        for ln in _wrap(value[len(first) :], field_font, text_w - indent):
            draw.text((margin + indent, y), ln, font=field_font, fill=ink)
            y += int(line_h * 0.8)
        y += line_h - int(line_h * 0.8)
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


def photograph(
    page: npt.NDArray[np.uint8],
    frame_size: tuple[int, int] = (1536, 2048),
    corners: tuple[tuple[float, float], ...] = ((0.08, 0.05), (0.92, 0.07), (0.94, 0.95), (0.06, 0.94)),
    background: tuple[int, int, int] = (60, 55, 50),
    rotation: int = 0,
    blur: float = 0.0,
    uneven_light: float = 0.0,
    jpeg_quality: int | None = None,
    noise: float = 0.0,
) -> npt.NDArray[np.uint8]:
    """Simulate a document-camera or phone photo of ``page`` (BGR), deterministically.

    The page is turned ``rotation`` degrees clockwise (0/90/180/270), warped with a
    perspective transform so that its corners (TL, TR, BR, BL of the turned page)
    land on ``corners`` (fractions of ``frame_size`` (w, h)) over a dark base
    plate, then optionally blurred (Gaussian sigma, px), lit unevenly (0..1:
    brightness falling off across the frame), noised and JPEG-compressed."""
    import cv2

    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    src_img = cv2.rotate(page, codes[rotation % 360]) if rotation % 360 else page
    fw, fh = frame_size
    h, w = src_img.shape[:2]
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    dst = np.array([[x * fw, y * fh] for x, y in corners], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    frame = np.empty((fh, fw, 3), dtype=np.uint8)
    frame[:] = background
    out = cv2.warpPerspective(
        src_img, m, (fw, fh), dst=frame, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_TRANSPARENT
    )
    img = np.asarray(out, dtype=np.float32)
    if blur > 0:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), blur), dtype=np.float32)
    if uneven_light > 0:
        xs = np.linspace(1.0, 1.0 - uneven_light, fw, dtype=np.float32)
        ys = np.linspace(1.0 - uneven_light / 2, 1.0, fh, dtype=np.float32)
        img *= (ys[:, None] * xs[None, :])[:, :, None]
    if noise > 0:
        rng = np.random.default_rng(1234)
        img += rng.normal(0.0, noise, img.shape).astype(np.float32)
    result: npt.NDArray[np.uint8] = np.clip(img, 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", result, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if ok:
            result = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), dtype=np.uint8)
    return result


def _to_bgr(img: Image.Image) -> npt.NDArray[np.uint8]:
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    bgr: npt.NDArray[np.uint8] = np.ascontiguousarray(rgb[:, :, ::-1])
    return bgr


def render_business_licence(
    uscc: str,
    name: str,
    kind: str,
    representative: str,
    address: str,
    established: dt.date,
    registered_capital: str | None = "伍拾万元整",
    term: str | None = None,
    individual: bool = False,
    size: tuple[int, int] = (1536, 2048),
) -> npt.NDArray[np.uint8]:
    """A 营业执照 (business licence) page; ``individual`` uses the 个体工商户 wording
    (经营者, 经营场所, 注册日期, no capital or term).  Each field is ``label：value`` on its line."""
    width, height = size
    scale = width / 1536
    img = Image.new("RGB", (width, height), (252, 250, 244))
    draw = ImageDraw.Draw(img)
    red = (170, 30, 30)
    ink = (25, 25, 25)
    border = int(40 * scale)
    draw.rectangle(
        (border, border, width - border, height - border), outline=(190, 150, 60), width=int(10 * scale)
    )
    title_font = _font(int(110 * scale))
    field_font = _font(int(42 * scale))
    small_font = _font(int(30 * scale))
    y = int(200 * scale)
    title = "营业执照"
    tw = draw.textlength(title, font=title_font)
    draw.text(((width - tw) / 2, y), title, font=title_font, fill=red)
    y += int(200 * scale)
    margin = int(170 * scale)
    draw.text((margin, y), f"统一社会信用代码：{uscc}", font=field_font, fill=ink)
    y += int(120 * scale)
    if individual:
        rows = [("名称", name), ("类型", kind), ("经营者", representative), ("经营场所", address)]
        rows.append(("注册日期", format_cn_date(established)))
    else:
        rows = [("名称", name), ("类型", kind), ("法定代表人", representative)]
        if registered_capital is not None:
            rows.append(("注册资本", registered_capital))
        rows.append(("成立日期", format_cn_date(established)))
        rows.append(("营业期限", term or f"{format_cn_date(established)}至长期"))
        rows.append(("住所", address))
    for label, value in rows:
        draw.text((margin, y), f"{label}：{value}", font=field_font, fill=ink)
        y += int(90 * scale)
    y += int(40 * scale)
    note = "经营范围：日用百货零售；食品销售（仅销售预包装食品）。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    for ln in _wrap(note, small_font, width - 2 * margin):
        draw.text((margin, y), ln, font=small_font, fill=ink)
        y += int(48 * scale)
    y = height - int(330 * scale)
    draw.text((width - margin - int(420 * scale), y), "登记机关（盖章）", font=small_font, fill=ink)
    cx, cy, r = width - margin - int(230 * scale), y + int(20 * scale), int(110 * scale)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=int(6 * scale))
    draw.text(
        (width - margin - int(420 * scale), y + int(150 * scale)),
        format_cn_date(established),
        font=small_font,
        fill=ink,
    )
    draw.text(
        (margin, height - int(150 * scale)),
        "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn",
        font=small_font,
        fill=ink,
    )
    return _to_bgr(img)


_CARD_SIZE = (856, 540)  # ISO/IEC 7810 ID-1 at 10 px/mm


def render_id_card_front(
    name: str,
    sex: str,
    nation: str,
    birth: dt.date,
    address: str,
    id_number: str,
    photo_bgr: npt.NDArray[np.uint8] | None = None,
    size: tuple[int, int] = _CARD_SIZE,
    wrap_chars: int | None = None,
) -> npt.NDArray[np.uint8]:
    """Front of a resident ID card (simulated): 姓名/性别/民族/出生/住址/公民身份号码 and a photo box.
    The address wraps at the column's width, or every ``wrap_chars`` characters (11 on real cards)."""
    width, height = size
    s = width / 856
    img = Image.new("RGB", (width, height), (236, 242, 246))
    draw = ImageDraw.Draw(img)
    label_font = _font(int(26 * s))
    value_font = _font(int(32 * s))
    num_font = _font(int(38 * s))
    lab = (60, 110, 160)
    ink = (15, 15, 15)
    x0, xv = int(50 * s), int(150 * s)
    rows = [
        (40, "姓名", name),
        (110, "性别", sex),
        (180, "出生", f"{birth.year}年{birth.month}月{birth.day}日"),
    ]
    for y, label, value in rows:
        draw.text((x0, int(y * s)), label, font=label_font, fill=lab)
        draw.text((xv, int((y - 4) * s)), value, font=value_font, fill=ink)
    draw.text((int(280 * s), int(110 * s)), "民族", font=label_font, fill=lab)
    draw.text((int(360 * s), int(106 * s)), nation, font=value_font, fill=ink)
    draw.text((x0, int(250 * s)), "住址", font=label_font, fill=lab)
    y = int(246 * s)
    addr_font = _font(int(28 * s))
    addr_lines = (
        [address[i : i + wrap_chars] for i in range(0, len(address), wrap_chars)]
        if wrap_chars
        else _wrap(address, addr_font, int(430 * s))
    )
    for ln in addr_lines:
        draw.text((xv, y), ln, font=addr_font, fill=ink)
        y += int(42 * s)
    draw.text((x0, int(440 * s)), "公民身份号码", font=label_font, fill=lab)
    draw.text((int(250 * s), int(434 * s)), id_number, font=num_font, fill=ink)
    px0, py0, px1, py1 = int(590 * s), int(60 * s), int(810 * s), int(330 * s)
    if photo_bgr is not None:
        photo = Image.fromarray(np.ascontiguousarray(photo_bgr[:, :, ::-1])).resize((px1 - px0, py1 - py0))
        img.paste(photo, (px0, py0))
    else:
        draw.rectangle((px0, py0, px1, py1), fill=(205, 215, 225))
    return _to_bgr(img)


def render_id_card_back(
    authority: str, valid_from: dt.date, valid_until: dt.date | None, size: tuple[int, int] = _CARD_SIZE
) -> npt.NDArray[np.uint8]:
    """Back of a resident ID card (simulated); ``valid_until`` None means 长期."""
    width, height = size
    s = width / 856
    img = Image.new("RGB", (width, height), (238, 242, 236))
    draw = ImageDraw.Draw(img)
    title_font = _font(int(52 * s))
    label_font = _font(int(26 * s))
    value_font = _font(int(30 * s))
    tw = draw.textlength("中华人民共和国", font=title_font)
    draw.text(
        ((width - tw) / 2 + int(60 * s), int(70 * s)), "中华人民共和国", font=title_font, fill=(20, 20, 20)
    )
    tw = draw.textlength("居民身份证", font=title_font)
    draw.text(
        ((width - tw) / 2 + int(60 * s), int(160 * s)), "居民身份证", font=title_font, fill=(20, 20, 20)
    )
    lab = (60, 110, 160)
    draw.text((int(190 * s), int(380 * s)), "签发机关", font=label_font, fill=lab)
    draw.text((int(330 * s), int(376 * s)), authority, font=value_font, fill=(15, 15, 15))
    until = "长期" if valid_until is None else valid_until.strftime("%Y.%m.%d")
    draw.text((int(190 * s), int(440 * s)), "有效期限", font=label_font, fill=lab)
    draw.text(
        (int(330 * s), int(436 * s)),
        f"{valid_from.strftime('%Y.%m.%d')}-{until}",
        font=value_font,
        fill=(15, 15, 15),
    )
    return _to_bgr(img)
