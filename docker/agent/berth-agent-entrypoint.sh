#!/bin/sh
# The workspace image's entrypoint (under tini): the container's command stays the main process, and
# the berth agent runs beside it, restarted if it dies (say, the OOM killer chose it). The agent
# exits 0 when there is no socket directory to serve (no pool-manager mount): then it stays down.
# Started in a subshell that exits at once, so the loop belongs to tini, which reaps it.
( (until node /opt/berth/berth-agent.mjs </dev/null; do sleep 1; done) & )
exec "$@"
