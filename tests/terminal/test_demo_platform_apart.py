"""The demo profile given a platform address uses that platform (a sandbox run in another process,
as bench/startup does to measure the terminal alone) instead of starting one in its own process;
the simulated devices stay in the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import PlatformConfig, TerminalConfig
from sandbox_platform.server import SandboxServer
from terminal.runtime import ITEMS_DIR, build_terminal

pytestmark = [pytest.mark.terminal]


def test_a_demo_with_a_platform_address_enrols_there_and_starts_no_sandbox(tmp_path: Path) -> None:
    with SandboxServer(tmp_path / "platform", ITEMS_DIR) as sandbox:
        code = sandbox.enrolment_code(TerminalConfig().terminal_id)
        config = TerminalConfig(
            data_dir=str(tmp_path / "terminal"),
            platform=PlatformConfig(url=sandbox.url, enrolment_code=code, metrics_port=0),
        )
        terminal = build_terminal(config, tmp_path / "terminal")
        try:
            assert terminal.sandbox is None and terminal.bench is not None
            assert terminal.client.base_url == sandbox.url
            assert terminal.session.catalogue.items()  # enrolled and synced with the sandbox apart
        finally:
            terminal.close()
