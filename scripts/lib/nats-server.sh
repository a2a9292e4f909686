# shellcheck shell=bash
# The pinned nats-server. Debian bookworm's 2.9.10 is too old (no multi-filter consumers), so
# scripts/bootstrap unpacks Debian 13 (trixie)'s package into /opt/berth-nats/<version>/; env.sh
# puts that directory first on PATH and the test harnesses (@berth/service-kit/testing) run it.
# Debian's own /usr/sbin/nats-server is never touched. The version is scripts/lib/nats-version.
# Source scripts/lib/env.sh (BERTH_ROOT) first.

BERTH_NATS_VERSION="$(tr -d '[:space:]' <"$BERTH_ROOT/scripts/lib/nats-version")"
BERTH_NATS_DIR="${BERTH_NATS_PREFIX:-/opt/berth-nats}/$BERTH_NATS_VERSION"

# Succeeds when <binary> prints exactly the pinned version.
berth_nats_is_pinned() {
  [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "nats-server: v$BERTH_NATS_VERSION" ]
}

# Downloads trixie's nats-server with an apt source list, lists and cache of its own (the
# system's apt sources are left as they are) from the same Debian mirror the system uses, checks
# its version and installs the binary into $BERTH_NATS_DIR. Idempotent.
berth_nats_install() {
  local bin="$BERTH_NATS_DIR/nats-server" tmp uri deb got
  if berth_nats_is_pinned "$bin"; then printf '[nats] nats-server v%s (%s)\n' "$BERTH_NATS_VERSION" "$bin"; return; fi
  printf '[nats] installing nats-server v%s from Debian trixie into %s\n' "$BERTH_NATS_VERSION" "$BERTH_NATS_DIR"
  uri="$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" && $2 ~ /^https?:/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$uri" ] || { echo "[nats] no Debian mirror found in /etc/apt/sources.list(.d)" >&2; return 1; }
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" >"$tmp/trixie.sources"
  local apt=(apt-get -qq -o "Dir::Etc::SourceList=$tmp/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
  if ! (cd "$tmp" && "${apt[@]}" update && "${apt[@]}" download nats-server); then
    rm -rf "$tmp"; echo "[nats] could not download nats-server from $uri trixie" >&2; return 1
  fi
  deb="$(ls "$tmp"/nats-server_*.deb)"
  dpkg-deb -x "$deb" "$tmp/x"
  if ! berth_nats_is_pinned "$tmp/x/usr/sbin/nats-server"; then
    got="$("$tmp/x/usr/sbin/nats-server" --version 2>&1 || true)"
    rm -rf "$tmp"
    echo "[nats] trixie offers $(basename "$deb") ($got), not the pinned v$BERTH_NATS_VERSION: update scripts/lib/nats-version" >&2
    return 1
  fi
  mkdir -p "$BERTH_NATS_DIR"
  install -m 0755 "$tmp/x/usr/sbin/nats-server" "$BERTH_NATS_DIR/nats-server.new"
  mv -f "$BERTH_NATS_DIR/nats-server.new" "$bin"
  rm -rf "$tmp"
  printf '[nats] installed %s\n' "$("$bin" --version)"
}
