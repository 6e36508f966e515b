"""PC/SC smart cards through pcscd (pyscard): reader events, ATR, APDU exchange.

* :mod:`devices.smartcard.apdu`: command/response APDUs and the status-word table
  mapped to typed :class:`~devices.base.DeviceError` subclasses.
* :mod:`devices.smartcard.pcsc`: the pyscard driver (reader listing, inserted/removed
  events by polling ``SCardGetStatusChange``, connection with 61xx/6Cxx handling).
* :mod:`devices.smartcard.piv`: the PIV card application (staff cards); :mod:`devices.smartcard.piv_applet`
  its simulator.
* :mod:`devices.smartcard.vcard`: a virtual card speaking the vsmartcard ``vpcd``
  socket protocol (tests, demo, CI).
* :mod:`devices.smartcard.ssc`: the social security card's (社会保障卡) basic info
  (SSSE application, EF05/EF06 records) read into a typed ``SocialSecurityCardInfo``;
  :mod:`devices.smartcard.ssc_applet` documents the file layout (and how far it follows
  the public material) and is the virtual card's applet.  Cards that want PSAM/PIN
  authentication before EF06 are reported as such (readers here hold no PSAM).
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
