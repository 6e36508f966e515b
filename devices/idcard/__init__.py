"""Resident ID card reader (GA/T 467 SAM protocol): codec, text block, driver and pty simulator."""
