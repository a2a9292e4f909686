# shellcheck shell=sh
# The services' HEALTHCHECK: GET /health on the port the service's own config reads (or $1), with
# busybox's sh and nc. Not node: a probe every few seconds that starts a Node process costs an idle
# service tens of milliseconds of CPU each time, which was most of its idle CPU.
# Run as `busybox sh healthcheck.sh [port]`; exits 0 only on an HTTP 200.
port="${1:-}"
if [ -z "$port" ]; then
  case "${BERTH_SERVICE:-}" in
    gateway) port="${BERTH_PORT:-8080}" ;;
    log-streamer) port="${LOG_STREAMER_HEALTH_PORT:-9102}" ;;
    repo-cache) port="${REPO_CACHE_HEALTH_PORT:-9103}" ;;
    image-builder) port="${IMAGE_BUILDER_HEALTH_PORT:-9104}" ;;
    egress) port="${EGRESS_HEALTH_PORT:-9105}" ;;
    *) port="${HEALTH_PORT:-9101}" ;;
  esac
fi
# nc runs the probe on the connected socket (-e: its stdin and stdout are the socket, its exit status
# is nc's): piping a request into nc does not work, since busybox nc quits when its stdin ends,
# before the answer arrives.
# shellcheck disable=SC2016 # expanded by the probe's own shell
probe='printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"; IFS= read -r line; case "$line" in "HTTP/1."[01]" 200 "*) exit 0 ;; esac; exit 1'
exec busybox timeout 3 busybox nc 127.0.0.1 "$port" -e busybox sh -c "$probe" 2>/dev/null
