#!/bin/bash
# `make deb`: lintian finds no errors (its warnings are listed in the log),
# the package holds the Debian layout, and it installs, upgrades and removes
# cleanly in a root of the test's own (dpkg --root, maintainer scripts run
# outside a chroot with DPKG_ROOT set, never touching this machine's /):
# binary, manual, unit, dashboards and rules in place, the cs_exporter
# system user created, the configuration a conffile that a reinstall keeps
# when edited, remove keeps it and the user, purge removes it but not the
# user, and nothing else is left behind.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

make -C "$CS_ROOT" --no-print-directory BUILD="$BUILD" deb >"$T/make.log" 2>&1 ||
	fail "make deb failed: $(tail -5 "$T/make.log")"
deb=$(tail -1 "$T/make.log")
[ -f "$deb" ] || fail "make deb printed no package path: $(tail -3 "$T/make.log")"
case "$deb" in "$BUILD"/deb/cs-exporter_*_*.deb) ;; *) fail "unexpected package path $deb" ;; esac

# ---- lintian -----------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
	lintian --tag-display-limit 0 "$deb" >"$T/lintian.out" 2>"$T/lintian.err" || true
	! grep -q '^E: ' "$T/lintian.out" || fail "lintian errors: $(grep '^E: ' "$T/lintian.out")"
	grep '^W: ' "$T/lintian.out" >&2 || true
else
	fail "lintian not installed (tests/scripts/install-deps.sh installs it)"
fi

# ---- contents ------------------------------------------------------------------
dpkg-deb -f "$deb" Package | grep -qx cs-exporter || fail "package name is not cs-exporter"
want=$(sed -n 's/^VERSION *:= *//p' "$CS_ROOT/Makefile")-1
[ "$(dpkg-deb -f "$deb" Version)" = "$want" ] || fail "version $(dpkg-deb -f "$deb" Version), want $want"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$T/contents"
has() { # mode path
	grep -qx -- "$1 root/root .$2" "$T/contents" || fail "package lacks $2 with mode $1"
}
has -rwxr-xr-x /usr/bin/cs_exporter
has -rw-r--r-- /usr/share/man/man1/cs_exporter.1.gz
has -rw-r--r-- /lib/systemd/system/cs_exporter.service
has -rw-r--r-- /lib/systemd/system/cs_exporter.socket
has -rw-r--r-- /etc/cs_exporter/cs_exporter.conf
has -rw-r--r-- /usr/share/doc/cs-exporter/copyright
has -rw-r--r-- /usr/share/doc/cs-exporter/changelog.Debian.gz
for src in "$CS_ROOT"/dashboards/grafana/*.json "$CS_ROOT"/dashboards/rules/*.yaml \
	"$CS_ROOT"/dashboards/provisioning/*/*.yaml "$CS_ROOT"/dashboards/runbook.md; do
	has -rw-r--r-- "/usr/share/cs_exporter/${src#"$CS_ROOT"/dashboards/}"
done
# The dashboard generator and the modules it imports (python3 is only
# suggested, so none of them is executable).
for src in "$CS_ROOT"/dashboards/generate.py "$CS_ROOT"/dashboards/libconf.py "$CS_ROOT"/dashboards/gen/*.py; do
	has -rw-r--r-- "/usr/share/cs_exporter/${src#"$CS_ROOT"/dashboards/}"
done
! grep -q '/usr/local' "$T/contents" || fail "files under /usr/local in the package"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx './conffiles' || fail "no conffiles"
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/cs_exporter/cs_exporter.conf ] ||
	fail "conffiles is not just /etc/cs_exporter/cs_exporter.conf"

# ---- a root of our own -----------------------------------------------------------
root=$T/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'root:*:19000:0:99999:7:::' >"$root/etc/shadow"
echo 'root:*::' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
[ ! -f /etc/login.defs ] || cp /etc/login.defs "$root/etc/"
# This machine's user database must not change.
host_users=$(cat /etc/passwd /etc/group | md5sum)
# Dependencies are this machine's, not the empty root's: --force-depends.
dpkgr() {
	dpkg --root="$root" --force-script-chrootless --force-depends --force-unsafe-io \
		--log="$T/dpkg.log" "$@"
}

# ---- install -----------------------------------------------------------------------
dpkgr -i "$deb" >"$T/install.out" 2>&1 || fail "dpkg -i failed: $(tail -5 "$T/install.out")"
dpkgr -s cs-exporter 2>/dev/null | grep -qx 'Status: install ok installed' ||
	fail "not installed: $(dpkgr -s cs-exporter 2>&1 | head -3)"
for f in /usr/bin/cs_exporter /usr/share/man/man1/cs_exporter.1.gz /lib/systemd/system/cs_exporter.service \
	/lib/systemd/system/cs_exporter.socket /etc/cs_exporter/cs_exporter.conf /usr/share/cs_exporter/rules/recording.yaml; do
	[ -f "$root$f" ] || fail "$f not installed"
done
"$root/usr/bin/cs_exporter" --version | grep -q "^cs_exporter, version ${want%-1} " ||
	fail "installed binary: $("$root/usr/bin/cs_exporter" --version 2>&1)"
"$root/usr/bin/cs_exporter" --config.check --config.file "$root/etc/cs_exporter/cs_exporter.conf" \
	>"$T/check.out" 2>&1 || fail "--config.check on the packaged config: $(cat "$T/check.out")"
grep -qx 'ExecStart=/usr/bin/cs_exporter --config.file=/etc/cs_exporter/cs_exporter.conf' \
	"$root/lib/systemd/system/cs_exporter.service" || fail "ExecStart does not name /usr/bin and /etc"
grep -qF 'ExecStart=/usr/bin/cs_exporter --config.file=/etc/cs_exporter/cs_exporter.conf --web.systemd-socket' \
	"$root/lib/systemd/system/cs_exporter.socket" || fail "the socket unit's drop-in does not name /usr/bin and /etc"
gpath=$(sed -n 's/^ *path: *//p' "$root/usr/share/cs_exporter/provisioning/dashboards/cs_exporter.yaml")
[ "$gpath" = /usr/share/cs_exporter/grafana ] || fail "provisioned dashboard path is $gpath"
ls "$root$gpath"/cs-*.json >/dev/null 2>&1 || fail "$gpath holds no dashboards"
# The system user and its group.
IFS=: read -r _ _ uid gid _ home shell < <(grep '^cs_exporter:' "$root/etc/passwd") ||
	fail "no cs_exporter user: $(cat "$root/etc/passwd")"
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "cs_exporter has uid $uid, not a system uid"
grep -q "^cs_exporter:x:$gid:" "$root/etc/group" || fail "no cs_exporter group with gid $gid"
[ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] || fail "user home $home, shell $shell"

