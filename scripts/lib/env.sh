# shellcheck shell=bash
# Source me: puts berth's pinned Node (.node-version) and nats-server first on PATH and sets what
# Docker builds and tests need here.
BERTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/node.sh
. "$BERTH_ROOT/scripts/lib/node.sh"
# shellcheck source=scripts/lib/nats-server.sh
. "$BERTH_ROOT/scripts/lib/nats-server.sh"
berth_path_first() {
  case ":$PATH:" in
    ":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}
berth_path_first "$BERTH_NATS_DIR"
berth_path_first "$BERTH_NODE_PREFIX/bin"
export BERTH_ROOT BERTH_NATS_VERSION BERTH_NATS_DIR PATH
export DOCKER_BUILDKIT=0
export TESTCONTAINERS_RYUK_DISABLED=true
