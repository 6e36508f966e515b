"""Field finding by page geometry, not reading order.

Chinese forms print labels with wide letter-spacing (``名　　称``, ``类　　型``, ``住　　所``) and
the text detector splits them into one box per character, sometimes into one tall box that runs
down several rows (``名类住``); values sit right of their label or below it (the credit code under
its label, beside a big title that comes first in reading order), and long values wrap.  Here:

* every OCR line becomes a :class:`Token` (normalised text, axis-aligned box); a tall narrow box
  of several characters is cut into one token per character;
* tokens are grouped into rows by vertical overlap, and each row into *segments* at gaps wider
  than :data:`COLUMN_GAP` character heights (the columns of a two-column layout);
* a label is matched at the start of a token within a segment, over the characters of all its
  tokens, so spacing between label characters does not matter;
* the value is the rest of the segment (up to the next label), else the segment right of or
  below the label;
* a ``multiline`` value whose line is *full* (reaches the right edge of its column: the widest
  unlabelled line starting at the value's or the label's left edge) takes the row below it
  when that row starts in its column (or at the label's margin), close below, and is not a
  labelled row; when its last line is still full, a continuation may have been missed and the
  value is marked ``truncated``.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kiosk.documents.ocr import OcrLine, Point

Quad = tuple[Point, Point, Point, Point]

#: A gap wider than this many character heights splits a row into separate segments (columns).
COLUMN_GAP = 4.0
#: A line ending within this many character heights of its column's right edge is full.
FULL_LINE_SLACK = 1.5
#: A continuation line starts within this many character heights of the value's (or label's) left edge.
ALIGN_SLACK = 2.0
#: Largest vertical gap, in character heights, between a value line and its continuation.
CONTINUATION_GAP = 1.0
#: How far below the label, in label heights, a value printed under it may start.
BELOW_GAP = 3.0

_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_SPACES = re.compile(r"\s+")
#: A row that starts like ``某某某：`` is a labelled row of its own, not a continuation.
_GENERIC_LABEL = re.compile(r"^[\u4e00-\u9fff()]{1,10}[:：]")


@dataclass(frozen=True)
class Token:
    """One piece of text on the page: normalised text (NFKC, no whitespace), confidence, box."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float
    order: int  # index of the OCR line it came from
    #: the line's first character stood apart from the rest (``所 浙江省…``: a spaced label's
    #: last character boxed with the value)
    head_gap: bool = False

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    def __repr__(self) -> str:  # text may be personal data
        return f"Token(<{len(self.text)} chars>, ({self.x0:.0f},{self.y0:.0f})-({self.x1:.0f},{self.y1:.0f}))"


