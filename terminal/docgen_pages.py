"""Plain text pages for the materials an applicant brings (a lease's pages, a power of attorney,
an authorisation letter, a business licence's lines): rendered with a CJK font, real pixels for
real OCR; used by the demo sessions and the tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from terminal.docgen import find_cjk_font

if TYPE_CHECKING:
    import numpy.typing as npt

LESSEE = "李建国"
PREMISES = "山东省德州市德城区新华路26号"


def render_page(lines: list[str], size: tuple[int, int] = (1536, 2048)) -> npt.NDArray[np.uint8]:
    """One A4-proportioned page with ``lines`` of 40 px text from the top; BGR uint8."""
    width, height = size
    img = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(find_cjk_font()), size=40)
    y = 180
    for text in lines:
        draw.text((140, y), text, font=font, fill=(20, 20, 20))
        y += 72
    rgb = np.asarray(img, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def lease_page_one(lessee: str = LESSEE, premises: str = PREMISES) -> npt.NDArray[np.uint8]:
    """Page 1: the parties and the premises, no term."""
    return render_page(
        [
            "房屋租赁合同（第1页 共2页）",
            "出租方（甲方）：德州市德城区新华物业管理有限公司",
            f"承租方（乙方）：{lessee}",
            f"房屋坐落：{premises}",
            "第一条 甲方将上述房屋出租给乙方作经营使用。",
        ]
    )


def lease_page_two(term: str = "2025年1月1日至2027年12月31日") -> npt.NDArray[np.uint8]:
    """Page 2: the term and the signatures."""
    return render_page(
        [
            "房屋租赁合同（第2页 共2页）",
            f"租赁期限：{term}",
            "月租金：人民币2500元整",
            "甲方（签字）：新华物业    乙方（签字）：李建国",
        ]
    )
