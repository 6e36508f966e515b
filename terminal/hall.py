"""The hall services of a built terminal (composition): the platform's hall API over the terminal's
signed client, the session's receipt printer and ID card reader, the local ticket counter."""

from __future__ import annotations

from kiosk.cases.platform_hall import HallPlatform
from kiosk.hall import HallServices
from terminal.runtime import Terminal
from ui.facade_hall import HallFacade


def hall_services(terminal: Terminal) -> HallServices:
    devices = terminal.session.devices
    return HallServices(
        HallPlatform(terminal.client),
        devices.receipt_printer,
        hall_name=terminal.config.ui.hall_name,
        terminal_id=terminal.config.terminal_id,
        counter_path=terminal.workdir / "hall" / "local-tickets.json",
        card_reader=devices.idcard,
    )


def hall_facade(terminal: Terminal) -> HallFacade:
    return HallFacade(hall_services(terminal))
