#!/usr/bin/env bash
# Runs the console (Django's development server) and a Celery worker with an
# embedded beat, prints where to go, and stops both cleanly on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
mkdir -p var

"$PY" -m celery -A config worker --beat --schedule var/celerybeat-schedule \
  --loglevel INFO --concurrency 4 --hostname "${WORKER_NAME:-worker.local}@%h" &
worker=$!
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
web=$!

stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the console and the worker..."
  kill -TERM "$web" "$worker" 2>/dev/null || true
  wait "$web" "$worker" 2>/dev/null || true
  echo "Stopped."
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

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

cat <<MSG

  PG Console is running:   http://$HOST:$PORT/
  Django admin (staff):    http://$HOST:$PORT/admin/

  Demo logins (password: DEMO_PASSWORD if you set it, else the one printed when the demo was seeded):
    owner@demo.test  admin@demo.test  manager@demo.test  developer@demo.test  viewer@demo.test
    tier-manager@demo.test (manager of the sub-merchant "Demo Store Seoul")
    staff@demo.test (platform staff, Django admin)

  Press Ctrl-C to stop the console and the worker.

MSG
# If either process ends, stop the other and fail: one without the other is no console.
set +e
wait -n "$web" "$worker"
status=$?
set -e
alive "$web" || echo "The console (web server) stopped unexpectedly (exit $status)." >&2
alive "$worker" || echo "The worker stopped unexpectedly (exit $status)." >&2
[ "$status" -ne 0 ] || status=1
exit "$status"
