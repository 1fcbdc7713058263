"""`make run`'s script (scripts/run.sh): the console and its worker live and die together.

Each test runs the real script, with a real development server and a real Celery worker on
the embedded default (SQLite and the filesystem broker in a temporary folder).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


def _start(var_dir, port):
    name = f"runtest-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=_env(var_dir, port, name),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
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


def test_when_the_worker_dies_the_web_server_is_stopped_and_the_script_fails(var_dir):
    port = _free_port()
    proc, name = _start(var_dir, port)
    _wait_up(port, proc)
    for pid in subprocess.run(["pgrep", "-f", name], capture_output=True, text=True).stdout.split():
        os.kill(int(pid), signal.SIGKILL)
    code, out = _finish(proc)
    assert code != 0, out
    assert subprocess.run(["pgrep", "-f", f"runserver --noreload 127.0.0.1:{port}"],
                          capture_output=True).returncode == 1  # none left

