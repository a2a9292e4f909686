#!/usr/bin/env bash
# Builds berth's local base images without any registry. Idempotent: an image that
# already exists is kept unless BERTH_REBUILD_IMAGES=1. Every name is overridable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BERTH_ROOT="${BERTH_ROOT:-$(dirname "$here")}"
# The pinned Node major (.node-version): NODE_BIN must run it; the Node images are named after it.
# shellcheck source=scripts/lib/node.sh
. "$BERTH_ROOT/scripts/lib/node.sh"
BASE_IMAGE="${BASE_IMAGE:-berth/base:bookworm}"
NODE_IMAGE="${NODE_IMAGE:-$BERTH_NODE_IMAGE}"
WORKSPACE_IMAGE="${WORKSPACE_IMAGE:-berth/workspace:latest}"
BUSYBOX_IMAGE="${BUSYBOX_IMAGE:-berth/busybox:latest}"
RUNTIME_IMAGE="${RUNTIME_IMAGE:-$BERTH_RUNTIME_IMAGE}"
RUNTIME_GIT_IMAGE="${RUNTIME_GIT_IMAGE:-$BERTH_RUNTIME_GIT_IMAGE}"
NATS_IMAGE="${NATS_IMAGE:-berth/nats:2.10}"
# The pinned nats-server scripts/bootstrap installs (scripts/lib/nats-server.sh), not bookworm's 2.9.
# shellcheck source=scripts/lib/nats-server.sh
. "$BERTH_ROOT/scripts/lib/nats-server.sh"
NATS_SERVER_BIN="${NATS_SERVER_BIN:-$BERTH_NATS_DIR/nats-server}"
REDIS_IMAGE="${REDIS_IMAGE:-berth/redis:7}"
NODE_BIN="${NODE_BIN:-$(command -v node)}"
# npm (and corepack) for workspaces: `npm ci` of a repository's lockfile runs inside them.
NPM_DIR="${NPM_DIR:-$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")}"
COREPACK_DIR="${COREPACK_DIR:-$(dirname "$NPM_DIR")/corepack}"
export DOCKER_BUILDKIT=0