# ---- reinstall over an edited conffile ------------------------------------------
echo '# edited by the operator' >>"$root/etc/cs_exporter/cs_exporter.conf"
dpkgr -i "$deb" >"$T/reinstall.out" 2>&1 || fail "reinstall failed: $(tail -5 "$T/reinstall.out")"
grep -q 'edited by the operator' "$root/etc/cs_exporter/cs_exporter.conf" ||
	fail "reinstall overwrote the edited configuration"
[ "$(grep -c '^cs_exporter:' "$root/etc/passwd")" = 1 ] || fail "reinstall added the user twice"

# ---- remove: the configuration and the user stay ------------------------------------
dpkgr -r cs-exporter >"$T/remove.out" 2>&1 || fail "dpkg -r failed: $(tail -5 "$T/remove.out")"
dpkgr -s cs-exporter 2>/dev/null | grep -qx 'Status: deinstall ok config-files' ||
	fail "after remove: $(dpkgr -s cs-exporter 2>&1 | grep Status)"
for f in /usr/bin/cs_exporter /lib/systemd/system/cs_exporter.service /lib/systemd/system/cs_exporter.socket \
	/usr/share/cs_exporter; do
	[ ! -e "$root$f" ] || fail "$f left after remove"
done
grep -q 'edited by the operator' "$root/etc/cs_exporter/cs_exporter.conf" || fail "remove deleted the configuration"
grep -q '^cs_exporter:' "$root/etc/passwd" || fail "remove deleted the user"

# ---- purge: the configuration goes, the user stays --------------------------------
dpkgr -P cs-exporter >"$T/purge.out" 2>&1 || fail "dpkg -P failed: $(tail -5 "$T/purge.out")"
dpkgr -s cs-exporter >/dev/null 2>&1 && fail "still known to dpkg after purge"
[ ! -e "$root/etc/cs_exporter" ] || fail "/etc/cs_exporter left after purge: $(ls -A "$root/etc/cs_exporter")"
grep -q '^cs_exporter:' "$root/etc/passwd" || fail "purge deleted the user"
# Nothing else left: only the user database (and its backups) and dpkg's own files changed.
left=$(cd "$root" && find . \( -path ./var/lib/dpkg -o -path ./var/log \) -prune -o ! -type d -print |
	sed 's|^\.||' | grep -v -x -e '/etc/passwd-\?' -e '/etc/group-\?' -e '/etc/shadow-\?' \
	-e '/etc/gshadow-\?' -e '/etc/login.defs' -e '/etc/subuid-\?' -e '/etc/subgid-\?' || true)
[ -z "$left" ] || fail "left after purge: $left"
dirs=$(cd "$root" && find . -mindepth 1 -type d -empty | grep -v '^\./var/lib/dpkg' || true)
[ -z "$dirs" ] || fail "empty directories left after purge: $dirs"
[ "$(cat /etc/passwd /etc/group | md5sum)" = "$host_users" ] || fail "this machine's /etc/passwd or /etc/group changed"
echo ok
