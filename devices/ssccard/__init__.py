"""The social security card reader (社会保障卡, PC/SC, citizen-facing) as an identity carrier:
:mod:`devices.ssccard.reader` polls the reader and reads the card's basic info with
:mod:`devices.smartcard.ssc`; :mod:`devices.ssccard.kind` declares the ``[devices.ssc_card]`` kind."""
