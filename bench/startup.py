"""Start-up time and memory of the whole terminal (``python -m bench.startup``), Qt offscreen.

* ``attract_s``: cold start (a new process, as systemd starts it) to the welcome screen shown, demo
  profile (the sandbox platform and the simulators start in the process too).  "Cold" is a new
  interpreter with nothing imported, no models loaded and a new data directory (new keys, new
  store); the project's modules are byte-compiled first, as the package's postinst does (the venv's
  already are); the files themselves may be in the OS page cache, as they are on a terminal restarted by
  systemd (nothing here drops or pre-loads the cache; a first boot from disk is slower).
* ``models_load_s``: how long the face and OCR models take to load in the background once a citizen
  leaves the welcome screen (terminal/models.py: they are not held while the terminal waits); the
  citizen meanwhile chooses an item and reads the card, and waits for what is left at the face
  step.  ``rss_mb_models``: the tree once they are loaded; ``session_1_s`` vs ``session_s_mean``:
  what the first session pays.
* ``attract_s_provisioned``: the same for a terminal provisioned by ``hall-kiosk provision`` on the
  simulators (bench/provision.py's hall): the production profile, nothing started in-process.
* ``attract_s_unreachable``: that terminal with its platform address not answering (TEST-NET-1,
  connections time out): enrolment and sync must not hold the window.
* ``rss_mb_idle``: the whole process tree's RSS (every descendant, sampled from /proc) while the
  terminal sits on the welcome screen, start-up settled, models not loaded (they load per citizen;
  demo profile: the sandbox platform and the simulators live in the same process); ``rss_mb_idle_provisioned``: the same for the
  provisioned production terminal.
* ``rss_mb_peak``: the tree's peak RSS over ``--sessions`` (default 20) whole citizen sessions
  driven through the real UI (terminal/demo.py's DemoDriver: card, face, form, materials with OCR,
  review, signature, submit, receipt, certificate), demo profile: the sandbox platform, which
  handles every case the sessions submit, is in the process and counted.
* ``rss_mb_peak_terminal`` and ``rss_mb_idle_terminal``: the same sessions with the sandbox platform
  in another process (the bench's own, not in the measured tree): the terminal alone, with its
  simulated devices, as a production terminal runs against a remote platform.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

UNREACHABLE = "https://192.0.2.1"  # TEST-NET-1 (RFC 5737): nothing answers, connects time out


PF_FORKNOEXEC = 0x40  # /proc/PID/stat flags: forked but not (yet) exec'd


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants, MiB.  A child between fork and exec (the terminal
    starting ``lp``, a sound player, ...) is not counted: it shares its parent's pages (vfork: the
    very same memory), and counting it doubled a sample now and then (runs of 1,300-1,550 MB)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            flags = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[6])
        except (OSError, IndexError, ValueError):
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        kb = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
        if ppid:
            children.setdefault(int(ppid.group(1)), []).append(int(entry))
        rss[int(entry)] = int(kb.group(1)) if kb and not (flags & PF_FORKNOEXEC and int(entry) != pid) else 0
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 1024.0


class Sampler:
    """Samples a process tree's RSS every 0.2 s; ``peak`` and ``now()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> float:
        value = tree_rss_mb(self.pid)
        self.peak = max(self.peak, value)
        return value

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.now()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------ the child: one terminal


def child(config_path: str | None, sessions: int, workdir: Path, platform: list[str] | None = None) -> None:
    """One terminal as entry.py starts it; prints ATTRACT <epoch>, READY <epoch>, IDLE, SESSION i, DONE."""
    from terminal.memory import tune_malloc

    tune_malloc()
    from kiosk.config import TerminalConfig, load_config
    from terminal.runtime import build_terminal  # before Qt, as in terminal/entry.py

    from PySide6.QtCore import QTimer  # isort: skip

    from terminal.app import KioskUi, make_app

    config = load_config(Path(config_path)) if config_path else TerminalConfig(data_dir=str(workdir))
    if platform:  # demo profile, the sandbox platform run apart: its url and a one-time code
        config = config.model_copy(
            update={
                "platform": config.platform.model_copy(
                    update={"url": platform[0], "enrolment_code": platform[1]}
                )
            }
        )
    app = make_app()
    terminal = build_terminal(config, background_connect=True)
    ui = KioskUi(app, terminal, fullscreen=False)

    def shown() -> None:
        print(f"ATTRACT {time.time():.3f} {terminal.session.step.value}", flush=True)
        try:
            if sessions >= 0:
                after_attract()
        finally:
            app.quit()

    def after_attract() -> None:
        deadline = time.monotonic() + 3.0  # start-up settles: enrolment, first sync, release
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.05)
        print("IDLE", flush=True)
        time.sleep(1.0)  # the parent samples the tree now
        t0 = time.monotonic()
        terminal.warm_up().join(timeout=180)  # what a citizen leaving the welcome screen starts
        print(f"MODELS {time.monotonic() - t0:.2f}", flush=True)
        time.sleep(1.0)  # the parent samples the tree now
        if sessions:
            from terminal.demo import DemoDriver
            from terminal.demo_profile import DEMO_CITIZENS

            (workdir / "out").mkdir(parents=True, exist_ok=True)
            driver = DemoDriver(ui, terminal, workdir / "out")
            for i in range(sessions):
                t0 = time.monotonic()
                driver.run_citizen(DEMO_CITIZENS[i % len(DEMO_CITIZENS)])
                print(f"SESSION {i + 1} {time.monotonic() - t0:.1f}", flush=True)
        print("DONE", flush=True)

    QTimer.singleShot(0, shown)
    try:
        app.exec()
    finally:
        ui.close()
        terminal.close()
    os._exit(0)  # the models' native threads: no interpreter finalisation


