#!/bin/bash
# Runs `make check` of this checkout's HEAD on a bare Debian 12: a minbase
# debootstrap with only make, gcc and git added, as root, as CI and a new
# user would. Everything else must come from tests/scripts/install-deps.sh.
#
#   tests/scripts/bare-debian-check.sh [DIR]     (default /var/tmp/cs-bare)
#
# Needs root, debootstrap and a reachable Debian mirror (MIRROR, default
# deb.debian.org). Takes 10-20 minutes. DIR is created when missing and
# reused (with its first debootstrap) when present; the checkout is cloned
# anew into DIR/src each time, so only committed files are tested.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-/var/tmp/cs-bare}
mirror=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || {
	echo "bare-debian-check: run as root" >&2
	exit 2
}
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
if [ ! -x "$dir/usr/bin/apt-get" ]; then
	echo "bare-debian-check: debootstrap --variant=minbase bookworm $dir"
	debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 || {
		tail -5 "$dir.debootstrap.log" >&2
		exit 1
	}
fi

mounts=""
mnt() { # type|bind source target
	mkdir -p "$dir$3"
	if [ "$1" = bind ]; then
		# recursive (pts, shm come along), and slave: nothing mounted in
		# the chroot propagates back
		mount --rbind "$2" "$dir$3"
		mount --make-rslave "$dir$3"
	else
		mount -t "$1" "$2" "$dir$3"
	fi
	mounts="$dir$3 $mounts"
}
cleanup() {
	for m in $mounts; do umount -R -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mnt proc proc /proc
mnt sysfs sys /sys
mnt bind /dev /dev
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true

rm -rf "$dir/src"
git clone -q "$root" "$dir/src"
chroot "$dir" /bin/bash -c '
	set -e
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends make gcc git >/dev/null
	echo "bare-debian-check: $(dpkg -l | grep -c "^ii") packages before make check"
	cd /src && CI=true make check
'
