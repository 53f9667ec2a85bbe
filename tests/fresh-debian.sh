#!/bin/sh
# SPDX-License-Identifier: LGPL-3.0-or-later
#
# Runs the README's two set-up commands as a new user would, in a fresh
# Debian 12 root, on a clone of this repository's committed HEAD, and prints
# each one's exit status and wall time.  The commands are read from the
# clone's README.md (its two ```sh setup blocks), so what runs is exactly what
# the README gives.
#
# Usage, as root on a Debian host with debootstrap:
#
#   tests/fresh-debian.sh DIR
#       makes the root with `debootstrap --variant=minbase bookworm DIR`;
#   tests/fresh-debian.sh DIR ROOT.tgz
#       unpacks a root made that way earlier, saved as a tarball of one
#       top folder (`tar -C DIR --strip-components=1 -xzf ROOT.tgz`), which
#       saves the few minutes debootstrap takes.
#
# DIR must not exist yet, or be empty.  The script then copies the host's
# apt sources (/etc/apt/sources.list.d/debian.sources, /etc/apt/sources.list)
# and /etc/resolv.conf into it, bind-mounts /proc, /sys, /dev and /dev/pts,
# installs git, ca-certificates and sudo, clones HEAD (through a git bundle:
# uncommitted changes are not tested) into /root/gegl-seg, and runs each
# command there with bash, as root, in a clean environment, its output also
# kept in DIR/root/setup-N.log.  The mounts are undone on exit, however the
# script ends; DIR is left for inspection (remove it with rm -rf).  The exit
# status is 0 when both commands succeeded.
set -eu

usage () {
  echo "usage: $0 DIR [ROOT.tgz]" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
[ "$(id -u)" = 0 ] || { echo "$0: must run as root (chroot, mount)" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
tarball=${2:-}

if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
  echo "$0: $dir is not empty" >&2
  exit 2
fi
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "$0: note: uncommitted changes in $repo are not tested, only HEAD" >&2
fi

mounted=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup () {
  for m in $mounted; do
    umount "$dir/$m" 2>/dev/null || umount -l "$dir/$m"
  done
  mounted=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ -n "$tarball" ]; then
  echo "== unpacking $tarball"
  tar -C "$dir" --strip-components=1 -xzf "$tarball"
else
  echo "== debootstrap --variant=minbase bookworm $dir"
  debootstrap --variant=minbase bookworm "$dir"
fi

echo "== apt sources, resolv.conf and mounts from the host"
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list \
         /etc/resolv.conf; do
  if [ -f "$f" ]; then
    cp "$f" "$dir$f"
  fi
done
# Listed innermost first, the order they are unmounted in.
for m in proc sys dev dev/pts; do
  mount --bind "/$m" "$dir/$m"
  mounted="$m $mounted"
done

# A root shell's environment, not this one's.
in_root () {
  chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

echo "== git, ca-certificates, sudo"
in_root sh -c 'apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git ca-certificates sudo >/dev/null'

echo "== clone of HEAD ($(git -C "$repo" rev-parse --short HEAD))"
git -C "$repo" bundle create --quiet "$dir/root/gegl-seg.bundle" HEAD
in_root git -c advice.detachedHead=false clone -q /root/gegl-seg.bundle \
  /root/gegl-seg

# The README's ```sh setup blocks, one file each: setup-1.sh, setup-2.sh.
awk -v out="$dir/root/setup-" '
  /^```sh setup[ \t]*$/ { n++; inside = 1; next }
  inside && /^```[ \t]*$/ { inside = 0; next }
  inside { print > (out n ".sh") }
  END { print n + 0 }' "$dir/root/gegl-seg/README.md" > "$dir/root/setup-count"
count=$(cat "$dir/root/setup-count")
if [ "$count" != 2 ]; then
  echo "$0: README.md has $count sh setup blocks, not 2" >&2
  exit 1
fi

results=
failed=0
for n in 1 2; do
  echo
  echo "== README set-up command $n:"
  sed 's/^/   /' "$dir/root/setup-$n.sh"
  start=$(date +%s)
  # stdin from /dev/null: a question would get its default, not hang.
  { status=0
    in_root bash -c 'cd /root/gegl-seg && bash /root/setup-'"$n"'.sh' \
      </dev/null 2>&1 || status=$?
    echo "$status" > "$dir/root/setup-$n.status"; } |
    tee "$dir/root/setup-$n.log"
  seconds=$(($(date +%s) - start))
  status=$(cat "$dir/root/setup-$n.status")
  [ "$status" = 0 ] || failed=1
  results="$results  command $n: exit status $status, $seconds s wall time
"
done

echo
echo "== results (logs in $dir/root/setup-1.log and setup-2.log)"
printf '%s' "$results"
exit "$failed"