def _norm(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def tokens_from_lines(lines: Sequence[OcrLine]) -> list[Token]:
    """Tokens of the OCR lines; a vertical box of several CJK characters becomes one per character."""
    out: list[Token] = []
    for i, line in enumerate(lines):
        text = _norm(line.text)
        if not text:
            continue
        xs = [p[0] for p in line.box]
        ys = [p[1] for p in line.box]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        w, h = x1 - x0, y1 - y0
        if len(text) >= 2 and h > 1.8 * w and _CJK.match(text):
            step = h / len(text)
            for k, ch in enumerate(text):
                out.append(Token(ch, line.confidence, x0, y0 + k * step, x1, y0 + (k + 1) * step, i))
        else:
            head_gap = re.match(r"^\s*\S\s+\S", unicodedata.normalize("NFKC", line.text)) is not None
            out.append(Token(text, line.confidence, x0, y0, x1, y1, i, head_gap))
    return out


@dataclass
class Segment:
    """Tokens of one row between column gaps, left to right; ``text`` is their concatenation and
    ``starts[k]`` the offset in it where token ``k`` begins."""

    tokens: list[Token]
    row: int

    @property
    def text(self) -> str:
        return "".join(t.text for t in self.tokens)

    @property
    def starts(self) -> list[int]:
        out, pos = [], 0
        for t in self.tokens:
            out.append(pos)
            pos += len(t.text)
        return out

    @property
    def x0(self) -> float:
        return self.tokens[0].x0

    @property
    def x1(self) -> float:
        return max(t.x1 for t in self.tokens)

    @property
    def y0(self) -> float:
        return min(t.y0 for t in self.tokens)

    @property
    def y1(self) -> float:
        return max(t.y1 for t in self.tokens)

    @property
    def h(self) -> float:
        return max(t.h for t in self.tokens)

    def token_at(self, offset: int) -> int:
        """Index of the token holding character ``offset``."""
        starts = self.starts
        k = 0
        while k + 1 < len(starts) and starts[k + 1] <= offset:
            k += 1
        return k

    def x_at(self, offset: int) -> float:
        """Estimated x of character ``offset`` (characters spread evenly over their token)."""
        k = self.token_at(offset)
        t = self.tokens[k]
        frac = (offset - self.starts[k]) / max(len(t.text), 1)
        return t.x0 + frac * (t.x1 - t.x0)


def _same_row(first: Token, t: Token) -> bool:
    if (first.x0, first.y0, first.x1, first.y1) == (t.x0, t.y0, t.x1, t.y1) and first.order != t.order:
        return False  # identical boxes of different lines: lines given without geometry
    overlap = min(first.y1, t.y1) - max(first.y0, t.y0)
    return overlap >= 0.5 * min(first.h, t.h)


def layout(tokens: Sequence[Token], labels: Sequence[re.Pattern[str]] = ()) -> list[list[Segment]]:
    """Rows top to bottom, each a list of segments left to right.

    A row is cut into segments at gaps wider than :data:`COLUMN_GAP` character heights, and also
    at any gap (of half a character height or more) that spans a *column start*: the left edge of
    a token that begins with one of ``labels`` after a gap, on any row.  Two-column layouts whose
    columns stand close (a 2019 licence: a long name runs up to the next column's 注册资本) are
    cut there."""
    rows: list[list[Token]] = []
    for t in sorted(tokens, key=lambda t: ((t.y0 + t.y1) / 2, t.order)):
        for row in reversed(rows[-3:]):
            if _same_row(row[0], t):
                row.append(t)
                break
        else:
            rows.append([t])
    for row in rows:
        row.sort(key=lambda t: (t.x0, t.order))
    starts = _column_starts(rows, labels)
    out: list[list[Segment]] = []
    for r, row in enumerate(rows):
        segs: list[Segment] = [Segment([row[0]], r)]
        for t in row[1:]:
            prev = segs[-1].tokens[-1]
            h = max(prev.h, t.h)
            gap = t.x0 - prev.x1
            # the column start lies in the gap (the token before does not itself start there)
            at_column = gap >= 0.5 * h and any(prev.x1 <= c + 0.25 * h and t.x0 >= c - h for c in starts)
            if gap > COLUMN_GAP * h or at_column:
                segs.append(Segment([t], r))
            else:
                segs[-1].tokens.append(t)
        out.append(segs)
    return out


def _column_starts(rows: list[list[Token]], labels: Sequence[re.Pattern[str]]) -> list[float]:
    """Left edges of tokens that start with a label and stand apart from the token before them
    (or start their row), apart from the leftmost column."""
    xs: list[float] = []
    for row in rows:
        for k, t in enumerate(row):
            apart = k == 0 or t.x0 - row[k - 1].x1 >= t.h
            if apart and any(p.match(t.text) for p in labels):
                xs.append(t.x0)
    if not xs:
        return []
    left = min(xs)
    return [x for x in xs if x > left + 4 * min(t.h for row in rows for t in row)]


@dataclass(frozen=True)
class Found:
    """A value found on the page: raw text (normalised, before the field's value regex), the
    tokens it came from, how many lines it spans and whether a continuation may be missing."""

    raw: str
    tokens: tuple[Token, ...]
    lines: int
    truncated: bool
    partial_label: bool = False

    @property
    def confidence(self) -> float:
        return min(t.confidence for t in self.tokens)

    @property
    def box(self) -> Quad:
        x0 = min(t.x0 for t in self.tokens)
        y0 = min(t.y0 for t in self.tokens)
        x1 = max(t.x1 for t in self.tokens)
        y1 = max(t.y1 for t in self.tokens)
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))

    def __repr__(self) -> str:
        return f"Found(<{len(self.raw)} chars>, lines={self.lines}, truncated={self.truncated})"


