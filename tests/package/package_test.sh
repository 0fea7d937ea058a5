#!/usr/bin/env bash
# The Debian package, as a box's administrator meets it, in a clean Debian 12 root made by
# mmdebstrap (no container runtime): install, use, upgrade from the previous package with a
# database migration that runs once, an upgrade whose migration fails (nothing changed, the
# message says so, dpkg --configure -a finishes it), remove (data kept) and purge (data gone).
#
# Usage: tests/package/package_test.sh PREVIOUS.deb NEW.deb DEMO_DIR
#   PREVIOUS.deb  the package an upgrade starts from. Until a release is published, CI makes it
#                 from the same build with a lower version (deploy/test.sh) and the test turns
#                 the data back to the previous schema, as the previous release left it.
#   DEMO_DIR      a folder to import (the demo curriculum: build/*/demo/water-cycle)
# Root is needed (chroot, mount). Keeps the root in build/package-test/root for inspection.
set -euo pipefail
prev=$(realpath "${1:?usage: package_test.sh PREVIOUS.deb NEW.deb DEMO_DIR}")
new=$(realpath "${2:?}")
demo=$(realpath "${3:?}")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD/build/package-test/root
checks=0

fail() { echo "package test: FAILED: $*" >&2; exit 1; }
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  "$@" || fail "$what"
  checks=$((checks + 1))
  echo "ok: $what"
}
in_root() {
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
contains() { grep -qF -- "$2" <<<"$1"; }
schema() { sqlite3 "$root/var/lib/outpost/sync/sync.db" 'PRAGMA user_version'; }
# sync.db as the previous release left it (schema 11, before console_jobs), plus any SQL.
previous_schema() {
  sqlite3 "$root/var/lib/outpost/sync/sync.db" \
    "DROP TABLE IF EXISTS console_jobs; DROP VIEW IF EXISTS console_jobs; PRAGMA user_version = 11; ${1:-}"
}
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT

echo "=== a clean Debian 12 root (mmdebstrap, minbase)"
umount "$root/proc" 2>/dev/null || true
rm -rf "$root"
mkdir -p "$(dirname "$root")"
mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists bookworm "$root" \
  http://deb.debian.org/debian
mount -t proc proc "$root/proc"
cp "$prev" "$root/tmp/previous.deb"
cp "$new" "$root/tmp/new.deb"
cp -r "$demo" "$root/tmp/demo"

echo "=== install $(basename "$prev")"
in_root apt-get install -y -qq /tmp/previous.deb >/dev/null
check "the system user exists" in_root getent passwd outpost
check "/var/lib/outpost belongs to it, mode 0750" \
  test "$(stat -c '%u %a' "$root/var/lib/outpost")" = "$(in_root id -u outpost) 750"
check "the settings are a conffile in /etc/outpost" \
  grep -qx /etc/outpost/outpost.toml "$root/var/lib/dpkg/info/outpost.conffiles"
check "the socket is enabled" test -L "$root/etc/systemd/system/sockets.target.wants/outpost.socket"
check "the service is enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/outpost.service"
check "the man page is installed" test -s "$root/usr/share/man/man1/outpost.1.gz"
check "systemd accepts the units" in_root systemd-analyze verify --man=no \
  /lib/systemd/system/outpost.socket /lib/systemd/system/outpost.service
security=$(in_root systemd-analyze security --offline=true --no-pager \
  /lib/systemd/system/outpost.service 2>&1 | tail -n 1)
echo "systemd-analyze security: $security"

echo "=== the Wi-Fi, as docs/install.md says"
in_root apt-get install -y -qq --no-install-recommends hostapd dnsmasq avahi-daemon >/dev/null
in_root outpost box wifi --ssid "Ecole Karantina" --country LB >"$root/tmp/wifi.log"
check "box wifi wrote the access point" grep -q '^ssid=Ecole Karantina$' "$root/etc/hostapd/hostapd.conf"
check "dnsmasq accepts what box wifi wrote" in_root dnsmasq --test -C /etc/dnsmasq.d/outpost-wifi.conf
check "the settings name the portal" grep -q '^portal_name = "outpost.lan"' "$root/etc/outpost/outpost.toml"
check "box wifi says what to start" grep -q "systemctl" "$root/tmp/wifi.log"

echo "=== use it: import as root, serve through the socket as the service does"
in_root outpost import /tmp/demo >/dev/null
check "root's import wrote as the service's user" \
  test -z "$(find "$root/var/lib/outpost" ! -user "$(in_root id -u outpost)" -print -quit)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
in_root systemd-socket-activate --listen="127.0.0.1:$port" \
  setpriv --reuid=outpost --regid=outpost --init-groups \
  outpost serve --data /var/lib/outpost --config /etc/outpost/outpost.toml \
  >"$root/tmp/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/" -o "$root/tmp/home.html" && break
  sleep 0.1
done
check "the home page is served on the passed socket" grep -q 'water' "$root/tmp/home.html"
check "it says where it listens" grep -q "listening on the socket systemd passed (port $port)" \
  "$root/tmp/serve.log"
check "a phone's connectivity check is sent to the home page" test "$(curl -s -o /dev/null \
  -w '%{http_code} %{redirect_url}' -H 'Host: connectivitycheck.gstatic.com' \
  "http://127.0.0.1:$port/generate_204")" = "302 http://outpost.lan/"
kill "$server"
wait "$server" 2>/dev/null || true
server=""
echo "# edited by the coordinator" >>"$root/etc/outpost/outpost.toml"

echo "=== upgrade to $(basename "$new"), its data at the previous schema"
previous_schema
out=$(in_root apt-get install -y /tmp/new.deb 2>&1)
check "the upgrade migrated sync.db from 11 to 12" contains "$out" "sync: schema 11 -> 12"
check "sync.db is at schema 12" test "$(schema)" = 12
check "the coordinator's settings were kept" grep -q "edited by the coordinator" \
  "$root/etc/outpost/outpost.toml"
check "the library is still there" contains "$(in_root outpost channels)" "water-cycle"
check "every stored file is whole" in_root outpost verify
check "a second migration has nothing to do" \
  contains "$(in_root outpost migrate)" "sync: schema 12, up to date"

echo "=== an upgrade whose migration fails"
previous_schema "CREATE VIEW console_jobs AS SELECT 1 AS slot;"
if out=$(in_root dpkg -i /tmp/new.deb 2>&1); then fail "dpkg -i succeeded: $out"; fi
check "postinst says the data is unchanged" contains "$out" "could not be brought to this version and is unchanged"
check "and that the previous version reads it" contains "$out" "still reads it"
check "sync.db kept schema 11" test "$(schema)" = 11
check "the package is left half-configured" \
  contains "$(in_root dpkg-query -W -f='${Status}' outpost)" "half-configured"
sqlite3 "$root/var/lib/outpost/sync/sync.db" "DROP VIEW console_jobs"
check "dpkg --configure -a finishes it" in_root dpkg --configure -a
check "sync.db is at schema 12" test "$(schema)" = 12

echo "=== remove, then purge"
in_root apt-get remove -y -qq outpost >/dev/null
check "remove takes the program" test ! -e "$root/usr/bin/outpost"
check "remove keeps the library" test -s "$root/var/lib/outpost/catalog.db"
check "remove keeps the settings" test -s "$root/etc/outpost/outpost.toml"
in_root apt-get purge -y -qq outpost >/dev/null
check "purge deletes the data" test ! -e "$root/var/lib/outpost"
check "purge deletes the settings" test ! -e "$root/etc/outpost"
check "purge leaves no unit enabled" \
  test -z "$(find "$root/etc/systemd/system" -name 'outpost.*' -print -quit)"
echo "package test: all $checks checks passed"
