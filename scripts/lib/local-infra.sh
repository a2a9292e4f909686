# shellcheck shell=bash
# Local NATS (JetStream) and Redis as host processes on 127.0.0.1, plus the small process
# helpers scripts/up and scripts/down share. Source scripts/lib/env.sh first (BERTH_ROOT).
# Both run with the compose stack's generated users and ACLs (docker/nats/authorization.conf,
# docker/redis/start.sh) and the passwords of .env, exported by the caller: no anonymous client.
# State lives in .berth/ (BERTH_STATE): nats/ and redis/ data, nats.conf, run/<name>.pid,
# logs/<name>.log. A pid file holds "PID STARTTIME" so a pid reused after a reboot is never mistaken for ours.

BERTH_STATE="${BERTH_STATE:-$BERTH_ROOT/.berth}"
BERTH_RUN="$BERTH_STATE/run"
BERTH_LOGS="$BERTH_STATE/logs"
INFRA_STARTED=()   # names the start functions below actually started in this shell

infra_log() { printf '[infra] %s\n' "$*"; }

# Start time of a pid (field 22 of /proc/PID/stat); fails if it is gone or a zombie.
berth_starttime() {
  local stat f
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -ra f <<<"${stat##*) }"
  [ "${f[0]}" != Z ] || return 1
  printf '%s\n' "${f[19]}"
}

# Prints the pid of <name> and succeeds when its pid file names a live process.
berth_running() {
  local pidfile="$BERTH_RUN/$1.pid" pid start
  [ -s "$pidfile" ] || return 1
  read -r pid start <"$pidfile" || true
  [ -n "$pid" ] && [ "$(berth_starttime "$pid")" = "$start" ] || return 1
  printf '%s\n' "$pid"
}

# berth_spawn <name> <command...>: run in its own session (Ctrl-C does not reach it), log to
# .berth/logs/<name>.log (the previous run's log becomes <name>.log.prev), record the pid.
# Logs are the owner's alone (dir 0700, files 0600), also those an older berth left world-readable.
berth_spawn() {
  local name="$1" log="$BERTH_LOGS/$1.log"; shift
  mkdir -p "$BERTH_RUN" "$BERTH_LOGS"
  chmod 700 "$BERTH_LOGS"
  if [ -f "$log" ]; then mv -f "$log" "$log.prev"; chmod 600 "$log.prev"; fi
  (umask 077; printf -- '--- %s start: %s\n' "$(date -Is)" "$*" >"$log")
  chmod 600 "$log"
  setsid "$@" </dev/null >>"$log" 2>&1 &
  printf '%s %s\n' "$!" "$(berth_starttime "$!" || echo gone)" >"$BERTH_RUN/$name.pid"
}

# berth_stop <name> [timeout_s]: SIGTERM, wait, then SIGKILL; removes the pid file.
berth_stop() {
  local name="$1" timeout="${2:-10}" pid i
  if pid="$(berth_running "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 5; i++)); do
      berth_running "$name" >/dev/null || break
      sleep 0.2
    done
    if berth_running "$name" >/dev/null; then
      infra_log "$name (pid $pid) ignored SIGTERM for ${timeout}s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    else
      infra_log "stopped $name (pid $pid)"
    fi
  fi
  rm -f "$BERTH_RUN/$name.pid"
}

berth_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

berth_log_tail() {
  infra_log "last ${2:-20} lines of .berth/logs/$1.log:"
  tail -n "${2:-20}" "$BERTH_LOGS/$1.log" 2>/dev/null | sed 's/^/    /' || true
}

# berth_wait_port <name> <port> [timeout_s]: until the port answers or the process dies.
berth_wait_port() {
  local name="$1" port="$2" timeout="${3:-15}" i
  for ((i = 0; i < timeout * 10; i++)); do
    berth_port_open "$port" && return 0
    if ! berth_running "$name" >/dev/null; then
      infra_log "$name exited during start-up"; berth_log_tail "$name"; return 1
    fi
    sleep 0.1
  done
  infra_log "$name did not open 127.0.0.1:$port in ${timeout}s"; berth_log_tail "$name"; return 1
}

