"""Synthesised face actions on real photos, for scripted liveness sequences (tests, bench).

A still photo cannot blink or turn, so scripted sequences build the frames a
citizen answering the challenges would give: a head turn by compressing the
half of the face turning away towards the nose, a blink by painting the eyes
shut with skin colour and a lid line.  The liveness check then reads these
pixels through the real face mesh.  Landmark coordinates are passed in (the
mesh lives in ``kiosk``; ``devices`` does not import it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

#: face-mesh indices: (outer corner, inner corner, upper lid, lower lid) per eye; a cheek point
_EYES = ((33, 133, 159, 145), (362, 263, 386, 374))
_CHEEK = 205


def turn_head(img: Frame, nose_x: int, person_left: bool, squeeze: float = 0.5) -> Frame:
    """The head turned to the person's left (``person_left``) or right, as an unmirrored camera
    sees it: the half of the face turning away is compressed towards the nose."""
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    if person_left:  # the image-right half turns away
        part = cv2.resize(img[:, nose_x:], (int((w - nose_x) * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, :nose_x] = img[:, :nose_x]
        out[:, nose_x : nose_x + part.shape[1]] = part
    else:
        part = cv2.resize(img[:, :nose_x], (int(nose_x * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, nose_x:] = img[:, nose_x:]
        out[:, nose_x - part.shape[1] : nose_x] = part
    return out


def close_eyes(img: Frame, pts: Any) -> Frame:
    """Both eyes painted over with skin from the cheek and a dark lid line (``pts``: the face
    mesh's 478 points in pixels)."""
    cy, cx = int(pts[_CHEEK][1]), int(pts[_CHEEK][0])
    skin = img[cy - 4 : cy + 4, cx - 4 : cx + 4]
    colour = tuple(int(c) for c in skin.reshape(-1, 3).mean(axis=0))
    closed = img.copy()
    for outer, inner, upper, lower in _EYES:
        x0, x1 = sorted((int(pts[outer][0]), int(pts[inner][0])))
        y0, y1 = int(pts[upper][1]) - 6, int(pts[lower][1]) + 4
        cv2.rectangle(closed, (x0 - 3, y0), (x1 + 3, y1), colour, -1)
        cv2.line(closed, (x0, (y0 + y1) // 2 + 2), (x1, (y0 + y1) // 2 + 2), (40, 40, 60), 2)
    out: Frame = np.asarray(cv2.GaussianBlur(closed, (3, 3), 0), dtype=np.uint8)
    return out


def open_mouth(img: Frame, pts: Any, gap: float = 0.5) -> Frame:
    """The mouth opened by ``gap`` times its width: the face below the lips moves down and a dark
    mouth opening fills the gap (``pts``: the face mesh's 478 points in pixels)."""
    left, right, upper, lower = pts[78], pts[308], pts[13], pts[14]
    g = int(float(np.linalg.norm(left - right)) * gap)
    y = int((upper[1] + lower[1]) / 2)
    out = img.copy()
    out[y + g :] = img[y : img.shape[0] - g]
    out[y : y + g] = img[y : y + 1]
    x0, x1 = int(left[0]), int(right[0])
    centre = ((x0 + x1) // 2, y + g // 2)
    cv2.ellipse(out, centre, (max(1, (x1 - x0) // 2 - 2), g // 2 + 2), 0, 0, 360, (30, 20, 60), -1)
    return out
