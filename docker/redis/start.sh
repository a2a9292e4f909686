#!/bin/busybox sh
# shellcheck shell=dash
# Starts redis-server with one ACL user per service that uses Redis, passwords from the
# environment. The ACL file goes to /tmp (tmpfs) so no password appears in argv or on disk.
# Each user may touch only its own key prefixes, with only the commands its code runs (Lua
# scripts included: Redis checks every redis.call against the caller's ACL). The gateway,
# log-streamer and image-builder never touch Redis, so they have no user; the default user may
# only PING (the health check).
set -eu
umask 077
acl="${REDIS_ACL_FILE:-/tmp/users.acl}"
# Every client: the connection setup ioredis does (ready check INFO, CLIENT SETNAME) and QUIT.
base='resetchannels -@all +ping +info +client|setname +quit'
# pool-manager: workspace state per host (Lua scripts), tickets, seed-cache locks.
pm_keys='~berth:host:* ~berth:ticket:* ~berth:seed-lock:*'
pm_cmds='+get +set +del +getdel +incr +pexpire +hget +hset +hsetnx +hdel +hgetall +hexists +hincrby +hmget +exists'
pm_cmds="$pm_cmds +sadd +srem +smembers +zadd +zrem +zrange +zrevrange +zremrangebyrank +zscore +rpush +lpop +lrem +multi +exec +discard +eval +evalsha"
{
  echo 'user default on nopass resetkeys resetchannels -@all +ping'
  echo "user pool-manager on >${REDIS_PASSWORD_POOL_MANAGER:?} resetkeys $pm_keys $base $pm_cmds"
  # repo-cache: per-repository fetch locks with fencing tokens.
  echo "user repo-cache on >${REDIS_PASSWORD_REPO_CACHE:?} resetkeys ~berth:repo-cache:* $base +get +set +del +incr +pexpire +eval +evalsha"
  # egress: sealed callback registrations with a TTL; LLM key hashes, limits and usage (Lua scripts).
  eg_cmds='+get +set +del +hget +hset +hmget +hgetall +hincrby +sadd +srem +smembers +exists +expire +persist +time +eval +evalsha'
  echo "user egress on >${REDIS_PASSWORD_EGRESS:?} resetkeys ~berth:cb:* ~berth:llm:* $base $eg_cmds"
} >"$acl"
exec redis-server --aclfile "$acl" --protected-mode no "$@"
