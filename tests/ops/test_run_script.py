"""`make run`'s script (scripts/run.sh): the console and its worker start and stop together;
a worker that dies is started again while the console stays up.

Each test runs the real script, with a real development server and a real Celery worker on
the embedded default (SQLite and the filesystem broker in a temporary folder).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.worker import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def var_dir(tmp_path):
    env = _env(tmp_path, 0, "unused")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return tmp_path


def _env(var_dir, port, worker_name):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", PGCONSOLE_VAR_DIR=str(var_dir),
               PORT=str(port), PY=sys.executable, WORKER_NAME=worker_name)
    return env


def _start(var_dir, port, *, sigint_ignored=False):
    name = f"runtest-{uuid.uuid4().hex[:10]}"
    # sigint_ignored: started as a launcher that ignores SIGINT would start it (the shell then
    # cannot trap Ctrl-C, while the worker still reacts to it).
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=_env(var_dir, port, name),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, preexec_fn=ignore)
    return proc, name


def _left_behind(name) -> list[str]:
    found = subprocess.run(["pgrep", "-af", name], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def _wait_up(port, proc, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the console did not come up")


def _finish(proc, timeout=60) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("run.sh did not stop") from None
    return proc.returncode, out


def test_a_web_server_that_cannot_start_stops_the_worker_and_fails(var_dir):
    with socket.socket() as taken:  # the port is taken: runserver exits at once
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc, name = _start(var_dir, taken.getsockname()[1])
        code, out = _finish(proc)
    assert code != 0, out
    assert "did not start" in out
    assert _left_behind(name) == [], out


def test_when_the_web_server_dies_the_worker_is_stopped_and_the_script_fails(var_dir):
    port = _free_port()
    proc, name = _start(var_dir, port)
    _wait_up(port, proc)
    web = subprocess.run(["pgrep", "-f", f"runserver --noreload 127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout.split()
    assert web
    os.kill(int(web[0]), signal.SIGKILL)
    code, out = _finish(proc)
    assert code != 0, out
    assert "The console (web server)" in out  # it says which process ended
    assert _left_behind(name) == [], out


PING = """
import django, json
django.setup()
from ops.tasks import ping
print(json.dumps(ping.apply_async(kwargs={"value": "again"}).get(timeout=60)))
"""


@pytest.mark.parametrize("which", ["every process of the worker", "only its main process"])
def test_a_worker_killed_is_started_again_and_the_console_stays_up(var_dir, which):
    """SIGKILL, as the OOM killer would. Killing only the main process leaves its embedded beat
    running: the script stops that leftover before the new worker (and its beat) starts."""
    port = _free_port()
    proc, name, lines = _start_until_banner(var_dir, port)
    try:
        old = _worker_pids(name)
        if which == "only its main process":
            os.kill(_main_worker_pid(proc.pid, name), signal.SIGKILL)
        else:
            _freeze_and_kill(old)
        said = "The worker stopped unexpectedly (exit 137); starting it again."
        restarted = wait_until(lambda: next((i + 1 for i, line in enumerate(lines) if said in line), 0),
                               timeout=30)
        try:  # the new worker says it is ready
            wait_until(lambda: any(" ready." in line for line in lines[restarted:]), timeout=90)
        except TimeoutError:
            raise AssertionError("the new worker is not ready:\n" + "".join(lines)) from None
        assert not set(_worker_pids(name)) & set(old), "a process of the killed worker is left"
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)  # still up
        # The new worker takes tasks from the same broker folder.
        out = subprocess.run([sys.executable, "-c", PING], cwd=ROOT, env=_env(var_dir, port, name),
                             capture_output=True, text=True, timeout=90)
        assert out.returncode == 0 and json.loads(out.stdout.splitlines()[-1]) == {"echo": "again"}, (
            out.stderr + "".join(lines))
        assert proc.poll() is None
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        code, out = _end(proc, lines)
        left = _left_behind(name)
        _freeze_and_kill(_worker_pids(name))  # none left running, even by a failing test
    assert code == 0, out
    assert left == [], out
    assert not _web_left(port), out


def _worker_pids(name) -> list[int]:
    found = subprocess.run(["pgrep", "-f", name], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def _main_worker_pid(script_pid, name) -> int:
    """The worker's main process: the script's child among the worker's processes."""
    children = subprocess.run(["pgrep", "-P", str(script_pid)], capture_output=True, text=True)
    mains = set(map(int, children.stdout.split())) & set(_worker_pids(name))
    assert len(mains) == 1, mains
    return mains.pop()


