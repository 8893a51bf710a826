# Helpers for the package tests: a fresh Debian 12 root (minbase) made once
# with mmdebstrap from the host's configured mirror, cached as a tarball, and
# unpacked into a new folder for each run.  Sourced by run.sh and
# measure-deps.sh; run as root.
#
#   FRESH_ROOT_CACHE   where the tarball is kept (/var/cache/sip2rtmp-pkgtest)

cache=${FRESH_ROOT_CACHE:-/var/cache/sip2rtmp-pkgtest}
tarball=$cache/bookworm-minbase.tar

# The host's sources (deb822 or one-line) and its apt settings for them
# (e.g. Check-Valid-Until on a snapshot mirror) go into the root as they are.
host_sources() {
  if [ -s /etc/apt/sources.list.d/debian.sources ]; then
    echo /etc/apt/sources.list.d/debian.sources
  else
    echo /etc/apt/sources.list
  fi
}

fresh_root_tarball() {
  if [ -s "$tarball" ]; then
    return 0
  fi
  command -v mmdebstrap >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends mmdebstrap >/dev/null
  }
  mkdir -p "$cache"
  mmdebstrap --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
    --aptopt='Acquire::Languages "none"' bookworm "$tarball.tmp" "$(host_sources)"
  mv "$tarball.tmp" "$tarball"
}

# fresh_root DIR: a new root in DIR, /proc, /sys and /dev mounted, the host's
# name servers; undo with fresh_root_remove DIR
fresh_root() {
  local root=$1
  fresh_root_tarball
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  fresh_root_mount "$root"
}

fresh_root_mount() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
  mkdir -p "$root/run/lock"
}

fresh_root_remove() {
  local root=$1
  [ -d "$root" ] || return 0
  umount -R "$root/dev" 2>/dev/null || true
  umount "$root/sys" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
  if mountpoint -q "$root/proc" || mountpoint -q "$root/dev"; then
    echo "fresh-root: $root still has mounts, not removed" >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
}

# installed package count of a root
installed_count() {
  chroot "$1" dpkg-query -W -f='${db:Status-Abbrev}\n' | grep -c '^ii'
}
