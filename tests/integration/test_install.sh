#!/bin/bash
# `make install` into a scratch DESTDIR: the tree is complete with the right
# modes, the man page renders without warnings and documents every flag the
# binary accepts, systemd accepts the unit (and rates it as well hardened),
# the installed binary runs on the installed config, an existing config
# survives a reinstall, and PREFIX/SYSCONFDIR reach the unit. One layout: the
# prometheus.yml snippet of docs/dashboards.md passes `promtool check config`
# on the installed rules, Grafana's provisioned path holds the dashboards, the
# man page's FILES exist, and every relative link and #anchor of README.md,
# HACKING.md and the .md files under docs/, dashboards/ and config/ resolves.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

root=$T/root
make -C "$CS_ROOT" --no-print-directory BUILD="$BUILD" install DESTDIR="$root" \
	>"$T/install.log" 2>&1 || fail "make install failed: $(tail -5 "$T/install.log")"

# ---- the tree ----------------------------------------------------------------
mode_is() { # file mode
	[ -f "$root$1" ] || fail "not installed: $1"
	m=$(stat -c %a "$root$1")
	[ "$m" = "$2" ] || fail "$1 has mode $m, expected $2"
}
mode_is /usr/local/bin/cs_exporter 755
mode_is /usr/local/share/man/man1/cs_exporter.1 644
mode_is /etc/cs_exporter/cs_exporter.conf 644
mode_is /usr/local/share/cs_exporter/example.conf 644
mode_is /usr/local/share/cs_exporter/generate.py 755
mode_is /usr/local/share/cs_exporter/libconf.py 644
for src in "$CS_ROOT"/dashboards/gen/*.py; do
	mode_is "/usr/local/share/cs_exporter/gen/$(basename "$src")" 644
	cmp -s "$src" "$root/usr/local/share/cs_exporter/gen/$(basename "$src")" ||
		fail "gen/$(basename "$src") differs from the source"
done
# The installed generator renders dashboards and rules for an operator's
# config, from the installed files alone.
cp "$CS_ROOT/tests/configs/good/dashboards_tier.conf" "$CS_ROOT/tests/configs/good/dashboards_tier.windows.inc" "$T/"
(cd / && python3 "$root/usr/local/share/cs_exporter/generate.py" --config "$T/dashboards_tier.conf" \
	--out "$T/rendered") >"$T/generate.log" 2>&1 || fail "installed generate.py failed: $(tail -3 "$T/generate.log")"
ls "$T/rendered/grafana/"*.json >/dev/null 2>&1 || fail "installed generate.py wrote no dashboard"
[ -f "$T/rendered/rules/recording.yaml" ] || fail "installed generate.py wrote no recording rules"
grep -q 'window="28d"' "$T/rendered/rules/alerts.yaml" 2>/dev/null ||
	fail "installed generate.py wrote no alerts for the config's windows"
grep -q currencyEUR "$T/rendered/grafana/"*.json || fail "rendered dashboards ignore the config's currency"
for src in "$CS_ROOT"/config/recipes/*; do
	rel=recipes/$(basename "$src")
	mode_is "/usr/local/share/cs_exporter/$rel" 644
	cmp -s "$src" "$root/usr/local/share/cs_exporter/$rel" || fail "$rel differs from the source"
done
mode_is /usr/local/lib/systemd/system/cs_exporter.service 644
mode_is /usr/local/lib/systemd/system/cs_exporter.socket 644
# Every dashboard, rule file and provisioning file of the source tree.
n=0
for src in "$CS_ROOT"/dashboards/grafana/*.json "$CS_ROOT"/dashboards/rules/*.yaml \
	"$CS_ROOT"/dashboards/provisioning/*/*.yaml "$CS_ROOT"/dashboards/runbook.md; do
	[ -e "$src" ] || continue
	rel=${src#"$CS_ROOT"/dashboards/}
	mode_is "/usr/local/share/cs_exporter/$rel" 644
	cmp -s "$src" "$root/usr/local/share/cs_exporter/$rel" || fail "$rel differs from the source"
	n=$((n + 1))
done
[ $n -ge 4 ] || fail "only $n dashboard/rule files installed"
cmp -s "$CS_ROOT/config/example.conf" "$root/etc/cs_exporter/cs_exporter.conf" ||
	fail "installed config is not the example"
# Nothing outside the documented places.
extra=$(cd "$root" && find . -type f | grep -v -e '^\./usr/local/bin/' -e '^\./usr/local/share/' \
	-e '^\./etc/cs_exporter/' -e '^\./usr/local/lib/systemd/system/' || true)
[ -z "$extra" ] || fail "unexpected files installed: $extra"

# ---- one layout: docs, man page and provisioning name installed files -----
# The prometheus.yml snippet of docs/dashboards.md, its paths moved into the DESTDIR: the
# rule files it loads exist and promtool accepts them.
python3 - "$CS_ROOT/docs/dashboards.md" <<'PY' >"$T/readme-prometheus.yml" || fail "no prometheus.yml snippet with rule_files in docs/dashboards.md"
import re, sys
blocks = re.findall(r"```yaml\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
snip = [b for b in blocks if b.startswith("rule_files:")]
assert len(snip) == 1, "%d snippets" % len(snip)
sys.stdout.write(snip[0])
PY
sed -i "s|/usr/local/|$root/usr/local/|g" "$T/readme-prometheus.yml"
grep -q "$root/usr/local/share/cs_exporter/rules/" "$T/readme-prometheus.yml" ||
	fail "docs/dashboards.md's rule_files do not name PREFIX/share/cs_exporter/rules/"
promtool check config "$T/readme-prometheus.yml" >"$T/promtool-config.out" 2>&1 ||
	fail "promtool check config on the snippet of docs/dashboards.md: $(cat "$T/promtool-config.out")"
# Grafana's dashboard provider points at the installed dashboards.
prov=$root/usr/local/share/cs_exporter/provisioning/dashboards/cs_exporter.yaml
gpath=$(sed -n 's/^ *path: *//p' "$prov")
[ "$gpath" = /usr/local/share/cs_exporter/grafana ] || fail "provisioning path is \"$gpath\""
for src in "$CS_ROOT"/dashboards/grafana/*.json; do
	[ -f "$root$gpath/$(basename "$src")" ] || fail "$gpath holds no $(basename "$src")"
done
# Every relative link and #anchor of the docs names a file, folder or heading
# of the tree (docs/metrics.md included: it is generated, and committed).
links="python3 $CS_SCRIPTS/check_links.py"
(cd "$CS_ROOT" && $links README.md HACKING.md docs dashboards config) \
	>"$T/links.out" 2>"$T/links.err" || fail "broken links: $(cat "$T/links.out")"
# The README stays a page a person reads; the rest lives in docs/.
n=$(wc -l <"$CS_ROOT/README.md")
[ "$n" -le 300 ] || fail "README.md has $n lines: move detail into docs/ (at most 300)"
# The check itself: a missing file, a missing anchor and a link inside code.
mkdir -p "$T/links/sub"
printf '# Top\n## A `b` (c)\n## A `b` (c)\n' >"$T/links/sub/t.md"
printf '[ok](sub/t.md#a-b-c-1) [ok](sub/) `[code](nowhere.md)`\n[x](nowhere.md)\n[y](sub/t.md#top-1)\n' >"$T/links/a.md"
! $links "$T/links" >"$T/links-neg.out" 2>&1 || fail "check_links.py passed broken links"
grep -q 'a.md:2: links to nowhere.md, which does not exist' "$T/links-neg.out" &&
	grep -q 'a.md:3: links to sub/t.md#top-1, which has no heading #top-1' "$T/links-neg.out" &&
	[ "$(wc -l <"$T/links-neg.out")" -eq 2 ] || fail "check_links.py on broken links: $(cat "$T/links-neg.out")"

# ---- the installed binary --------------------------------------------------
bin=$root/usr/local/bin/cs_exporter
"$bin" --version >"$T/version.out" || fail "--version failed"
want=$(sed -n 's/^VERSION *:= *//p' "$CS_ROOT/Makefile")
grep -q "^cs_exporter, version $want (branch: " "$T/version.out" ||
	fail "--version says \"$(cat "$T/version.out")\", Makefile VERSION is $want"
"$bin" --config.check --config.file "$root/etc/cs_exporter/cs_exporter.conf" >"$T/check.out" 2>&1 ||
	fail "--config.check on the installed config: $(cat "$T/check.out")"
grep -q ': ok$' "$T/check.out" || fail "--config.check printed: $(cat "$T/check.out")"

# ---- the man page ------------------------------------------------------------
man1=$root/usr/local/share/man/man1/cs_exporter.1
MANWIDTH=80 man -l --warnings "$man1" >"$T/man.txt" 2>"$T/man.err" || fail "man -l failed: $(cat "$T/man.err")"
[ ! -s "$T/man.err" ] || fail "man page warnings: $(head -5 "$T/man.err")"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS BACKFILL "EXIT STATUS" FILES "SEE ALSO"; do
	grep -q "^$s\$" "$T/man.txt" || fail "man page has no $s section"
done
awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$T/man.txt" || fail "man page lines over 80 columns"
# The FILES section names what make install wrote.
for p in $(sed -n '/^FILES$/,/^[A-Z]/p' "$T/man.txt" | grep -o '/[a-z][^ ,;]*' | grep -e '^/usr/local/' -e '^/etc/' | sort -u); do
	[ -e "$root$p" ] || fail "man page FILES names $p, which make install did not write"
done
! grep -q 'PUT' "$T/man.txt" || fail "man page mentions PUT: /-/reload takes POST"
grep -q 'listen_addresses' "$T/man.txt" || fail "man page does not name web.listen_addresses"
# Every flag the binary knows is documented, and no flag is documented that it does not know.
{
	"$bin" --help
	"$bin" backfill --help
} | grep -o -e '--[a-z][a-z.-]*' | sort -u >"$T/flags.help"
grep -o -e '--[a-z][a-z.-]*[a-z]' "$T/man.txt" | sort -u >"$T/flags.man"
missing=$(comm -23 "$T/flags.help" "$T/flags.man")
[ -z "$missing" ] || fail "flags missing from the man page: $missing"
unknown=$(comm -13 "$T/flags.help" "$T/flags.man")
[ -z "$unknown" ] || fail "man page documents unknown flags: $unknown"

# ---- the units ---------------------------------------------------------------
unit=$root/usr/local/lib/systemd/system/cs_exporter.service
sock=$root/usr/local/lib/systemd/system/cs_exporter.socket
for u in "$unit" "$sock"; do
	! grep -q '@[A-Z]*@' "$u" || fail "unsubstituted placeholder in $(basename "$u"): $(grep '@[A-Z]*@' "$u")"
done
# The socket unit listens where the exporter would by default, and the
# drop-in it documents starts the installed binary with --web.systemd-socket.
grep -qx 'ListenStream=9818' "$sock" || fail "socket unit does not listen on 9818: $(grep ListenStream "$sock")"
grep -qx 'WantedBy=sockets.target' "$sock" || fail "socket unit not wanted by sockets.target"
grep -qx '#   ExecStart=/usr/local/bin/cs_exporter --config.file=/etc/cs_exporter/cs_exporter.conf --web.systemd-socket' \
	"$sock" || fail "socket unit does not document the service's ExecStart with --web.systemd-socket"
grep -qx 'ExecStart=/usr/local/bin/cs_exporter --config.file=/etc/cs_exporter/cs_exporter.conf' "$unit" ||
	fail "unexpected ExecStart: $(grep ExecStart= "$unit")"
# shellcheck disable=SC2016 # $MAINPID is literal text of the unit
for d in 'DynamicUser=yes' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	'PrivateTmp=yes' 'CapabilityBoundingSet=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$d" "$unit" || fail "unit lacks $d"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants ExecStart to exist: point a copy at the DESTDIR files.
	mkdir -p "$T/verify"
	sed -e "s|=/usr/local/bin/|=$root/usr/local/bin/|g" -e "s|=/etc/cs_exporter/|=$root/etc/cs_exporter/|g" \
		"$unit" >"$T/verify/cs_exporter.service"
	cp "$sock" "$T/verify/cs_exporter.socket"
	# The socket is verified with its service next to it (verify fails a
	# socket whose service is not there).
	systemd-analyze verify --man=no "$T/verify/cs_exporter.service" "$T/verify/cs_exporter.socket" \
		>"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify.out")"
	# It only warns about unknown keys and bad values: any output is a problem.
	[ ! -s "$T/verify.out" ] || fail "systemd-analyze verify: $(cat "$T/verify.out")"
	if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
		systemd-analyze security --offline=yes --no-pager "$T/verify/cs_exporter.service" \
			>"$T/security.out" 2>&1 || true
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security.out")
		[ -n "$score" ] || fail "no exposure level: $(tail -3 "$T/security.out")"
		awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
			fail "systemd rates the unit's exposure $score (> 2.0)"
	fi
else
	echo "systemd-analyze not found: unit not verified" >&2
fi

# ---- a reinstall keeps the operator's config ---------------------------------
echo '# edited by the operator' >>"$root/etc/cs_exporter/cs_exporter.conf"
make -C "$CS_ROOT" --no-print-directory BUILD="$BUILD" install DESTDIR="$root" \
	>"$T/reinstall.log" 2>&1 || fail "second make install failed: $(tail -5 "$T/reinstall.log")"
grep -q 'edited by the operator' "$root/etc/cs_exporter/cs_exporter.conf" ||
	fail "reinstall overwrote /etc/cs_exporter/cs_exporter.conf"

# ---- other PREFIX and SYSCONFDIR -----------------------------------------------
make -C "$CS_ROOT" --no-print-directory BUILD="$BUILD" install DESTDIR="$T/opt" PREFIX=/opt/cs \
	SYSCONFDIR=/etc/opt/cs >"$T/install2.log" 2>&1 || fail "make install PREFIX=/opt/cs failed"
[ -x "$T/opt/opt/cs/bin/cs_exporter" ] || fail "PREFIX ignored for the binary"
[ -f "$T/opt/etc/opt/cs/cs_exporter/cs_exporter.conf" ] || fail "SYSCONFDIR ignored for the config"
grep -qx 'ExecStart=/opt/cs/bin/cs_exporter --config.file=/etc/opt/cs/cs_exporter/cs_exporter.conf' \
	"$T/opt/opt/cs/lib/systemd/system/cs_exporter.service" || fail "PREFIX/SYSCONFDIR not in the unit"
grep -qF 'ExecStart=/opt/cs/bin/cs_exporter --config.file=/etc/opt/cs/cs_exporter/cs_exporter.conf --web.systemd-socket' \
	"$T/opt/opt/cs/lib/systemd/system/cs_exporter.socket" || fail "PREFIX/SYSCONFDIR not in the socket unit"
grep -qx '      path: /opt/cs/share/cs_exporter/grafana' \
	"$T/opt/opt/cs/share/cs_exporter/provisioning/dashboards/cs_exporter.yaml" ||
	fail "PREFIX not in the dashboard provider's path"
echo ok
