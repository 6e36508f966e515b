"""The terminal configuration: demo defaults, TOML overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import (
    REPO_ROOT,
    ConfigError,
    Profile,
    TerminalConfig,
    default_config_path,
    load_config,
)

OVERRIDES = """\
terminal_id = "DZ-HALL-0042"
profile = "production"
data_dir = "/srv/kiosk"

[devices.idcard]
driver = "serial"
port = "/dev/serial/by-id/usb-reader"
baudrate = 9600

[devices.receipt_printer]
driver = "network"
host = "10.0.0.7"
port = 9101

[devices.camera]
driver = "opencv"

[devices.document_camera]
driver = "opencv"

[devices.document_printer]
driver = "cups"

[devices.staff_card]
driver = "none"

[platform]
url = "https://platform.example.gov.cn/api"
timeout_s = 2.5

[session]
idle_timeout_s = 120
idle_warning_s = 30.0

[ui]
language = "en"
fullscreen = false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_demo_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml")
    assert config == TerminalConfig()
    assert config.profile is Profile.DEMO
    assert config.terminal_id == "DEMO-0001"
    assert config.devices.idcard.driver == "simulator"
    assert config.devices.camera.driver == "simulator"
    assert config.devices.receipt_printer.driver == "simulator"
    assert config.platform.url == ""
    assert config.session.idle_timeout_s == 90.0
    assert config.ui.language == "zh"
    assert config.data_path() == REPO_ROOT / "var"


def test_the_face_threshold_default_is_the_verifiers() -> None:
    from kiosk.identity.face import DEFAULT_THRESHOLD

    assert TerminalConfig().session.face_threshold == DEFAULT_THRESHOLD


def test_file_overrides_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, OVERRIDES))
    assert config.terminal_id == "DZ-HALL-0042"
    assert config.profile is Profile.PRODUCTION
    assert config.data_path() == Path("/srv/kiosk")
    assert config.devices.idcard.driver == "serial"
    assert config.devices.idcard.port == "/dev/serial/by-id/usb-reader"
    assert config.devices.idcard.baudrate == 9600
    assert config.devices.receipt_printer.host == "10.0.0.7"
    assert config.devices.receipt_printer.port == 9101
    assert config.platform.url == "https://platform.example.gov.cn/api"
    assert config.platform.timeout_s == 2.5
    assert config.session.idle_timeout_s == 120.0
    assert config.session.idle_warning_s == 30.0
    assert config.ui.language == "en"
    assert config.ui.fullscreen is False
    # Keys not in the file keep their defaults.
    assert config.devices.camera.source == TerminalConfig().devices.camera.source == "0"
    assert config.devices.barcode == TerminalConfig().devices.barcode  # optional: not configured
    assert config.session.face_max_attempts == 3
    assert config.ui.hall_name == TerminalConfig().ui.hall_name


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == TerminalConfig()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 'blue'\n", "colour"),
        ("[devices.idcard]\nspeed = 9600\n", "devices.idcard.speed"),
        ("[sesion]\nidle_timeout_s = 10\n", "sesion"),
    ],
)
def test_unknown_key_is_an_error_naming_it(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[devices.idcard]\nbaudrate = "fast"\n', "devices.idcard.baudrate"),
        ("[devices.idcard]\nbaudrate = -1\n", "devices.idcard.baudrate"),
        ("[devices.receipt_printer]\nport = 70000\n", "devices.receipt_printer.port"),
        ('[devices.camera]\ndriver = "v4l"\n', "devices.camera.driver"),
        ('profile = "staging"\n', "profile"),
        ('[ui]\nlanguage = "fr"\n', "ui.language"),
        ('[session]\nface_max_attempts = "three"\n', "session.face_max_attempts"),
    ],
)
def test_wrong_value_is_an_error_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as info:
        load_config(path)
    assert str(path) in str(info.value)


def _without_section(name: str) -> str:
    """OVERRIDES without its ``[devices.<name>]`` table."""
    lines, out, skipping = OVERRIDES.splitlines(keepends=True), [], False
    for line in lines:
        if line.startswith("["):
            skipping = line.strip() == f"[devices.{name}]"
        if not skipping:
            out.append(line)
    return "".join(out)


