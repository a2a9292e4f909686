#!/usr/bin/env bash
# Builds berth's local base images without any registry. Idempotent: an image that
# already exists is kept unless BERTH_REBUILD_IMAGES=1. Every name is overridable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BASE_IMAGE="${BASE_IMAGE:-berth/base:bookworm}"
NODE_IMAGE="${NODE_IMAGE:-berth/node:22}"
WORKSPACE_IMAGE="${WORKSPACE_IMAGE:-berth/workspace:latest}"
BUSYBOX_IMAGE="${BUSYBOX_IMAGE:-berth/busybox:latest}"
NODE_BIN="${NODE_BIN:-$(command -v node)}"
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
case "$node_version" in v22.*) ;; *) echo "NODE_BIN must be Node 22, got $node_version" >&2; exit 1;; esac
if have "$NODE_IMAGE" && [ "$(docker image inspect -f '{{index .Config.Labels "berth.node"}}' "$NODE_IMAGE")" = "$node_version" ]; then
  log "$NODE_IMAGE present ($node_version)"
else
  log "building $NODE_IMAGE ($node_version)"
  cp "$NODE_BIN" "$tmp/node"
  docker build -q -t "$NODE_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --label berth.node="$node_version" -f "$here/images/node.Dockerfile" "$tmp" >/dev/null
fi

if have "$WORKSPACE_IMAGE"; then log "$WORKSPACE_IMAGE present"; else
  log "building $WORKSPACE_IMAGE"
  docker build -q -t "$WORKSPACE_IMAGE" --build-arg NODE_IMAGE="$NODE_IMAGE" \
    -f "$here/images/workspace.Dockerfile" "$here/images" >/dev/null
fi
log "done"