# ------------------------------------------------------------------ the parent


REPO = Path(__file__).resolve().parents[1]


def compile_project() -> None:
    """The project's modules byte-compiled (``__pycache__`` beside them, as the package's postinst
    leaves a terminal; the venv's packages and the standard library already are): a start as
    systemd makes it does not compile ~300 modules, even where the environment sets
    PYTHONDONTWRITEBYTECODE (which stops only the writes at import, not compileall's)."""
    packages = sorted(str(d) for d in REPO.iterdir() if (d / "__init__.py").is_file() and d.name != "tests")
    cmd = [sys.executable, "-m", "compileall", "-q", "-j", "0", str(REPO / "main.py"), *packages]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _spawn(args: list[str]) -> tuple[subprocess.Popen[str], float]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.startup", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    return proc, t0


def _attract(proc: subprocess.Popen[str], t0: float) -> tuple[float, str]:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ATTRACT "):
            _, when, step = line.split()
            return float(when) - t0, step
    raise RuntimeError(f"the terminal ended before its first screen (status {proc.wait()})")


def measure_demo(
    sessions: int, work: Path, platform: list[str] | None = None
) -> dict[str, float | int | str]:
    args = ["--child", "--workdir", str(work / "demo"), "--sessions", str(sessions)]
    proc, t0 = _spawn([*args, "--platform", *platform] if platform else args)
    sampler = Sampler(proc.pid)
    out: dict[str, float | int | str] = {}
    try:
        out["attract_s"], out["attract_step"] = _attract(proc, t0)
        assert proc.stdout is not None
        done = 0
        session_s: list[float] = []
        for line in proc.stdout:
            if line.startswith("MODELS "):
                out["models_load_s"] = float(line.split()[1])
                out["rss_mb_models"] = round(sampler.now(), 1)
            elif line.startswith("IDLE"):
                out["rss_mb_idle"] = round(sampler.now(), 1)
            elif line.startswith("SESSION"):
                done = int(line.split()[1])
                session_s.append(float(line.split()[2]))
            elif line.startswith("DONE"):
                break
        out["sessions"] = done
        out["session_s_mean"] = round(sum(session_s) / len(session_s), 1) if session_s else 0.0
        out["session_1_s"] = session_s[0] if session_s else 0.0
    finally:
        sampler.stop()
        proc.wait(timeout=120)
    out["rss_mb_peak"] = round(sampler.peak, 1)
    out["attract_s"] = round(float(out["attract_s"]), 2)
    return out


def measure_terminal_alone(sessions: int, work: Path) -> dict[str, float]:
    """The demo sessions with the sandbox platform in this (the bench's) process, not the terminal's."""
    from kiosk.config import TerminalConfig
    from sandbox_platform.server import SandboxServer
    from terminal.runtime import ITEMS_DIR

    with SandboxServer(work / "sandbox-apart", ITEMS_DIR) as sandbox:  # started by ``with``
        code = sandbox.enrolment_code(TerminalConfig().terminal_id)
        out = measure_demo(sessions, work / "apart", [sandbox.url, code])
    return {
        "rss_mb_idle_terminal": float(out["rss_mb_idle"]),
        "rss_mb_peak_terminal": float(out["rss_mb_peak"]),
    }


def measure_provisioned(work: Path) -> dict[str, float | str]:
    """Provision on the simulators; start with the platform there, then with its address unanswering."""
    from bench.provision import hall
    from terminal.provision import run

    with hall(work / "hall") as h:
        data, config = work / "prod", work / "prod.toml"
        if run([*h.flags(data, config), "--no-print"], out=lambda _: None) != 0:
            raise RuntimeError("provisioning the terminal for the start-up bench failed")
        out: dict[str, float | str] = {}
        for name in ("attract_s_provisioned", "attract_s_unreachable"):
            if name == "attract_s_unreachable":
                config.write_text(re.sub(r'(?m)^url = ".*"$', f'url = "{UNREACHABLE}"', config.read_text()))
            idle = name == "attract_s_provisioned"  # this one stays until its models are loaded
            args = ["--child", "--workdir", str(work / name), "--config", str(config)]
            proc, t0 = _spawn([*args, "--sessions", "0" if idle else "-1"])
            try:
                seconds, step = _attract(proc, t0)
                if idle and proc.stdout is not None:
                    for line in proc.stdout:
                        if line.startswith("IDLE"):
                            out["rss_mb_idle_provisioned"] = round(tree_rss_mb(proc.pid), 1)
            finally:
                proc.wait(timeout=180)
            out[name] = round(seconds, 2)
            out[name.replace("attract_s", "step")] = step
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=20, help="whole sessions for rss_mb_peak")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--platform", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.config, args.sessions, args.workdir, args.platform)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        compile_project()
        result = measure_demo(args.sessions, work)
        result.update(measure_terminal_alone(args.sessions, work))
        result.update(measure_provisioned(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    targets = {"attract_s": 3.0, "attract_s_unreachable": 3.0, "rss_mb_idle": 400.0, "rss_mb_peak": 800.0}
    result["within_targets"] = all(float(result[k]) <= v for k, v in targets.items())  # type: ignore[arg-type]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