class Page:
    """The laid-out tokens of one page, with the labels of a material's fields."""

    def __init__(self, lines: Sequence[OcrLine], labels: Sequence[str]) -> None:
        self._labels = [re.compile(rf"(?:{lab})[:：]?") for lab in labels]
        self._partial = "".join(partial_labels(lab) for lab in labels)
        self.rows = layout(tokens_from_lines(lines), self._labels)

    def _label_at(self, seg: Segment, offset: int) -> int | None:
        """End offset of the longest known label starting at ``offset`` of ``seg``."""
        text = seg.text
        ends = [
            m.end() for p in self._labels if (m := p.match(text, offset)) is not None and m.end() > offset
        ]
        return max(ends) if ends else None

    def _labelled(self, seg: Segment, *, generic: bool = True) -> bool:
        """Whether ``seg`` starts a field of its own: a known label, ``某某：`` (unless not
        ``generic``), or a lone character of a spaced two-character label (``型`` of 类　型 whose
        类 the detector missed)."""
        head = seg.tokens[0]
        lone = head.text[0] in self._partial and (
            (len(head.text) == 1 and len(seg.tokens) > 1) or head.head_gap
        )
        if lone or self._label_at(seg, 0) is not None:
            return True
        return generic and _GENERIC_LABEL.match(seg.text) is not None

    def find_labels(self, label: str) -> list[tuple[Segment, int, int]]:
        """Every place ``label`` matches at a token start: (segment, start, end offsets), top to bottom."""
        pattern = re.compile(rf"(?:{label})[:：]?")
        hits: list[tuple[Segment, int, int]] = []
        for row in self.rows:
            for seg in row:
                text = seg.text
                for start in seg.starts:
                    m = pattern.match(text, start)
                    if m is not None and m.end() > start:
                        hits.append((seg, start, m.end()))
                        break
        return hits

    def rest_of(self, seg: Segment, end: int) -> tuple[str, tuple[Token, ...]]:
        """Text after a label up to the next label in the segment, and its tokens."""
        text = seg.text
        stop = len(text)
        for s in seg.starts:
            if s >= end and self._label_at(seg, s) is not None:
                stop = s
                break
        if stop <= end:
            return "", ()
        first, last = seg.token_at(end), seg.token_at(stop - 1)
        return text[end:stop], tuple(seg.tokens[first : last + 1])

    def beside_or_below(self, seg: Segment, start: int, end: int) -> list[Segment]:
        """Unlabelled segments right of the label on the same row, then below it (starting under
        or just right of it), nearest first."""
        lx0, lx1 = seg.x_at(start), seg.x_at(end - 1) + seg.h
        h = seg.h
        out: list[Segment] = []
        for other in self.rows[seg.row]:
            near = lx1 - h <= other.x0 <= lx1 + 2 * COLUMN_GAP * h
            if other is not seg and near and not self._labelled(other):
                out.append(other)
        for row in self.rows[seg.row + 1 :]:
            if not row or row[0].y0 - seg.y1 > BELOW_GAP * h:
                break
            for other in row:
                overlaps = other.x0 < lx1 + h and other.x1 > lx0 - h
                if overlaps and not self._labelled(other):
                    out.append(other)
        return out

    def continuation(
        self, value_x0: float, label_x0: float, last: Segment, used: set[int]
    ) -> tuple[Segment, bool] | None:
        """The segment that may continue a value whose last line is ``last``: on the next row,
        starting at the value's or the label's left edge, close below, not a labelled row; and
        whether it is *indented* under the value (its own column, nothing in the label column
        beside it), which makes it a continuation whether or not ``last`` is full."""
        if last.row + 1 >= len(self.rows):
            return None
        h = last.h
        row = self.rows[last.row + 1]
        for other in row:
            if id(other) in used:
                continue
            if other.y0 - last.y1 > CONTINUATION_GAP * h:
                return None
            under_value = abs(other.x0 - value_x0) <= ALIGN_SLACK * h
            at_margin = abs(other.x0 - label_x0) <= ALIGN_SLACK * h
            if not (under_value or at_margin):
                continue  # another column's text
            if self._labelled(other):
                return None
            own_column = value_x0 - label_x0 > ALIGN_SLACK * h and under_value
            beside = any(
                s is not other and label_x0 - ALIGN_SLACK * h <= s.x0 < value_x0 - h and s.x1 <= other.x0
                for s in row
            )
            return other, own_column and not beside
        return None

    def column_right(self, value_x0: float, label_x0: float, h: float) -> float:
        """Right edge of the value's column: the widest line starting at the value's left edge or
        at the label's margin that is not another field of the material (a field's row may reach
        beyond the column, as the ID number runs under the photo; running text such as
        ``经营范围：…`` fills the column)."""
        right = 0.0
        for row in self.rows:
            for seg in row:
                starts_here = (
                    abs(seg.x0 - value_x0) <= ALIGN_SLACK * h or abs(seg.x0 - label_x0) <= ALIGN_SLACK * h
                )
                if starts_here and not self._labelled(seg, generic=False):
                    right = max(right, seg.x1)
        return right


