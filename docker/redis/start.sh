#!/bin/busybox sh
# Starts redis-server with one ACL user per service that uses Redis, passwords from the
# environment. The ACL file goes to /tmp (tmpfs) so no password appears in argv or on disk.
# The gateway never touches Redis, so it has no user; the default user may only PING
# (the health check).
set -eu
umask 077
acl=/tmp/users.acl
{
  echo 'user default on nopass resetchannels -@all +ping'
  echo "user pool-manager on >${REDIS_PASSWORD_POOL_MANAGER:?} resetkeys ~berth:* resetchannels -@all +@read +@write +@scripting +@transaction +@connection -@dangerous +info"
} >"$acl"
exec redis-server --aclfile "$acl" --protected-mode no "$@"
