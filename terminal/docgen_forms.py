"""Rendered test material in the layouts of real forms (no public sample of them exists to test on):
a 常住人口登记卡 (household register page) and a 营业执照 in the 2019+ layout.

Both print their labels the way the real forms do, with the characters spread over the label's
width (``姓　　名``, ``名　　称``), which the text detector splits into one box per character, and
put values right of their labels or, for the credit code, under it beside the big title.
Rendering is deterministic.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from terminal.docgen import _font, _to_bgr, _wrap, format_cn_date

if TYPE_CHECKING:
    import numpy.typing as npt


def _spaced(
    draw: ImageDraw.ImageDraw, x: float, y: float, label: str, width: float, font: ImageFont.FreeTypeFont
) -> None:
    """Draw ``label`` with its characters spread evenly over ``width`` (justified, as forms print)."""
    if len(label) == 1:
        draw.text((x, y), label, font=font, fill=(25, 25, 25))
        return
    char_w = [draw.textlength(c, font=font) for c in label]
    gap = (width - sum(char_w)) / (len(label) - 1)
    for c, w in zip(label, char_w, strict=True):
        draw.text((x, y), c, font=font, fill=(25, 25, 25))
        x += w + gap


def render_household_register(
    relation: str,
    name: str,
    sex: str,
    nation: str,
    birth: dt.date,
    native_place: str,
    id_number: str,
    address: str,
    size: tuple[int, int] = (1536, 2048),
) -> npt.NDArray[np.uint8]:
    """A 常住人口登记卡 page of a 居民户口簿: a ruled table of spaced labels and values; the
    address cell wraps onto a second line when it is long."""
    width, height = size
    s = width / 1536
    img = Image.new("RGB", (width, height), (246, 240, 226))
    draw = ImageDraw.Draw(img)
    ink, rule = (25, 25, 25), (120, 70, 60)
    title_font, label_font, value_font = _font(int(64 * s)), _font(int(34 * s)), _font(int(38 * s))
    title = "常住人口登记卡"
    tw = draw.textlength(title, font=title_font)
    draw.text(((width - tw) / 2, int(150 * s)), title, font=title_font, fill=ink)
    left, right, top = int(120 * s), width - int(120 * s), int(300 * s)
    row_h, label_w = int(110 * s), int(250 * s)
    mid = left + (right - left) // 2
    rows: list[list[tuple[str, str]]] = [
        [("户主或与户主关系", relation)],
        [("姓名", name), ("曾用名", "")],
        [("性别", sex), ("民族", nation)],
        [("出生日期", format_cn_date(birth)), ("籍贯", native_place)],
        [("公民身份号码", id_number)],
        [("住址", address)],
    ]
    y = top
    for cells in rows:
        tall = cells[0][0] == "住址"
        h = row_h * 2 if tall else row_h
        draw.rectangle((left, y, right, y + h), outline=rule, width=max(1, int(3 * s)))
        spans = [(left, right)] if len(cells) == 1 else [(left, mid), (mid, right)]
        for (label, value), (x0, x1) in zip(cells, spans, strict=True):
            lw = label_w if len(label) <= 4 else int(label_w * 1.6)
            draw.line((x0 + lw, y, x0 + lw, y + h), fill=rule, width=max(1, int(3 * s)))
            if x0 != left:
                draw.line((x0, y, x0, y + h), fill=rule, width=max(1, int(3 * s)))
            pad = int(24 * s)
            _spaced(draw, x0 + pad, y + (row_h - 34 * s) / 2, label, lw - 2 * pad, label_font)
            vx = x0 + lw + pad
            lines = _wrap(value, value_font, x1 - vx - pad) if value else []
            vy = y + (row_h - 38 * s) / 2
            for ln in lines[:2]:
                draw.text((vx, vy), ln, font=value_font, fill=ink)
                vy += int(56 * s)
        y += h
    draw.text((left, y + int(60 * s)), "承办人签章：", font=label_font, fill=ink)
    draw.text((mid, y + int(60 * s)), "登记日期：2016年4月1日", font=label_font, fill=ink)
    return _to_bgr(img)


def render_business_licence_2019(
    uscc: str,
    name: str,
    kind: str,
    representative: str,
    registered_capital: str,
    established: dt.date,
    term: str,
    address: str,
    size: tuple[int, int] = (2048, 1448),
) -> npt.NDArray[np.uint8]:
    """A 营业执照 (副本) in the landscape 2019+ layout: the credit code under its label at the top
    left beside the big title, fields in two columns with spaced labels, the address wrapping in
    the right-hand column."""
    width, height = size
    s = width / 2048
    img = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    red, ink = (170, 30, 30), (25, 25, 25)
    b = int(50 * s)
    draw.rectangle((b, b, width - b, height - b), outline=(190, 150, 60), width=int(12 * s))
    small, field, title_font = _font(int(30 * s)), _font(int(38 * s)), _font(int(150 * s))
    draw.text((int(170 * s), int(300 * s)), "统一社会信用代码", font=small, fill=ink)
    draw.text((int(170 * s), int(350 * s)), uscc, font=field, fill=ink)
    title = "营业执照"
    tw = draw.textlength(title, font=title_font)
    draw.text(((width - tw) / 2, int(250 * s)), title, font=title_font, fill=red)
    sub = "（副　本）"
    sw = draw.textlength(sub, font=field)
    draw.text(((width - sw) / 2, int(440 * s)), sub, font=field, fill=ink)
    lw = int(200 * s)
    columns = (
        (int(170 * s), [("名称", name), ("类型", kind), ("法定代表人", representative)]),
        (int(1100 * s), [("注册资本", registered_capital), ("成立日期", format_cn_date(established)),
                         ("营业期限", term), ("住所", address)]),
    )  # fmt: skip
    bottom = 0
    for x, rows in columns:
        y = int(600 * s)
        col_right = x + int(800 * s)
        for label, value in rows:
            _spaced(draw, x, y, label, lw, field)
            vx = x + lw + int(40 * s)
            for ln in _wrap(value, field, col_right - vx):
                draw.text((vx, y), ln, font=field, fill=ink)
                y += int(52 * s)
            y += int(40 * s)
        if x == columns[0][0]:
            bottom = y
    scope = "经营范围：建材、五金交电、日用百货零售；室内装饰工程施工。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    y = max(int(900 * s), bottom + int(20 * s))
    for ln in _wrap(scope, small, int(800 * s)):
        draw.text((int(170 * s), y), ln, font=small, fill=ink)
        y += int(44 * s)
    draw.text((int(1400 * s), int(1150 * s)), "登记机关", font=field, fill=ink)
    cx, cy, r = int(1500 * s), int(1170 * s), int(110 * s)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=int(6 * s))
    draw.text((int(1360 * s), int(1250 * s)), format_cn_date(established), font=small, fill=ink)
    _ = np  # numpy arrays come back from _to_bgr
    return _to_bgr(img)
