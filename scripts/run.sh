#!/usr/bin/env bash
# Runs the console (Django's development server) and a Celery worker with an
# embedded beat, prints where to go, and stops both cleanly on Ctrl-C (exit status 0).
# A worker that dies is started again; the console ending ends everything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
VAR_DIR=${PGCONSOLE_VAR_DIR:-var}

# Ctrl-C must reach this script. A shell started with SIGINT ignored (by a launcher that
# ignores it, or `make run &` from another script) cannot trap it, yet the worker installs
# its own handler and still stops on Ctrl-C (with exit status 1, as Celery does on SIGINT):
# the script took that clean stop for a crash and failed, and make printed
# "make: *** [Makefile:…: run] Error 1". So start again with SIGINT restored.
if [ "$(trap -p INT)" = "trap -- '' SIGINT" ] && [ -z "${PGCONSOLE_RUN_SIGINT_RESTORED:-}" ]; then
  export PGCONSOLE_RUN_SIGINT_RESTORED=1
  exec "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp("bash", ["bash", *sys.argv[1:]])' "$PWD/scripts/run.sh" "$@"
fi
unset PGCONSOLE_RUN_SIGINT_RESTORED

stopping=""
stop() {
  # Once, and to the end: a second Ctrl-C while stopping goes to the worker alone (Celery
  # then ends its running tasks at once) and does not cut this stop short.
  [ -z "$stopping" ] || return 0
  stopping=1
  trap '' INT TERM
  trap - EXIT
  echo
  echo "Stopping the console and the worker..."
  # Every process this script started (its jobs), also one started an instant before a
  # Ctrl-C that came before its pid was noted.
  local running
  running=$(jobs -p)
  if [ -n "$running" ]; then
    # shellcheck disable=SC2086  # one pid a word
    kill -TERM $running 2>/dev/null || true
    wait $running 2>/dev/null || true
  fi
  echo "Stopped."
}
# Set before the processes start, so that no Ctrl-C can leave one of them behind. Stopped
# on request (Ctrl-C, SIGTERM) is a clean end: exit 0, whatever the processes answered.
trap 'stop; exit 0' INT TERM
trap stop EXIT

mkdir -p "$VAR_DIR"
# Absolute, so that it names this checkout's worker processes in `pgrep -f` (leftovers below).
SCHEDULE="$(cd "$VAR_DIR" && pwd)/celerybeat-schedule"
start_worker() {
  "$PY" -m celery -A config worker --beat --schedule "$SCHEDULE" \
    --loglevel INFO --concurrency 4 --hostname "${WORKER_NAME:-worker.local}@%h" &
  worker=$!
  worker_started=$SECONDS
}
# What a worker killed outright (SIGKILL, the OOM killer) leaves running: its embedded beat
# outlives it, and a second beat beside the new worker's would send every periodic task
# twice and share the schedule file. Asked to stop, then killed.
stop_leftovers() {
  local pids
  for _ in $(seq 1 25); do
    pids=$(pgrep -f -- "worker --beat --schedule $SCHEDULE" || true)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086  # one pid a word
    kill -TERM $pids 2>/dev/null || true
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}
start_worker
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
web=$!

alive() { kill -0 "$1" 2>/dev/null; }

# Wait for the console to answer, but not for a process that already died (a taken port,
# a broken setting): then stop the other one and fail at once.
for _ in $(seq 1 150); do
  alive "$web" && alive "$worker" || break
  if "$PY" - "$HOST" "$PORT" <<'PYEOF' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/accounts/login/", timeout=1)
PYEOF
  sleep 0.2
done
if ! alive "$web" || ! alive "$worker"; then
  alive "$web" || echo "The console (web server) did not start: see its messages above." >&2
  alive "$worker" || echo "The worker did not start: see its messages above." >&2
  exit 1  # the EXIT trap stops the one still running
fi

if [ -n "${EMAIL_URL:-}${DJANGO_EMAIL_BACKEND:-}" ]; then
  mail="Mail it sends:           by EMAIL_URL / DJANGO_EMAIL_BACKEND"
else
  mail="Mail it sent (outbox):   http://$HOST:$PORT/local/outbox/ (log in), one file a message in $VAR_DIR/mail/"
fi
case "${DJANGO_DEBUG:-}" in
  1|true|True|yes|on) debug="Django's debug pages (DJANGO_DEBUG is on)" ;;
  *) debug="the console's own (DJANGO_DEBUG=1 make run shows Django's debug pages)" ;;
esac

# The demo password again, where the operator looks once the worker's lines have pushed the
# seed's output away: `seed_demo` keeps the one it generated in a file only this user reads.
kept="$VAR_DIR/demo-password"
if [ -n "${DEMO_PASSWORD:-}" ]; then
  password="the value of DEMO_PASSWORD"
elif [ -r "$kept" ] && [ -s "$kept" ]; then
  password="$(head -n 1 "$kept")   (kept in $kept, readable by you only)"
else
  password="not kept here (the demo was seeded before, or with DEMO_PASSWORD); set a new one with
    DEMO_PASSWORD=<new password> $PY manage.py seed_demo"
fi

cat <<MSG

  PG Console is running:   http://$HOST:$PORT/
  Django admin (staff):    http://$HOST:$PORT/admin/
  $mail
  Error pages:             $debug

  Demo password:           $password
  Demo logins:
    owner@demo.test  admin@demo.test  manager@demo.test  developer@demo.test  viewer@demo.test
    tier-manager@demo.test (manager of the sub-merchant "Demo Store Seoul")
    staff@demo.test (platform staff, Django admin)

  Press Ctrl-C to stop the console and the worker.

MSG
# Until the console ends: then stop the worker and fail. A worker that ends (killed, a
# crash) is started again and the console stays up; one that keeps dying at once is
# started again every 5 seconds, not in a tight loop. Polled rather than `wait -n`: a job
# that ended just before `wait -n` began may not wake it.
set +e
while alive "$web"; do
  if ! alive "$worker"; then
    wait "$worker"
    status=$?
    echo "The worker stopped unexpectedly (exit $status); starting it again." >&2
    stop_leftovers
    [ $((SECONDS - worker_started)) -ge 10 ] || sleep 5
    alive "$web" && start_worker
  fi
  sleep 0.5
done
wait "$web"
status=$?
set -e
echo "The console (web server) stopped unexpectedly (exit $status)." >&2
[ "$status" -ne 0 ] || status=1
exit "$status"
