# shellcheck shell=bash
# Source me: puts berth's Node 22 first on PATH and sets what Docker builds and tests need here.
BERTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BERTH_NODE_PREFIX="${BERTH_NODE_PREFIX:-/opt/node22}"
case ":$PATH:" in
  ":$BERTH_NODE_PREFIX/bin:"*) ;;
  *) PATH="$BERTH_NODE_PREFIX/bin:$PATH" ;;
esac
export BERTH_ROOT BERTH_NODE_PREFIX PATH
export DOCKER_BUILDKIT=0
export TESTCONTAINERS_RYUK_DISABLED=true