def _freeze_and_kill(pids) -> None:
    """SIGKILL these processes and every process they fork meanwhile: stopped first (a stopped
    process forks nothing), their children too, then all killed at once."""
    stopped: set[int] = set()
    todo = set(pids)
    while todo:
        for pid in todo:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= todo
        children = set()
        for pid in todo:
            found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
            children |= set(map(int, found.stdout.split()))
        todo = children - stopped
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _web_left(port) -> bool:
    return subprocess.run(["pgrep", "-f", f"runserver --noreload 127.0.0.1:{port}"],
                          capture_output=True).returncode == 0


def _start_until_banner(var_dir, port, **kw):
    """Start the script and wait until it printed its banner (both processes up); its output
    is collected by a thread into the list returned."""
    proc, name = _start(var_dir, port, **kw)
    lines: list[str] = []
    proc.reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    proc.reader.start()
    deadline = time.monotonic() + 90
    while not any("Press Ctrl-C" in line for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("no banner:\n" + "".join(lines))
        time.sleep(0.2)
    return proc, name, lines


def _end(proc, lines) -> tuple[int, str]:
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("run.sh did not stop:\n" + "".join(lines)) from None
    proc.reader.join(timeout=10)  # until the pipe closes: every line is in
    return code, "".join(lines)


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-c twice", "ctrl-c, SIGINT ignored at start"])
def test_ctrl_c_stops_both_and_exits_0(var_dir, how):
    """Ctrl-C in a terminal sends SIGINT to the whole foreground group (make, this script, the
    server, the worker): a clean stop, so exit 0 and make prints no "Error 1". Also when the
    script was started with SIGINT ignored (it cannot trap it then, while the worker still
    stops on it with status 1), and when Ctrl-C is pressed again while stopping."""
    port = _free_port()
    proc, name, lines = _start_until_banner(var_dir, port, sigint_ignored=how.endswith("ignored at start"))
    os.killpg(proc.pid, signal.SIGINT)
    if how == "ctrl-c twice":
        time.sleep(0.3)  # while it is stopping
        os.killpg(proc.pid, signal.SIGINT)
    code, out = _end(proc, lines)
    assert code == 0, out
    assert out.rstrip().endswith("Stopped."), out
    assert "unexpectedly" not in out and "did not start" not in out
    assert _left_behind(name) == [], out
    assert not _web_left(port), out


def test_the_banner_says_where_mail_goes_how_to_debug_and_the_demo_password(var_dir):
    # `make run` seeds first: the generated password is printed once, and kept for the banner.
    env = {k: v for k, v in _env(var_dir, 0, "unused").items() if k != "DEMO_PASSWORD"}
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo", "--if-empty"], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True).stdout
    password = next(li for li in seeded.splitlines() if "Generated demo password" in li).rsplit(" ", 1)[1]
    kept = var_dir / "demo-password"
    assert kept.read_text().strip() == password and (kept.stat().st_mode & 0o777) == 0o600

    port = _free_port()
    proc, name, lines = _start_until_banner(var_dir, port)
    worker = _left_behind(name)  # still running: the worker's command line
    os.kill(proc.pid, signal.SIGTERM)  # `kill <pid of run.sh>`: it stops both
    code, out = _end(proc, lines)
    assert code == 0, out
    banner = out[out.index("PG Console is running"):out.index("Press Ctrl-C")]
    assert f"Demo password:           {password}   (kept in {var_dir}/demo-password" in banner, banner
    assert "printed when the demo was seeded" not in banner
    assert f"http://127.0.0.1:{port}/local/outbox/" in out and f"{var_dir}/mail/" in out
    assert "Error pages:             the console's own (DJANGO_DEBUG=1 make run shows" in out
    # beat keeps its schedule in the var folder it was given, not in the checkout's var/
    assert any(f"--schedule {var_dir}/celerybeat-schedule" in line for line in worker), worker


def test_a_second_start_says_nothing_of_the_cache_table_and_still_shows_the_password(var_dir):
    """`make run` again on the same folder: `make migrate` prints nothing (no "Cache table …
    already exists"), the seed leaves the database alone, and the kept password is still good.
    The install step (.venv/.installed) is taken as done (-o): this runs the checkout's venv."""
    env = {k: v for k, v in _env(var_dir, 0, "unused").items() if k != "DEMO_PASSWORD"}
    for _ in range(2):
        made = subprocess.run(["make", "-s", "-o", ".venv/.installed", "migrate"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
        assert made.returncode == 0, made.stdout + made.stderr
        assert made.stdout.strip() == "" and "already exists" not in made.stderr, made.stdout + made.stderr
    seed = [sys.executable, "manage.py", "seed_demo", "--if-empty"]
    first = subprocess.run(seed, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert "Generated demo password" in first
    again = subprocess.run(seed, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert "not seeded" in again and "removed" not in again
    assert (var_dir / "demo-password").exists()