# 0: start <name> here; 1: a usable server is already there (ours, or with a warning not ours);
# 2: ours is running but not on the requested port.
infra_should_start() {
  local name="$1" port="$2" pid
  if pid="$(berth_running "$name")"; then
    berth_port_open "$port" || { infra_log "$name (pid $pid) is running but not on port $port; run scripts/down"; return 2; }
    infra_log "$name already running (pid $pid, 127.0.0.1:$port)"; return 1
  fi
  if berth_port_open "$port"; then
    infra_log "warning: 127.0.0.1:$port is in use by a process berth did not start; using it as $name"
    return 1
  fi
}

# The dev stack's users (docker/nats/authorization.conf, `pnpm nats-config`), included, not
# copied; nats-server reads their passwords from NATS_PASSWORD_<SERVICE> in its environment and
# resolves an include relative to the including file. With NATS_SUBSCRIBERS_FILE (a JSON list of
# subscribers, docs/events.md), the same users plus those subscribers are generated into
# .berth/nats-auth/ at each start instead; a file with an error stops the start.
infra_nats_auth_file() {
  if [ -z "${NATS_SUBSCRIBERS_FILE:-}" ]; then
    printf '%s\n' "$BERTH_ROOT/docker/nats/authorization.conf"; return
  fi
  local file dir="$BERTH_STATE/nats-auth"
  file="$(cd "$BERTH_ROOT" && realpath -e -- "$NATS_SUBSCRIBERS_FILE")" || { infra_log "NATS_SUBSCRIBERS_FILE $NATS_SUBSCRIBERS_FILE does not exist" >&2; return 1; }
  mkdir -p "$dir"
  chmod 700 "$dir"
  (cd "$BERTH_ROOT/packages/contracts" && node --import tsx scripts/write-nats-config.ts "$dir" "--subscribers=$file") >/dev/null || return 1
  printf '%s\n' "$dir/authorization.conf"
}

infra_write_nats_conf() {
  local auth
  auth="$(infra_nats_auth_file)" || return 1
  auth="$(realpath --relative-to="$BERTH_STATE" "$auth")"
  cat >"$BERTH_STATE/nats.conf" <<EOF
# Written by scripts/lib/local-infra.sh at each start.
listen: "127.0.0.1:$1"
http: "127.0.0.1:$2"
jetstream { store_dir: "$BERTH_STATE/nats" }
include "$auth"
EOF
}

infra_start_nats() {
  local port="${NATS_PORT:-4222}" monitor="${NATS_MONITOR_PORT:-8222}"
  infra_should_start nats "$port" || { [ $? = 1 ] && return 0; return 1; }
  mkdir -p "$BERTH_STATE/nats"
  infra_write_nats_conf "$port" "$monitor" || return 1
  berth_spawn nats nats-server -c "$BERTH_STATE/nats.conf"
  berth_wait_port nats "$port" || return 1
  INFRA_STARTED+=(nats)
  infra_log "nats-server on 127.0.0.1:$port (JetStream, service users of docker/nats/authorization.conf${NATS_SUBSCRIBERS_FILE:+ and the subscribers of $NATS_SUBSCRIBERS_FILE}, monitor 127.0.0.1:$monitor)"
}

infra_start_redis() {
  local port="${REDIS_PORT:-6379}"
  infra_should_start redis "$port" || { [ $? = 1 ] && return 0; return 1; }
  mkdir -p "$BERTH_STATE/redis" "$BERTH_STATE/redis-acl"
  chmod 700 "$BERTH_STATE/redis-acl"
  # The compose stack's start script: one ACL user per service, its password from the environment.
  REDIS_ACL_FILE="$BERTH_STATE/redis-acl/users.acl" berth_spawn redis sh "$BERTH_ROOT/docker/redis/start.sh" \
    --bind 127.0.0.1 --port "$port" --appendonly yes --dir "$BERTH_STATE/redis" --daemonize no
  berth_wait_port redis "$port" || return 1
  INFRA_STARTED+=(redis)
  infra_log "redis-server on 127.0.0.1:$port (ACL users of docker/redis/start.sh, appendonly, data in .berth/redis)"
}

infra_start() { infra_start_nats && infra_start_redis; }
infra_stop() { berth_stop redis; berth_stop nats; }
