"""Hall services at the terminal: queue tickets, appointment check-in, case progress, reprints
(no Qt)."""

from kiosk.hall.services import BusinessLine, HallServices, HallTicket, HallUnavailable, ReferenceUnverified

__all__ = ["BusinessLine", "HallServices", "HallTicket", "HallUnavailable", "ReferenceUnverified"]