@pytest.mark.parametrize("section", ["idcard", "camera", "document_camera", "receipt_printer", "staff_card"])
def test_production_without_a_required_device_section_is_an_error(tmp_path: Path, section: str) -> None:
    """No silent defaults (a printer at 127.0.0.1:9100, camera 0) for hardware the file forgot."""
    text = _without_section(section)
    assert f"[devices.{section}]" not in text
    with pytest.raises(ConfigError, match=rf"production profile needs \[devices\.{section}\]"):
        load_config(write(tmp_path, text))


def test_production_needs_no_barcode_section(tmp_path: Path) -> None:
    assert "[devices.barcode]" not in OVERRIDES
    assert load_config(write(tmp_path, OVERRIDES)).profile is Profile.PRODUCTION


def test_the_simulator_driver_is_refused_in_production(tmp_path: Path) -> None:
    text = OVERRIDES.replace('[devices.staff_card]\ndriver = "none"', '[devices.staff_card]\nreader = ""')
    with pytest.raises(ConfigError, match=r"devices\.staff_card\.driver: 'simulator' is for the demo"):
        load_config(write(tmp_path, text))


def test_a_serial_reader_needs_a_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"devices\.idcard: .*needs a port"):
        load_config(write(tmp_path, '[devices.idcard]\ndriver = "serial"\n'))


def test_every_registered_device_kind_has_a_section() -> None:
    from devices.registry import KINDS

    defaults = TerminalConfig().devices
    for kind in KINDS:
        section = defaults.section(kind)
        assert isinstance(section, kind.config)
        assert section.driver in kind.driver_names()


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(write(tmp_path, "[devices.idcard\nbaudrate = \n"))


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_bytes(b'terminal_id = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(path)


def test_unreadable_path_is_an_error(tmp_path: Path) -> None:
    directory = tmp_path / "terminal.toml"
    directory.mkdir()  # exists, but cannot be read as a file (works as root too, unlike chmod)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(directory)


def test_kiosk_config_env_var_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, OVERRIDES)
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert default_config_path() == path
    config = load_config()
    assert config.terminal_id == "DZ-HALL-0042"
    assert config.devices.idcard.baudrate == 9600


def test_kiosk_config_env_var_with_a_bad_file_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", str(write(tmp_path, '[devices.idcard]\nbaudrate = "fast"\n')))
    with pytest.raises(ConfigError, match=r"devices\.idcard\.baudrate"):
        load_config()


def test_without_env_var_the_default_path_is_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    assert default_config_path() == REPO_ROOT / "var" / "terminal.toml"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="frozen"):
        config.terminal_id = "X"  # type: ignore[misc]


def test_the_documented_example_config_is_valid() -> None:
    from pathlib import Path

    from kiosk.config import Profile, load_config

    config = load_config(Path(__file__).resolve().parents[2] / "docs" / "terminal.example.toml")
    assert config.profile is Profile.PRODUCTION
    assert config.devices.idcard.port.startswith("/dev/serial/by-id/")


def test_production_devices_follow_the_config(tmp_path: Path) -> None:
    """The example config builds hardware drivers (nothing is opened until used)."""
    from devices.docprinter.cups import CupsDocumentPrinter
    from devices.idcard.driver import SerialIdCardReader
    from terminal.hardware import build_devices

    config = load_config(Path(__file__).resolve().parents[2] / "docs" / "terminal.example.toml")
    devices = build_devices(config, None, tmp_path)
    assert isinstance(devices.idcard, SerialIdCardReader)
    assert devices.idcard.port == config.devices.idcard.port
    assert isinstance(devices.document_printer, CupsDocumentPrinter)
    assert devices.document_printer.queue == "kiosk-a4"


def test_camera_settings_reach_the_camera_driver(tmp_path: Path) -> None:
    from devices.camera.opencv import OpenCvCamera
    from terminal.hardware import build_devices

    example = Path(__file__).resolve().parents[2] / "docs" / "terminal.example.toml"
    text = example.read_text(encoding="utf-8").replace("# exposure = 156", "exposure = 156")
    config = load_config(write(tmp_path, text))
    assert config.devices.camera.exposure == 156 and config.devices.document_camera.exposure is None
    devices = build_devices(config, None, tmp_path)
    camera = devices.camera
    assert isinstance(camera, OpenCvCamera)
    assert camera._source == "/dev/v4l/by-id/usb-Face_Camera-video-index0"
    assert (camera._width, camera._height, camera._exposure, camera._frozen_after_s) == (640, 480, 156, 3.0)
    assert isinstance(devices.document_camera, OpenCvCamera)
    assert devices.document_camera._exposure is None