_TWO_CHARS = re.compile(r"^[\u4e00-\u9fff]{2}$")


def partial_labels(label: str) -> str:
    """The characters of the two-character alternatives of ``label`` (``名称`` -> 名, 称): what is
    left of a widely spaced label when the detector missed one of its two characters."""
    return "".join(alt for alt in label.split("|") if _TWO_CHARS.match(alt))


def find_value(
    page: Page, label: str, accept: Callable[[str], bool], *, multiline: bool = False
) -> Found | None:
    """Find the value of the field labelled ``label`` on ``page``; ``accept(raw)`` tells whether
    a candidate text holds the value (the field's value regex).  The first label with an
    acceptable value wins; when the whole label is nowhere, a segment that starts with one
    character of a two-character label is tried (the result is marked ``partial_label``, as is a
    value that starts with its label's last character again, read twice from overlapping boxes)."""
    for seg, start, end in page.find_labels(label):
        got = _value_at(page, seg, start, end, accept, multiline)
        if got is not None:
            label_text = seg.text[start:end].rstrip(":：")
            if got.raw[:1] == label_text[-1:] and _TWO_CHARS.match(label_text):
                # the label's last character read twice (类型型...): an overlapping box
                got = dataclasses.replace(got, partial_label=True)
            return got
    chars = partial_labels(label)
    if not chars:
        return None
    for row in page.rows:
        for seg in row:
            if seg.text[0] in chars:
                got = _value_at(page, seg, 0, 1, accept, multiline)
                if got is not None:
                    return dataclasses.replace(got, partial_label=True)
    return None


def _value_at(
    page: Page, seg: Segment, start: int, end: int, accept: Callable[[str], bool], multiline: bool
) -> Found | None:
    rest, toks = page.rest_of(seg, end)
    if rest and accept(rest):
        first, value_x0 = seg, seg.x_at(end)
    else:
        for cand in page.beside_or_below(seg, start, end):
            r, t = page.rest_of(cand, 0)
            if r and accept(r):
                rest, toks, first, value_x0 = r, t, cand, cand.x0
                break
        else:
            return None
    label_x0 = seg.x_at(start)
    if not multiline:
        return Found(rest, toks, 1, False)
    h = max(t.h for t in toks)
    right = max(page.column_right(value_x0, label_x0, h), max(t.x1 for t in toks))

    def full(line: tuple[Token, ...]) -> bool:
        return max(t.x1 for t in line) >= right - FULL_LINE_SLACK * h

    parts, tokens, last, last_toks = [rest], list(toks), first, toks
    used = {id(first), id(seg)}
    while (cont := page.continuation(value_x0, label_x0, last, used)) is not None:
        nxt, indented = cont
        if not (indented or full(last_toks)):
            break
        used.add(id(nxt))
        r, t = page.rest_of(nxt, 0)
        if not r:
            break
        parts.append(r)
        tokens.extend(t)
        last, last_toks = nxt, t
    return Found("".join(parts), tuple(tokens), len(parts), full(last_toks))