have() { [ "${BERTH_REBUILD_IMAGES:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
log() { printf '[base-images] %s\n' "$*"; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

if have "$BASE_IMAGE"; then log "$BASE_IMAGE present"; else
  log "building $BASE_IMAGE with mmdebstrap"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,git,tini,procps \
    bookworm "$tmp/rootfs.tar"
  docker import "$tmp/rootfs.tar" "$BASE_IMAGE" >/dev/null
fi

if have "$BUSYBOX_IMAGE"; then log "$BUSYBOX_IMAGE present"; else
  log "building $BUSYBOX_IMAGE"
  mkdir -p "$tmp/bb/bin"; cp /bin/busybox "$tmp/bb/bin/busybox"
  for a in sh ls cat echo sleep nc true env id; do ln -sf busybox "$tmp/bb/bin/$a"; done
  tar -C "$tmp/bb" -c . | docker import -c 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
fi

node_version="$("$NODE_BIN" -v)"
berth_node_is_pinned "$NODE_BIN" || { echo "NODE_BIN must be Node $BERTH_NODE_MAJOR (.node-version), got $node_version" >&2; exit 1; }
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { echo "NPM_DIR must hold npm (bin/npm-cli.js), got $NPM_DIR" >&2; exit 1; }
npm_version="$(node -p "require('$NPM_DIR/package.json').version")"
label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }
if have "$NODE_IMAGE" && [ "$(label "$NODE_IMAGE" berth.node)" = "$node_version" ] && [ "$(label "$NODE_IMAGE" berth.npm)" = "$npm_version" ]; then
  log "$NODE_IMAGE present ($node_version, npm $npm_version)"
else
  log "building $NODE_IMAGE ($node_version, npm $npm_version)"
  mkdir -p "$tmp/node-ctx"
  cp "$NODE_BIN" "$tmp/node-ctx/node"
  cp -r "$NPM_DIR" "$tmp/node-ctx/npm"
  if [ -d "$COREPACK_DIR" ]; then cp -r "$COREPACK_DIR" "$tmp/node-ctx/corepack"; else mkdir -p "$tmp/node-ctx/corepack"; fi
  docker build -q -t "$NODE_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --label berth.node="$node_version" --label berth.npm="$npm_version" -f "$here/images/node.Dockerfile" "$tmp/node-ctx" >/dev/null
fi

# Rebuilt whenever the agent, the Dockerfile or the node image under it changes (their digest is the image's berth.agent label).
agent_files=("$here"/agent/*.mjs "$here/agent/berth-agent-entrypoint.sh")
agent_digest="$( (cat "${agent_files[@]}" "$here/images/workspace.Dockerfile"; docker image inspect -f '{{.Id}}' "$NODE_IMAGE") | sha256sum | cut -c1-16)"
if have "$WORKSPACE_IMAGE" && [ "$(docker image inspect -f '{{index .Config.Labels "berth.agent"}}' "$WORKSPACE_IMAGE")" = "$agent_digest" ]; then
  log "$WORKSPACE_IMAGE present (agent $agent_digest)"
else
  log "building $WORKSPACE_IMAGE (agent $agent_digest)"
  mkdir -p "$tmp/ws/agent"; cp "${agent_files[@]}" "$tmp/ws/agent/"
  docker build -q -t "$WORKSPACE_IMAGE" --build-arg NODE_IMAGE="$NODE_IMAGE" --label berth.agent="$agent_digest" \
    -f "$here/images/workspace.Dockerfile" "$tmp/ws" >/dev/null
fi
# slim_rootfs <dir> <packages>: Debian packages only unpacked (no dpkg, apt, shell or git), a CA
# bundle, a writable /tmp and the user berth (1001) that service containers run as.
slim_rootfs() {
  local dir="$1" pkgs="$2"
  mmdebstrap --quiet --variant=extract --include="$pkgs" bookworm "$dir"
  rm -rf "$dir"/usr/share/{doc,man,info,locale,lintian} "$dir"/var/cache/apt "$dir"/var/lib/apt "$dir"/etc/apt
  mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/data"
  chmod 1777 "$dir/tmp"
  if [ -d "$dir/usr/share/ca-certificates" ]; then
    find "$dir/usr/share/ca-certificates" -name '*.crt' -exec cat {} + >"$dir/etc/ssl/certs/ca-certificates.crt"
  fi
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nberth:x:1001:1001:berth:/data:/usr/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nberth:x:1001:\n' >"$dir/etc/group"
  chown 1001:1001 "$dir/data"
}

# Service runtimes: the slim rootfs plus the Node binary (the full base with git is ~230 MB);
# the -git one adds git for repo-cache (without perl: fetch, clone and gc need none of it).
runtime_image() {
  local image="$1" pkgs="$2" dir="$tmp/$3"
  if have "$image" && [ "$(docker image inspect -f '{{index .Config.Labels "berth.node"}}' "$image")" = "$node_version" ]; then
    log "$image present ($node_version)"; return
  fi
  log "building $image ($node_version)"
  slim_rootfs "$dir" "$pkgs"
  rm -rf "$dir"/usr/share/perl "$dir"/usr/lib/x86_64-linux-gnu/perl "$dir"/usr/bin/perl* "$dir"/usr/lib/x86_64-linux-gnu/libperl* \
    "$dir"/usr/lib/x86_64-linux-gnu/libdb-* "$dir"/usr/bin/openssl "$dir"/usr/bin/scalar "$dir"/usr/bin/git-shell \
    "$dir"/usr/lib/git-core/{scalar,git-shell,git-daemon,git-http-backend,git-http-push,git-imap-send,git-gui*,mergetools}
  mkdir -p "$dir/usr/local/bin"; cp -L "$NODE_BIN" "$dir/usr/local/bin/node"
  strip "$dir/usr/local/bin/node"   # the npm build ships symbols: ~18 MB
  tar -C "$dir" -c . | docker import -c "LABEL berth.node=$node_version" \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production' -c 'CMD ["node"]' - "$image" >/dev/null
}
runtime_image "$RUNTIME_IMAGE" libc6,libstdc++6,libgcc-s1,tini,ca-certificates runtime
runtime_image "$RUNTIME_GIT_IMAGE" libc6,libstdc++6,libgcc-s1,tini,ca-certificates,git runtime-git

# NATS and Redis: a slim rootfs with a static busybox for health checks and start scripts. Redis
# is Debian's package; NATS is the pinned binary, its version the image's berth.nats label.
nats_version="$("$NATS_SERVER_BIN" --version 2>/dev/null)" || { echo "no nats-server at $NATS_SERVER_BIN: run scripts/bootstrap" >&2; exit 1; }
nats_version="${nats_version#nats-server: v}"
infra_image() {
  local image="$1" pkgs="$2" dir="$tmp/$3" nats_bin="${4:-}" labels=()
  if have "$image" && { [ -z "$nats_bin" ] || [ "$(docker image inspect -f '{{index .Config.Labels "berth.nats"}}' "$image")" = "$nats_version" ]; }; then
    log "$image present"; return
  fi
  log "building $image"
  slim_rootfs "$dir" "$pkgs"
  cp /bin/busybox "$dir/usr/bin/busybox"
  # Debian's redis-server package only adds this link (and init scripts) to redis-tools.
  if [ -e "$dir/usr/bin/redis-check-rdb" ]; then ln -sf redis-check-rdb "$dir/usr/bin/redis-server"; fi
  if [ -n "$nats_bin" ]; then
    mkdir -p "$dir/usr/sbin"; cp -L "$nats_bin" "$dir/usr/sbin/nats-server"; labels=(-c "LABEL berth.nats=$nats_version")
  fi
  tar -C "$dir" -c . | docker import "${labels[@]}" -c 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin' -c 'USER 1001:1001' \
    -c 'WORKDIR /data' - "$image" >/dev/null
}
infra_image "$NATS_IMAGE" libc6,tini nats "$NATS_SERVER_BIN"
infra_image "$REDIS_IMAGE" redis-tools,tini redis
log "done"
