#!/bin/sh
# Builds the Debian package with dpkg-deb alone (no debhelper, no source
# package): `make deb` runs it. Prints the path of the .deb.
#
#   packaging/deb/build.sh BUILD VERSION
#
# The binary is compiled anew in BUILD/deb/obj with dpkg-buildflags'
# hardening, `make install` stages the Debian layout (PREFIX=/usr,
# SYSCONFDIR=/etc, units in /lib/systemd/system as bookworm wants), then the
# Debian parts are added: stripped binary, compressed manual page, copyright
# and changelog, control, conffiles, maintainer scripts, md5sums.
set -eu

BUILD=$1
VERSION=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
out=$BUILD/deb
stage=$out/stage
pkg=cs-exporter
debver=$VERSION-1
arch=$(dpkg --print-architecture)
deb=$out/${pkg}_${debver}_$arch.deb

# Reproducible dates: the last commit's, else now.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

# ---- build and stage ---------------------------------------------------------
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get LDFLAGS)"
rm -rf "$stage"
mkdir -p "$out"
make -C "$root" --no-print-directory BUILD="$out/obj" CFLAGS="$flags" install \
	DESTDIR="$stage" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system >"$out/install.log" 2>&1 || {
	tail -20 "$out/install.log" >&2
	exit 1
}

strip --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/usr/bin/cs_exporter"
gzip -9n "$stage/usr/share/man/man1/cs_exporter.1"
# The dashboard generator is a data file here, run as `python3
# /usr/share/cs_exporter/generate.py`: python3 is only suggested.
chmod 0644 "$stage/usr/share/cs_exporter/generate.py"
doc=$stage/usr/share/doc/$pkg
install -d "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '%s (%s) unstable; urgency=medium\n\n  * Built from revision %s.\n\n -- %s  %s\n' \
	"$pkg" "$debver" "$rev" "cs_exporter maintainers <cs-exporter@example.org>" "$date" |
	gzip -9n >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

# ---- control area ------------------------------------------------------------
install -d -m 0755 "$stage/DEBIAN"
# dpkg-shlibdeps wants a debian/control to read; a minimal one in a scratch dir.
mkdir -p "$out/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$out/shlibs/debian/control"
shlibs=$(cd "$out/shlibs" && dpkg-shlibdeps -O -e "$stage/usr/bin/cs_exporter" 2>"$out/shlibdeps.log" |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || {
	cat "$out/shlibdeps.log" >&2
	exit 1
}
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@SHLIBS@/$shlibs/" \
	"$here/control.in" >"$stage/DEBIAN/control"
echo /etc/cs_exporter/cs_exporter.conf >"$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$stage/DEBIAN/$s"
done
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
	sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

# Directories 0755 and files 0644/0755 whatever the umask was.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
