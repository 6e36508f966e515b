"""Walking a demo-profile terminal's service to the confirm/sign step (no UI), for output tests."""

from __future__ import annotations

import io
import time

from PIL import Image, ImageDraw

from kiosk.session.machine import Step
from terminal.runtime import DemoCitizen, Terminal


def signature_png() -> bytes:
    img = Image.new("RGB", (360, 120), "white")
    ImageDraw.Draw(img).line([(20, 90), (80, 20), (140, 100), (220, 30), (330, 80)], fill="black", width=6)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def to_confirm(t: Terminal, citizen: DemoCitizen) -> None:
    """Card, face, form (and no material): the session waits on the confirm/sign screen."""
    s, bench = t.session, t.bench
    assert bench is not None
    s.start()
    s.choose_item(citizen.item_id)
    bench.present_face(citizen.live_images)
    bench.idcard.insert(citizen.key)
    assert s.card.read() is not None
    while s.step is Step.FACE_CHECK:
        s.face.check()
    assert s.step is Step.FORM
    values = {f.key: f.value for f in s.form.fields()}
    values.update(citizen.form)
    assert s.form.submit(values) == {}
    if s.step is Step.MATERIALS:
        s.materials.finish()
    s.review.run()
    assert s.step is Step.CONFIRM_SIGN


def wait_card_lifted(t: Terminal, timeout: float = 10.0) -> None:
    """Until the terminal has seen the card leave the reader (it polls every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while t.session.card.awaiting_lift and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not t.session.card.awaiting_lift
