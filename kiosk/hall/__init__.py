"""Hall services at the terminal: queue tickets, appointment check-in, case progress (no Qt)."""

from kiosk.hall.services import BusinessLine, HallServices, HallTicket, HallUnavailable

__all__ = ["BusinessLine", "HallServices", "HallTicket", "HallUnavailable"]
