"""App updates end to end: releases signed in the sandbox's TUF repository, fetched over HTTP on
127.0.0.1, unpacked side by side, switched, started through the real launcher, kept when they
report healthy and rolled back when they do not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.cases.platform_client import PlatformClient
from kiosk.fleet.heartbeat import Heartbeat
from kiosk.update.health import read_mark
from kiosk.update.report import heartbeat_fields, status
from terminal.update import build
from tests.update.conftest import EXITS_MAIN, GOOD_MAIN, HANGS_MAIN, Bench, release_tarball


def _installed_first(bench: Bench) -> None:
    bench.publish("1.0.0")
    result = bench.updater().apply()
    assert (result.result, result.version) == ("installed", "1.0.0"), result
    bench.service.wait_healthy("1.0.0")


def test_a_good_release_is_switched_started_and_kept(bench: Bench) -> None:
    _installed_first(bench)
    bench.publish("1.1.0")
    steps: list[str] = []
    updater = bench.updater()
    updater.on_step = steps.append
    result = updater.apply()
    assert (result.result, result.version) == ("installed", "1.1.0"), result
    assert steps == [
        "settled",
        "checked",
        "downloaded",
        "unpacked",
        "installed",
        "switched",
        "restarted",
        "decided",
    ]
    assert bench.store.current_version() == "1.1.0"
    assert bench.store.previous_version() == "1.0.0"  # kept for a rollback
    assert (bench.root / "current").is_symlink()
    bench.service.wait_healthy("1.1.0", 5)  # the running process is the new release
    now = status(bench.store)
    assert now["running"] == "1.1.0" and now["trial"] is None and now["failed"] == []
    assert now["last_result"]["result"] == "installed"
    # nothing newer: the next run says so and changes nothing
    again = bench.updater().apply()
    assert again.result == "up_to_date" and bench.store.current_version() == "1.1.0"


@pytest.mark.crash  # the release crash-loops until the start-up settle rolls it back
def test_a_release_whose_entry_point_exits_is_rolled_back_and_never_retried(bench: Bench) -> None:
    _installed_first(bench)
    bench.publish("1.2.0", EXITS_MAIN)
    result = bench.updater().apply()
    assert (result.result, result.version) == ("rolled_back", "1.2.0"), result
    assert "not healthy after 2 start(s)" in result.detail
    assert bench.store.current_version() == "1.0.0"
    bench.service.wait_healthy("1.0.0")  # the old release serves again
    assert bench.store.failed() == ["1.2.0"]
    # never again: the failed version is not offered, nothing is switched
    assert bench.updater().check() is None
    starts = bench.service.starts
    assert bench.updater().apply().result == "up_to_date"
    assert bench.service.starts == starts
    # the platform hears of it in the heartbeat
    fields = heartbeat_fields(bench.store)
    assert fields["failed"] == "1.2.0" and fields["last_result"] == "up_to_date"
    client = PlatformClient(bench.server.url, "UPD-2", timeout=30.0)
    client.enrol(code=bench.server.enrolment_code("UPD-2"))
    client.heartbeat({"idcard": "ready"}, Heartbeat({}, "1.0.0", update=fields).telemetry())
    [row] = [r for r in bench.server.app.state.db.terminals() if r["terminal_id"] == "UPD-2"]
    assert row["telemetry"]["update"]["failed"] == "1.2.0"
    # a fixed release later is taken
    bench.publish("1.2.1")
    assert bench.updater().apply().result == "installed"
    assert bench.store.current_version() == "1.2.1"


def test_a_release_that_never_reports_healthy_is_rolled_back_at_the_deadline(bench: Bench) -> None:
    _installed_first(bench)
    bench.publish("1.3.0", HANGS_MAIN)
    result = bench.updater(deadline_s=3.0).apply()
    assert (result.result, result.version) == ("rolled_back", "1.3.0"), result
    assert "no healthy report within 3 s" in result.detail
    assert bench.store.current_version() == "1.0.0"
    bench.service.wait_healthy("1.0.0")
    assert "1.3.0" in bench.store.failed()


def test_a_release_failing_its_self_check_where_the_old_one_passed_is_rolled_back(bench: Bench) -> None:
    _installed_first(bench)
    unfit = GOOD_MAIN.replace("report_ready(version, True)", "report_ready(version, False)")
    bench.publish("1.4.0", unfit)
    result = bench.updater().apply()
    assert (result.result, result.version) == ("rolled_back", "1.4.0"), result
    assert "self-check failed" in result.detail
    assert bench.store.current_version() == "1.0.0"


def test_a_tampered_target_is_refused_before_anything_is_unpacked(bench: Bench) -> None:
    _installed_first(bench)
    target = bench.publish("1.5.0")
    evil = release_tarball("1.5.0", EXITS_MAIN)
    bench.server.app.state.tuf.replace_target(target, evil)
    starts = bench.service.starts
    result = bench.updater().apply()
    assert (result.result, result.version) == ("refused", "1.5.0"), result
    assert "Length" in result.detail or "hash" in result.detail.lower()
    assert not (bench.root / "releases" / "1.5.0").exists()
    assert not list((bench.root / "releases").glob(".incoming-*"))
    assert bench.store.current_version() == "1.0.0" and bench.service.starts == starts
    assert bench.store.failed() == []  # an attack on the transport does not condemn the release


def test_a_same_length_tampered_target_is_refused_by_its_hash(bench: Bench) -> None:
    _installed_first(bench)
    target = bench.publish("1.6.0")
    body = bytearray(bench.server.app.state.tuf.get_target(target))
    body[-5] ^= 0xFF
    bench.server.app.state.tuf.replace_target(target, bytes(body))
    result = bench.updater().apply()
    assert result.result == "refused" and "hash" in result.detail.lower(), result
    assert bench.store.current_version() == "1.0.0"


def test_replayed_metadata_and_an_expired_timestamp_are_refused(bench: Bench) -> None:
    _installed_first(bench)
    tuf = bench.server.app.state.tuf
    old = tuf.saved_metadata()  # signed when only 1.0.0 existed
    bench.publish("1.7.0")
    assert bench.updater().check() is not None  # the terminal has seen the newer metadata
    tuf.replay_metadata(old)
    result = bench.updater().apply()
    assert result.result == "error" and "check failed" in result.detail, result
    tuf.publish()
    tuf.expire_timestamp()
    result = bench.updater().apply()
    assert result.result == "error" and "expired" in result.detail.lower(), result
    assert bench.store.current_version() == "1.0.0"


def test_a_first_start_without_any_release_runs_nothing_from_the_root(bench: Bench) -> None:
    assert bench.store.current_dir() is None
    assert bench.store.settle() == "ok"
    assert read_mark(bench.health) is None


@pytest.mark.slow
@pytest.mark.terminal
def test_the_real_terminal_as_a_release_starts_reports_healthy_and_is_kept(
    bench: Bench, tmp_path: Path
) -> None:
    """The whole terminal, built into a release from this tree, installed over a small one: it
    starts through the launcher, passes its self-check, gets its window up and says so."""
    _installed_first(bench)
    tarball = build("3.1.0", tmp_path / "dist")
    bench.server.app.state.tuf.publish_release("3.1.0", tarball.read_bytes())
    config = tmp_path / "terminal.toml"
    config.write_text(f'profile = "demo"\ndata_dir = "{tmp_path / "data"}"\n[platform]\nmetrics_port = 0\n')
    bench.service.extra_env = {"QT_QPA_PLATFORM": "offscreen", "KIOSK_CONFIG": str(config)}
    started = time.monotonic()
    result = bench.updater(deadline_s=240).apply()
    assert (result.result, result.version) == ("installed", "3.1.0"), (result, _logs(bench))
    mark = bench.service.wait_running(5)
    assert mark.version == "3.1.0" and mark.selfcheck_ok  # read from the release's own release.json
    assert bench.service.proc is not None and bench.service.proc.poll() is None
    print(f"update_to_healthy_s={time.monotonic() - started:.1f}")


def _logs(bench: Bench) -> str:
    return "\n".join(
        p.read_text(errors="replace")[-2000:] for p in sorted(bench.service.log_dir.glob("*.log"))
    )
