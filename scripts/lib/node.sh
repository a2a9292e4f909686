# shellcheck shell=bash
# berth's Node. Its major is pinned in one place, .node-version at the repository's root (the file
# nodenv, fnm, mise and actions/setup-node read too): scripts/bootstrap installs the latest release
# of that major from the npm registry into /opt/node<major>, env.sh puts it first on PATH, and the
# local images built with it are named after it. Source scripts/lib/env.sh (BERTH_ROOT) first.

BERTH_NODE_MAJOR="$(tr -d '[:space:]' <"$BERTH_ROOT/.node-version")"
case "$BERTH_NODE_MAJOR" in
  '' | *[!0-9]*) echo "$BERTH_ROOT/.node-version must hold a Node major (e.g. 24), not '$BERTH_NODE_MAJOR'" >&2; return 1 ;;
esac
BERTH_NODE_PREFIX="${BERTH_NODE_PREFIX:-/opt/node$BERTH_NODE_MAJOR}"
# Default names of the images docker/base-images.sh builds with that Node (NODE_IMAGE,
# RUNTIME_IMAGE and RUNTIME_GIT_IMAGE override them).
BERTH_NODE_IMAGE="berth/node:$BERTH_NODE_MAJOR"
BERTH_RUNTIME_IMAGE="berth/runtime:$BERTH_NODE_MAJOR"
BERTH_RUNTIME_GIT_IMAGE="berth/runtime-git:$BERTH_NODE_MAJOR"

# Succeeds when <node binary> runs the pinned major.
berth_node_is_pinned() {
  [ -x "$1" ] && case "$("$1" -v 2>/dev/null)" in "v$BERTH_NODE_MAJOR".*) true ;; *) false ;; esac
}
export BERTH_NODE_MAJOR BERTH_NODE_PREFIX BERTH_NODE_IMAGE BERTH_RUNTIME_IMAGE BERTH_RUNTIME_GIT_IMAGE
