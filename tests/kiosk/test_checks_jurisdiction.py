from __future__ import annotations

import pytest

from kiosk.review.checks import address_in_jurisdiction

DEZHOU_DECHENG = ("山东省德州市德城区",)


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("山东省德州市德城区新湖大街1号", True),
        ("德州市德城区东风中路88号", True),  # province left out
        ("山东省 德州市 德城区新华路２６号", True),  # spaces, full-width digits
        ("山东省德州市武城县广运街5号", False),  # another county of the same city
        ("山东省济南市历下区泉城路1号", False),
        ("德城区新湖大街1号", False),  # too vague to place
        ("", False),
    ],
)
def test_address_in_jurisdiction(address: str, inside: bool) -> None:
    assert address_in_jurisdiction(address, DEZHOU_DECHENG) is inside


def test_several_areas_and_empty_entries() -> None:
    areas = ("", "山东省德州市武城县", "山东省德州市德城区")
    assert address_in_jurisdiction("德州市武城县广运街5号", areas)
    assert not address_in_jurisdiction("德州市陵城区1号", areas)
