"""Document scanners (SANE): an optional capture source for materials."""

from devices.scanner.sane import (
    CoverOpen,
    FeederEmpty,
    SaneScanner,
    ScannerBusy,
    ScannerJammed,
    sane_test_backend_env,
)

__all__ = [
    "CoverOpen",
    "FeederEmpty",
    "SaneScanner",
    "ScannerBusy",
    "ScannerJammed",
    "sane_test_backend_env",
]
