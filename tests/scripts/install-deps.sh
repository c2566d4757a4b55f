#!/bin/sh
# Installs the Debian packages cs_exporter needs to build, test and run its
# demo, and nothing when they are all there already. Run as root (or with
# sudo available). Extra package sets: `install-deps.sh bench`.
set -eu

PKGS="make gcc pkg-config clang-format python3 curl openssl procps ca-certificates
libmicrohttpd-dev libpq-dev libconfig-dev libyaml-dev libcriterion-dev zlib1g-dev libcrypt-dev
postgresql postgresql-client pgbouncer prometheus prometheus-alertmanager valgrind man-db
chromium systemd time faketime dpkg-dev lintian"
case "${1:-}" in
bench) PKGS="$PKGS wrk nginx-light prometheus-sql-exporter hyperfine" ;;
esac

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packaged services must not start on their own: tests start their own
# instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Several checkouts may share this machine's dpkg: one apt-get at a time.
$SUDO flock /tmp/apt.lock apt-get update -qq
# shellcheck disable=SC2086
$SUDO flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends $missing >/dev/null
