/**
 * The privileged part of disk limits (docs/limits.md), as one POSIX shell script run as root:
 * `create <dir> <id> <mb>` reserves <mb> MiB on the host (fallocate: refused with ENOSPC when the
 * host lacks the room, never overcommitted), makes an ext4 filesystem owned by the workspace user
 * with no lost+found (so Docker still copies the image's /workspace into it), attaches it to a
 * free loop device and prints the device; `remove <dir> <id>` detaches every loop device backed by
 * the image and deletes it; `list <dir>` prints the ids that have an image. Arguments are checked
 * by the caller (disk-images.ts) and again here.
 */
export const DISK_SCRIPT = `
set -eu
cmd=$1; dir=$2
case "$dir" in /*) ;; *) echo "disk dir must be absolute" >&2; exit 2 ;; esac
case $cmd in
list)
  for f in "$dir"/*.img; do [ -e "$f" ] || continue; f=\${f##*/}; echo "\${f%.img}"; done
  exit 0 ;;
esac
id=$3
case "$id" in *[!A-Za-z0-9_-]*|-*|'') echo "bad workspace id" >&2; exit 2 ;; esac
img="$dir/$id.img"
detach() { for dev in $(losetup -n -O NAME -j "$img" 2>/dev/null); do losetup -d "$dev"; done; }
case $cmd in
create)
  mb=$4
  case "$mb" in *[!0-9]*|'') echo "bad size" >&2; exit 2 ;; esac
  mkdir -p -m 0700 "$dir"
  detach; rm -f "$img"
  trap 'rm -f "$img"' EXIT
  fallocate -l "\${mb}M" "$img"
  chmod 0600 "$img"
  mkfs.ext4 -q -F -m 0 -E nodiscard,root_owner=1000:1000,lazy_itable_init=0,lazy_journal_init=0 "$img"
  debugfs -w -R 'rmdir lost+found' "$img" >/dev/null 2>&1
  # mke2fs punches holes where it writes zeros (not lazily: the kernel's lazy init would punch them
  # later through the loop device): allocate them again, so the whole size is reserved up front.
  fallocate -l "\${mb}M" "$img"
  dev=$(losetup -f --show "$img")
  trap - EXIT
  echo "$dev" ;;
remove)
  detach; rm -f "$img" ;;
*) echo "unknown command" >&2; exit 2 ;;
esac
`;
