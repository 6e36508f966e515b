"""PC/SC smart cards through pcscd (pyscard): reader events, ATR, APDU exchange.

* :mod:`devices.smartcard.apdu`: command/response APDUs and the status-word table
  mapped to typed :class:`~devices.base.DeviceError` subclasses.
* :mod:`devices.smartcard.pcsc`: the pyscard driver (reader listing, inserted/removed
  events by polling ``SCardGetStatusChange``, connection with 61xx/6Cxx handling).
* :mod:`devices.smartcard.staff_applet`: the staff-card applet's AID and commands.
* :mod:`devices.smartcard.vcard`: a virtual card speaking the vsmartcard ``vpcd``
  socket protocol (tests, demo, CI).

The social security card's basic info (人社部 社会保障卡 "基本信息" files) is not
implemented: reading it needs the card's PSAM-protected file layout, which no reader
here exposes; the kiosk does not offer it.
"""

from devices.smartcard.apdu import CardStatusError, CommandApdu, ResponseApdu
from devices.smartcard.pcsc import CardEvent, CardEventKind, PcscCardConnection, PcscReaders

__all__ = [
    "CardEvent",
    "CardEventKind",
    "CardStatusError",
    "CommandApdu",
    "PcscCardConnection",
    "PcscReaders",
    "ResponseApdu",
]
