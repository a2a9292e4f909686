# shellcheck shell=sh
# The dev stack's service command (docker-compose.dev.yml), run by busybox sh under tini:
#   busybox sh docker/dev/run.sh services/<name>/src/main.ts
# Runs the service through docker/dev/runner.ts, and starts it again at once when it stopped for a
# source change (it lists the changed files in $BERTH_DEV_RESTART_FILE, for warm.ts). Any other exit ends the container with the
# service's status, for Docker's restart policy; SIGTERM and SIGINT go to the service.
BERTH_DEV_RESTART_FILE=/tmp/berth-dev-restart
export BERTH_DEV_RESTART_FILE
# Parameter properties (`constructor(private x)`) need the transform mode, not only type stripping.
typescript='--import ./docker/dev/resolve-ts.ts --experimental-transform-types --disable-warning=ExperimentalWarning'
# A young generation of 2 MB instead of 16: ~20 MB less memory for an idle service, a few more
# scavenges under load (dev only).
memory='--max-semi-space-size=2'
stopping=
child=
trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  # shellcheck disable=SC2086 # one word per flag
  node $typescript docker/dev/warm.ts "$1" "$BERTH_DEV_RESTART_FILE"
  rm -f "$BERTH_DEV_RESTART_FILE"
  # shellcheck disable=SC2086
  node $typescript $memory docker/dev/runner.ts "$@" &
  child=$!
  status=0
  wait "$child" || status=$?
  # A trapped signal interrupts `wait` while the service is still stopping: wait for it to finish.
  while kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  if [ -n "$stopping" ] || [ ! -f "$BERTH_DEV_RESTART_FILE" ]; then exit "$status"; fi
done
