#!/bin/sh
# `outpost hub sites --json` on a hub with N sites that all reported (issue #16 item 5: the
# hub's table of 10,000 schools). Makes a hub, publishes the demo channel, writes N peers with a
# report each (two served channels, an error) and 30 usage rows each straight into sync.db with
# sqlite3 (the rows SyncDb::NoteSiteReport writes), then times the listing.
#   bench/hub_sites.sh BUILD_DIR [N]      (default N = 10000)
set -eu
build=${1:?usage: bench/hub_sites.sh BUILD_DIR [N]}
n=${2:-10000}
outpost="$build/cli/outpost"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$outpost" hub init --data "$data" >/dev/null
"$outpost" publish --data "$data" "$build/demo/water-cycle" >/dev/null
sqlite3 "$data/sync/sync.db" <<SQL
WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < $n)
INSERT INTO peers (key, name, role, enrolled_at, last_seen, last_via)
  SELECT randomblob(32), printf('ecole-%05d', x), 'site', 1796000000, 1796600000 + x,
         CASE x % 3 WHEN 0 THEN 'stick' ELSE 'link' END FROM i;
INSERT INTO site_reports (peer_key, reported_at, received_at, via, software, disk_total,
                          disk_free, served, errors_logged, errors)
  SELECT key, last_seen - 5, last_seen, last_via, '0.1.0', 32000000000, 11000000000,
         'water-cycle 1' || char(10) || name || '-notes 3' || char(10), 2,
         '1796500000 warn the stick was pulled out' || char(10) ||
         '1796500100 error disk full' || char(10) FROM peers;
WITH RECURSIVE d(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM d WHERE y < 30)
INSERT INTO site_usage (day, channel_id, resource, peer_key, views)
  SELECT printf('2026-11-%02d', y), 'water-cycle', 'index.html', key, 5 + y FROM peers, d;
SQL
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$outpost" hub sites --data "$data" --json >/dev/null
  end=$(date +%s%N)
  echo "run $run: $(( (end - start) / 1000000 )) ms for $n sites (hub sites --json)"
done
start=$(date +%s%N)
"$outpost" hub sites --data "$data" >/dev/null
end=$(date +%s%N)
echo "text: $(( (end - start) / 1000000 )) ms"
