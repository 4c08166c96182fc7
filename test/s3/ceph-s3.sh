#!/usr/bin/env bash
# A copy of ../shared/s3/ceph-s3.sh kept in the repository so the S3 tests need nothing beside it;
# test/helpers/ceph-s3.ts starts it on free ports per test file.
# Throwaway single-node Ceph (1 mon, 1 OSD, no mgr) + RADOS Gateway (S3 API) on 127.0.0.1 only.
# Install once: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd   (Debian 12: Ceph 16.2.15)
# Usage: ceph-s3.sh start|stop|status
# Env: S3_DIR (state dir, wiped), S3_PORT (7480), MON_PORT (40789; OSD uses MON_PORT+11..+60),
#      S3_ACCESS_KEY/S3_SECRET_KEY, OSD_STORE=memstore|bluestore, MEMSTORE_BYTES (8 GiB cap, RAM),
#      BLUESTORE_BYTES (20 GiB sparse file)
set -euo pipefail
DIR=${S3_DIR:-/tmp/ceph-s3}
S3_PORT=${S3_PORT:-7480}
MON_PORT=${MON_PORT:-40789}
AK=${S3_ACCESS_KEY:-testaccesskey}
SK=${S3_SECRET_KEY:-testsecretkey}
export CEPH_CONF=$DIR/ceph.conf

osd_conf() {
  if [ "${OSD_STORE:-memstore}" = bluestore ]; then
    printf '%s\n' "osd objectstore = bluestore" "bluestore block create = true" \
      "bluestore block size = ${BLUESTORE_BYTES:-21474836480}" "bluestore fsck on mount = false" \
      "osd memory target = 1073741824"
  else
    printf '%s\n' "osd objectstore = memstore" "memstore device bytes = ${MEMSTORE_BYTES:-8589934592}"
  fi
}

start() {
  [ -e "$DIR/pids" ] && { echo "already running ($DIR/pids); run stop first" >&2; return 1; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null; then echo "port $S3_PORT busy" >&2; return 1; fi
  [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/ceph.conf" ] && { echo "$DIR not empty, refusing to wipe" >&2; return 1; }
  rm -rf "$DIR"; mkdir -p "$DIR"/{log,run,mon.a,osd.0}
  local fsid osd_uuid; fsid=$(cat /proc/sys/kernel/random/uuid); osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$CEPH_CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind port min = $((MON_PORT + 11))
ms bind port max = $((MON_PORT + 60))
auth cluster required = none
auth service required = none
auth client required = none
keyring = $DIR/keyring
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
crash dir = $DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon data avail crit = 1
mon osd full ratio = .99
mon osd backfillfull ratio = .98
mon osd nearfull ratio = .97
osd failsafe full ratio = .995
# default 1 s batching of map changes makes rgw's ~7 pool creations take ~12 s
paxos propose interval = 0.05
paxos min wait = 0.01
[mon.a]
mon data = $DIR/mon.a
[osd]
osd data = $DIR/osd.\$id
osd crush update on start = true
$(osd_conf)
[client.rgw]
# radosgw defaults to a 'secure' mon connection, impossible with auth none
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT
rgw thread pool size = 64
EOF
  trap 'echo "start failed; logs in $DIR/log" >&2; KEEP=1 stop' ERR
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  ceph-mon -f -i a >"$DIR/log/mon.out" 2>&1 & echo $! >"$DIR/pids"
  ceph --connect-timeout 20 osd new "$osd_uuid" >/dev/null          # -> osd.0
  ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/osd-mkfs.out" 2>&1
  ceph-osd -f -i 0 >"$DIR/log/osd.out" 2>&1 & echo $! >>"$DIR/pids"
  radosgw -f -n client.rgw >"$DIR/log/rgw.out" 2>&1 & echo $! >>"$DIR/pids"
  local i; for i in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.5
  done
  curl -sf -o /dev/null "http://127.0.0.1:$S3_PORT/"
  radosgw-admin -n client.admin user create --uid=test --display-name=test \
    --access-key="$AK" --secret-key="$SK" >/dev/null
  trap - ERR
  echo "S3 endpoint http://127.0.0.1:$S3_PORT access=$AK secret=$SK (path-style, region us-east-1)"
}

stop() {   # throwaway data: SIGKILL is fine and avoids memstore dumping RAM to disk on shutdown
  local p
  if [ -e "$DIR/pids" ]; then
    for p in $(cat "$DIR/pids"); do kill -9 "$p" 2>/dev/null || true; done
    for p in $(cat "$DIR/pids"); do   # bounded wait (a zombie would pass kill -0)
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    rm -f "$DIR/pids"
  fi
  [ "${KEEP:-0}" = 1 ] || { [ -e "$DIR/ceph.conf" ] && rm -rf "$DIR"; } || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) ceph --connect-timeout 5 -s ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
