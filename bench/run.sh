#!/usr/bin/env bash
# Plain-relay benchmark: smtp-source -> {gateway | private Postfix} -> smtp-sink, all on 127.0.0.1.
#
#   bash bench/run.sh            full run (1 KiB and 100 KiB, 20 sessions, 3 interleaved repetitions)
#   bash bench/run.sh --quick    smoke run with small counts (< 2 minutes after the build)
#   bash bench/run.sh --profile  where the gateway's time goes: fsync cost, per-stage rates from its logs,
#                                strace -c -f of gateway and Postfix, perf record; to bench/results/profile-DATE/
#   bash bench/run.sh --big      one ~150 MB message (flagged, then plain) through the gateway: time and memory
#
# Systems: "gateway" (plain relay), "secure" (the same gateway, smtp-source -S "[secure] bench": every message is
# vaulted and the sink counts the notifications, one per message) and "postfix".
#
# Every figure is a ratio against Postfix measured in the same run, runs interleaved
# (gateway, postfix, gateway, postfix, ...), medians reported: the machine is shared.
# Raw runs go to bench/results/relay-YYYYMMDD.csv (or relay-quick-YYYYMMDD.csv), the plot to
# bench/results/relay.png. Traffic goes to 127.0.0.1 only.
set -Eeuo pipefail
trap 'echo "$(date -u +%H:%M:%S) [bench] ERROR: line $LINENO: $BASH_COMMAND failed" >&2' ERR

MODE=full
case "${1:-}" in
  "") ;;
  --quick) MODE=quick ;;
  --profile) MODE=profile ;;
  --big) MODE=big ;;
  -h|--help) sed -n 2,12p "$0"; exit 0 ;;
  *) echo "usage: $0 [--quick|--profile|--big]" >&2; exit 2 ;;
esac

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS="$BENCH_DIR/results"
mkdir -p "$RESULTS"

# Knobs for experiments (defaults are the reference run): BENCH_SIZES="1024 102400", BENCH_REPS=3,
# BENCH_WARMUP=1000, BENCH_LATENCY=1 (0 skips the latency runs), BENCH_GATEWAY_ENV="NAME=value ..." (extra
# environment for the gateway only, e.g. DOTNET_TieredPGO=0), BENCH_TAG=name (writes relay-TAG-DATE.csv).
SESSIONS=20
read -r -a SYSTEMS <<<"${BENCH_SYSTEMS:-gateway secure postfix}"
# The secure runs: an organisation owns bench.example (so sender@bench.example may send securely), no receipt to
# the sender (exactly one notification per message reaches the sink), and a priming message stores the mobile
# number of rcpt@bench.example (a pending recipient) before the warm-up.
SECURE_ENV="Organisations__0__Name=Bench Organisations__0__Domains__0=bench.example Organisations__0__SendReceipts=false"
SECURE_SUBJECT="[secure] bench"
SECURE_PHONE="+46701234567"
read -r -a SIZES <<<"${BENCH_SIZES:-1024 102400}"
if [[ $MODE == quick ]]; then
  REPS=1
  declare -A COUNT=([1024]=300 [102400]=100)
  declare -A SECURE_COUNT=([1024]=100 [102400]=60)
  SECURE_WARMUP=40
  LAT_COUNT=15
  LAT_WARMUP=5
  WARMUP=40
else
  REPS=${BENCH_REPS:-3}
  declare -A COUNT=([1024]=6000 [102400]=3000)
  # The secure path runs at ~20 msg/s here (quick run): smaller counts keep each run near a minute.
  declare -A SECURE_COUNT=([1024]=${BENCH_SECURE_COUNT_1K:-1200} [102400]=${BENCH_SECURE_COUNT_100K:-800})
  SECURE_WARMUP=${BENCH_SECURE_WARMUP:-300}
  LAT_COUNT=100
  LAT_WARMUP=10
  WARMUP=${BENCH_WARMUP:-1000}
fi
LAT_GAP=0.1   # seconds between the sequential latency probes
# Both systems get the same unmeasured warm-up first (the gateway's JIT, Postfix's process pool), so the figures
# are steady state: WARMUP messages before each throughput run, LAT_WARMUP before each latency run.

log() { printf '%s [bench] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; trap - ERR; exit 1; }

# ---------------------------------------------------------------- tools
need_install=()
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }
export PATH="$PATH:/usr/sbin:/sbin"
have smtp-source && have smtp-sink && have postfix || need_install+=(postfix)
have gnuplot || need_install+=(gnuplot-nox)
have python3 || need_install+=(python3)
[[ $MODE == profile ]] && { have strace || need_install+=(strace); }
if ((${#need_install[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing packages: ${need_install[*]} (run as root to install them, or apt-get install them yourself)"
  fi
  log "installing: ${need_install[*]}"
  apt-get update -qq >/dev/null
  for package in "${need_install[@]}"; do
    if apt-cache policy "$package" | grep -q 'Candidate: (none)'; then
      [[ $package == gnuplot-nox ]] && { log "gnuplot-nox has no install candidate; the plot will be skipped"; continue; }
      die "package $package has no install candidate"
    fi
  done
  # Preseed so the postfix package neither prompts nor configures/starts a system instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" >/dev/null \
    || die "apt-get install ${need_install[*]} failed"
fi
for tool in smtp-source smtp-sink postfix dotnet python3 awk sort script pgrep; do
  have "$tool" || die "required tool '$tool' is not installed"
done
[[ $MODE == profile ]] && { have strace || die "strace is not installed"; }
SMTP_SOURCE=$(command -v smtp-source)
SMTP_SINK=$(command -v smtp-sink)
POSTFIX=$(command -v postfix)
SINK_USER=nobody
[[ $(id -u) -eq 0 ]] || SINK_USER=""   # smtp-sink wants -u only when it runs as root

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/smb-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
POSTFIX_CONFS=()
cleanup() {
  local rc=$?
  trap - ERR
  set +e
  for conf in "${POSTFIX_CONFS[@]}"; do
    [[ -f $conf/main.cf ]] && "$POSTFIX" -c "$conf" status >/dev/null 2>&1 && "$POSTFIX" -c "$conf" stop >/dev/null 2>&1
  done
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  # A Postfix master that ignored 'stop' for too long: kill it by the pid it recorded.
  for conf in "${POSTFIX_CONFS[@]}"; do
    local queue="$WORK/$(basename "$conf")/queue"
    [[ -f $queue/pid/master.pid ]] && kill "$(tr -d ' ' <"$queue/pid/master.pid")" 2>/dev/null
  done
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { local p=$1 i; for i in "${!PIDS[@]}"; do [[ ${PIDS[$i]} == "$p" ]] && unset 'PIDS[$i]'; done; }
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget_pid "$1"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below Linux's ephemeral range (32768-60999): a port that an outgoing connection holds cannot be bound either.
NEXT_PORT=$((20000 + RANDOM % 10000))
free_port() {
  while port_busy "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  echo "$NEXT_PORT"; NEXT_PORT=$((NEXT_PORT + 1))
}
wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until port_busy "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
now() { date +%s.%N; }

# ---------------------------------------------------------------- build
log "building the gateway (Release)"
(cd "$ROOT" && dotnet build gateway -c Release --verbosity quiet -nologo) >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log" >&2; die "gateway build failed"; }
GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/SecureMailbox.Gateway.dll"
[[ -f $GATEWAY_DLL ]] || die "$GATEWAY_DLL not found after the build"

# ---------------------------------------------------------------- sink
# start_sink NAME [dumpdir]: smtp-sink with running counters (-c) on a free port; sets SINK_PORT, SINK_PID, SINK_OUT.
start_sink() {
  local name=$1 dump=${2:-}
  SINK_PORT=$(free_port)
  SINK_OUT="$WORK/$name.sink.out"
  local args=(-c -t 300)
  [[ -n $SINK_USER ]] && args+=(-u "$SINK_USER")
  [[ -n $dump ]] && args+=(-d "$dump/m.")
  local try
  for try in 1 2 3; do
    "$SMTP_SINK" "${args[@]}" "127.0.0.1:$SINK_PORT" 256 >"$SINK_OUT" 2>&1 &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    wait_port "$SINK_PORT" 10 && break
    grep -q 'already in use' "$SINK_OUT" && ((try < 3)) || die "smtp-sink did not listen on $SINK_PORT: $(cat "$SINK_OUT")"
    stop_pid "$SINK_PID"
    SINK_PORT=$(free_port)
  done
  # The readiness probe is a session but no message; counters below only look at mesg=.
}
# Messages the sink has received so far (from its -c counters, separated by CR).
sink_count() {
  local n
  n=$(tail -c 200 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n 1 | cut -d= -f2)
  echo "${n:-0}"
}
# SMTP sessions the sink has seen so far (a client that reuses connections needs fewer than one per message).
sink_sessions() {
  local n
  n=$(tail -c 200 "$SINK_OUT" | tr '\r' '\n' | grep -o 'sess=[0-9]*' | tail -n 1 | cut -d= -f2)
  echo "${n:-0}"
}
# wait_delivered COUNT TIMEOUT: polls the sink every 50 ms; prints the time the count was reached (or nothing).
wait_delivered() {
  local want=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if (($(sink_count) >= want)); then now; return 0; fi
    sleep 0.05
  done
  return 1
}

# ---------------------------------------------------------------- systems under test
# start_gateway NAME SINKPORT: sets SUT_PORT, SUT_PID.
start_gateway() {
  local name=$1 sinkport=$2 data="$WORK/$1/data"
  mkdir -p "$data"
  SUT_PORT=$(free_port)
  local prefix=()
  [[ -n ${GATEWAY_WRAPPER:-} ]] && read -r -a prefix <<<"$GATEWAY_WRAPPER"
  env Vault__DataDirectory="$data" Smtp__Port="$SUT_PORT" Smtp__ListenAddress=127.0.0.1 \
    Delivery__Mode=Smarthost Delivery__SmarthostHost=127.0.0.1 Delivery__SmarthostPort="$sinkport" \
    Delivery__Tls=None Queue__PollInterval=00:00:00.050 Logging__LogLevel__Default="${GATEWAY_LOG_LEVEL:-Warning}" DOTNET_PerfMapEnabled="${PERF_MAP:-0}" \
    DOTNET_EnableWriteXorExecute="$([[ -n ${PERF_MAP:-} ]] && echo 0 || echo 1)" \
    ${GATEWAY_EXTRA_ENV:-} ${BENCH_GATEWAY_ENV:-} "${prefix[@]}" dotnet "$GATEWAY_DLL" >"$WORK/$name.gateway.log" 2>&1 &
  SUT_PID=$!
  PIDS+=("$SUT_PID")
  wait_port "$SUT_PORT" 90 || { tail -n 20 "$WORK/$name.gateway.log" >&2; die "gateway did not listen on $SUT_PORT"; }
}
stop_gateway() {
  # Under a wrapper (strace) the dotnet process is its child: stop that first so the wrapper can report.
  local child
  for child in $(pgrep -P "$SUT_PID" 2>/dev/null || true); do kill "$child" 2>/dev/null || true; done
  stop_pid "$SUT_PID"
  if grep -q '"LogLevel":"\(Error\|Critical\)"' "$WORK/$1.gateway.log"; then
    log "gateway $1 logged errors:"; grep '"LogLevel":"\(Error\|Critical\)"' "$WORK/$1.gateway.log" | head -n 3 >&2
  fi
  KEEP_LOGS+=("$WORK/$1.gateway.log")
}

# start_postfix NAME SINKPORT: a private instance (own config, queue and data directories), fsync on (default).
start_postfix() {
  local name=$1 sinkport=$2 base="$WORK/$1"
  local conf="$base/conf"
  mkdir -p "$conf" "$base/queue" "$base/data"
  chmod 755 "$base"
  chown postfix "$base/data"
  SUT_PORT=$(free_port)
  cat >"$conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $base/queue
data_directory = $base/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$sinkport
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file_prefixes = $base
maillog_file = $base/maillog
biff = no
EOF
  cat >"$conf/master.cf" <<EOF
127.0.0.1:$SUT_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  POSTFIX_CONFS+=("$conf")
  # postfix(1) reports to stderr only on a terminal: script(1) gives it one so a failure is readable.
  if ! script -qec "$POSTFIX -c $conf start" /dev/null >"$base/start.log" 2>&1; then
    cat "$base/start.log" >&2; [[ -f $base/maillog ]] && tail -n 20 "$base/maillog" >&2
    die "postfix did not start"
  fi
  wait_port "$SUT_PORT" 30 || { cat "$base/maillog" >&2; die "postfix smtpd did not listen on $SUT_PORT"; }
}
stop_postfix() {
  local conf="$WORK/$1/conf"
  "$POSTFIX" -c "$conf" stop >/dev/null 2>&1 || log "postfix $1 stop failed"
  # Wait for the master to go away before the next run starts.
  local pidfile="$WORK/$1/queue/pid/master.pid" i
  for i in $(seq 100); do
    [[ -f $pidfile ]] && kill -0 "$(tr -d ' ' <"$pidfile")" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q 'fatal\|panic' "$WORK/$1/maillog" 2>/dev/null; then
    log "postfix $1 logged:"; grep 'fatal\|panic' "$WORK/$1/maillog" | head -n 3 >&2
  fi
}

start_sut() {
  case $1 in
    gateway) GATEWAY_EXTRA_ENV="" start_gateway "$2" "$3" ;;
    secure) GATEWAY_EXTRA_ENV="$SECURE_ENV" start_gateway "$2" "$3" ;;
    *) start_postfix "$2" "$3" ;;
  esac
}
stop_sut() { if [[ $1 == postfix ]]; then stop_postfix "$2"; else stop_gateway "$2"; fi; }

# ---------------------------------------------------------------- measurements
DATE=$(date -u +%Y%m%d)
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
if [[ $MODE == quick ]]; then CSV="$RESULTS/relay-quick-$DATE.csv"; else CSV="$RESULTS/relay-${BENCH_TAG:+$BENCH_TAG-}$DATE.csv"; fi
[[ $MODE == profile ]] && CSV="$WORK/profile.csv"
[[ $MODE == big ]] && CSV="$WORK/unused.csv"   # --big writes its own results/big-*.csv
HEADER="run_id,started_utc,mode,system,size_bytes,sessions,rep,sent,delivered,submit_s,deliver_s,submit_msgs_per_s,delivered_msgs_per_s,lat_p50_ms,lat_p95_ms,lat_max_ms,complete,sut_cpu_s,sut_cpu_ms_per_msg,sink_sessions"
if [[ -f $CSV && $(head -n 1 "$CSV") != "$HEADER" ]]; then
  mv "$CSV" "${CSV%.csv}.old-format-$(date -u +%H%M%S).csv"   # written by an older version of this script
fi
[[ -f $CSV ]] || echo "$HEADER" >"$CSV"
INCOMPLETE=0
KEEP_LOGS=()

# sut_cpu_ticks SYSTEM NAME: CPU time (user+system, clock ticks) used so far by the system under test: the gateway
# process; for Postfix its master, the daemons alive now, and (through the master's cutime/cstime) the daemons
# that already exited. The difference across the measured window is the CPU the relay cost.
sut_cpu_ticks() {
  local pids=() master
  if [[ $1 != postfix ]]; then
    pids=("$SUT_PID")
    for master in $(pgrep -P "$SUT_PID" || true); do pids+=("$master"); done   # dotnet under a wrapper
  else
    master=$(tr -d ' ' <"$WORK/$2/queue/pid/master.pid")
    pids=("$master")
    for child in $(pgrep -P "$master" || true); do pids+=("$child"); done
  fi
  local pid total=0 fields
  for pid in "${pids[@]}"; do
    # Fields after the ")" of the command name: utime is the 12th, stime 13th, cutime 14th, cstime 15th.
    fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$fields")))
  done
  echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# throughput SYSTEM SIZE REP: 20 sessions; delivered msg/s = messages counted at the sink / (first send .. last arrival).
throughput() {
  local system=$1 size=$2 rep=$3 count=${COUNT[$2]} name="tp-$1-$2-$3" WARMUP=$WARMUP
  [[ $system == secure ]] && count=${SECURE_COUNT[$2]:-$count} WARMUP=$SECURE_WARMUP
  start_sink "$name"
  local sink_port=$SINK_PORT sink_pid=$SINK_PID
  start_sut "$system" "$name" "$sink_port"
  local started t0 t1 t2 src_rc=0 pre=0 subject=()
  if [[ $system == secure ]]; then
    # One flagged message with X-SecureMailbox-Phone: the recipient becomes a pending account with a number.
    python3 "$BENCH_DIR/secure.py" prime "$SUT_PORT" sender@bench.example rcpt@bench.example "$SECURE_PHONE" \
      >"$WORK/$name.prime.out" 2>&1 || die "priming message failed: $(tail -c 300 "$WORK/$name.prime.out")"
    wait_delivered 1 60 >/dev/null || die "priming message: no notification reached the sink"
    pre=1
    subject=(-S "$SECURE_SUBJECT")
  fi
  # Unmeasured warm-up through the whole path; timing starts once the sink has all of it.
  "$SMTP_SOURCE" -s "$SESSIONS" -l "$size" -m "$WARMUP" -f sender@bench.example -t rcpt@bench.example "${subject[@]}" \
    -M bench.localdomain "127.0.0.1:$SUT_PORT" >"$WORK/$name.warmup.out" 2>&1 || die "warm-up failed: $(tail -c 300 "$WORK/$name.warmup.out")"
  wait_delivered "$((pre + WARMUP))" 300 >/dev/null || die "warm-up: the sink got $(sink_count) of $((pre + WARMUP)) messages"
  sleep 3   # idle: lets the gateway's background tier-1 JIT catch up
  local tracer=""
  if [[ -n ${STRACE_OUT:-} ]]; then
    # Attach to the whole system under test after the warm-up: the gateway's threads, or Postfix's master
    # and the daemons it already forked (-f follows the ones forked later).
    local targets=(-p "$SUT_PID")
    if [[ $system == postfix ]]; then
      local master child
      master=$(tr -d ' ' <"$WORK/$name/queue/pid/master.pid")
      targets=(-p "$master")
      for child in $(pgrep -P "$master" || true); do targets+=(-p "$child"); done
    fi
    strace -f -c -w -o "$STRACE_OUT" "${targets[@]}" 2>"$WORK/$name.strace.err" &
    tracer=$!
    sleep 2
  elif [[ -n ${PERF_DATA:-} ]]; then
    perf record -F 499 -g -o "$PERF_DATA" -p "$SUT_PID" >"$WORK/$name.perf.out" 2>&1 &
    tracer=$!
    sleep 1
  fi
  local cpu0 cpu1 sess0 sess1
  cpu0=$(sut_cpu_ticks "$system" "$name")
  sess0=$(sink_sessions)
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  t0=$(now)
  "$SMTP_SOURCE" -s "$SESSIONS" -l "$size" -m "$count" -f sender@bench.example -t rcpt@bench.example "${subject[@]}" \
    -M bench.localdomain "127.0.0.1:$SUT_PORT" >"$WORK/$name.source.out" 2>&1 || src_rc=$?
  t1=$(now)
  ((src_rc == 0)) || log "smtp-source exited $src_rc: $(tail -c 300 "$WORK/$name.source.out")"
  local timeout=$((60 + count / 10)) complete=yes
  t2=$(wait_delivered "$((pre + WARMUP + count))" "$timeout") || { complete=no; t2=$(now); INCOMPLETE=1; }
  cpu1=$(sut_cpu_ticks "$system" "$name")
  sess1=$(sink_sessions)
  if [[ -n $tracer ]]; then kill -INT "$tracer" 2>/dev/null || true; wait "$tracer" 2>/dev/null || true; fi
  local delivered
  delivered=$(($(sink_count) - pre - WARMUP))
  stop_sut "$system" "$name"
  stop_pid "$sink_pid"
  ((src_rc == 0)) || { complete=no; INCOMPLETE=1; }
  awk -v id="$RUN_ID" -v st="$started" -v mode=throughput -v sys="$system" -v size="$size" -v s="$SESSIONS" -v rep="$rep" \
      -v sent="$count" -v del="$delivered" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c="$complete" \
      -v cpu="$(((cpu1 - cpu0)))" -v hz="$CLK_TCK" -v sess="$((sess1 - sess0))" 'BEGIN {
    sub_s = t1 - t0; del_s = t2 - t0; cpu_s = cpu / hz
    printf "%s,%s,%s,%s,%d,%d,%d,%d,%d,%.3f,%.3f,%.1f,%.1f,,,,%s,%.2f,%.3f,%d\n", id, st, mode, sys, size, s, rep, sent, del, sub_s, del_s, sent / sub_s, del / del_s, c, cpu_s, (del > 0 ? cpu_s * 1000 / del : 0), sess
  }' | tee -a "$CSV" >&2
}

# latency SYSTEM SIZE REP: one SMTP session (bench/latency.py send), one message at a time, LAT_GAP apart, after
# LAT_WARMUP unmeasured messages. Each message carries X-Bench-Sent (time.time_ns() just before MAIL FROM); the
# next hop is bench/latency.py sink, which notes time.time_ns() when the final "." arrives.
# Latency = arrival - X-Bench-Sent: submission + spool/queue + relay to the next hop, end to end.
latency() {
  local system=$1 size=$2 rep=$3 name="lat-$1-$2-$3"
  local sink_port arrivals="$WORK/$name.arrivals" sink_pid
  sink_port=$(free_port)
  : >"$arrivals"
  python3 "$BENCH_DIR/latency.py" sink "$sink_port" "$arrivals" >"$WORK/$name.sink.out" 2>&1 &
  sink_pid=$!
  PIDS+=("$sink_pid")
  wait_port "$sink_port" 10 || die "latency sink did not listen: $(cat "$WORK/$name.sink.out")"
  start_sut "$system" "$name" "$sink_port"
  sleep 1
  # Warm-up: a burst of WARMUP/2 plain messages (20 sessions, no timestamp: ignored below), then the
  # LAT_WARMUP first timed messages are dropped too.
  local burst=$((WARMUP / 2))
  "$SMTP_SOURCE" -s "$SESSIONS" -l "$size" -m "$burst" -f sender@bench.example -t rcpt@bench.example \
    -M bench.localdomain "127.0.0.1:$SUT_PORT" >"$WORK/$name.warmup.out" 2>&1 || die "warm-up failed: $(tail -c 300 "$WORK/$name.warmup.out")"
  local i
  for ((i = 0; i < 1200; i++)); do
    (($(wc -l <"$arrivals") >= burst)) && break
    sleep 0.1
  done
  sleep 3
  local started src_rc=0 complete=yes total=$((burst + LAT_WARMUP + LAT_COUNT))
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  python3 "$BENCH_DIR/latency.py" send "$SUT_PORT" "$((LAT_WARMUP + LAT_COUNT))" "$size" "$LAT_GAP" "$WORK/$name.submits" \
    >"$WORK/$name.source.out" 2>&1 || src_rc=$?
  for ((i = 0; i < 300; i++)); do
    (($(wc -l <"$arrivals") >= total)) && break
    sleep 0.1
  done
  (($(wc -l <"$arrivals") >= total)) || { complete=no; INCOMPLETE=1; }
  stop_sut "$system" "$name"
  stop_pid "$sink_pid"
  ((src_rc == 0)) || { complete=no; INCOMPLETE=1; log "latency sender exited $src_rc: $(tail -c 300 "$WORK/$name.source.out")"; }
  # Drop the warm-up messages (the first LAT_WARMUP sent), then latency in ms, sorted.
  sort -n "$WORK/$name.submits" | tail -n +"$((LAT_WARMUP + 1))" | cut -d' ' -f1 >"$WORK/$name.measured"
  awk 'NR == FNR { keep[$1] = 1; next } ($1 in keep) { printf "%.3f\n", ($2 - $1) / 1e6 }' "$WORK/$name.measured" "$arrivals" | sort -n >"$WORK/$name.ms"
  local delivered
  delivered=$(wc -l <"$WORK/$name.ms")
  ((delivered == LAT_COUNT)) || complete=no
  awk -v id="$RUN_ID" -v st="$started" -v sys="$system" -v size="$size" -v rep="$rep" -v sent="$LAT_COUNT" -v del="$delivered" -v c="$complete" '
    { v[NR] = $1 }
    END {
      p50 = NR ? v[int((NR - 1) * 0.50) + 1] : 0; p95 = NR ? v[int((NR - 1) * 0.95) + 1] : 0; mx = NR ? v[NR] : 0
      printf "%s,%s,latency,%s,%d,1,%d,%d,%d,,,,,%.1f,%.1f,%.1f,%s,,,\n", id, st, sys, size, rep, sent, del, p50, p95, mx, c
    }' "$WORK/$name.ms" | tee -a "$CSV" >&2
}

# ---------------------------------------------------------------- profile mode
# Where the gateway's time goes (not part of the comparison figures; tracing slows the runs down):
#   1. fsync cost on this file system (python3: write 1 KiB + fsync a file; fsync a directory);
#   2. a gateway run with Information logs: per-stage rates and lags from the log timestamps
#      (Accepted = 250 sent after the spool fsync; Queued = row in SQLite; done = relayed and row deleted);
#   3. `strace -f -c` of the gateway and of Postfix's master (following its children): syscalls per message;
#   4. `perf record -g` of the gateway with DOTNET_PerfMapEnabled=1 (JIT'd frames named).
if [[ $MODE == profile ]]; then
  PROFILE_DIR="$RESULTS/profile-${BENCH_TAG:+$BENCH_TAG-}$DATE"
  mkdir -p "$PROFILE_DIR"
  PROFILE_COUNT=2000
  COUNT[1024]=$PROFILE_COUNT

  log "1/4 fsync cost on $WORK"
  python3 - "$WORK" >"$PROFILE_DIR/fsync.txt" <<'PY'
import os, statistics, sys, time
d = os.path.join(sys.argv[1], "fsync-test"); os.makedirs(d, exist_ok=True)
def bench(label, fn, n=300):
    samples = []
    for i in range(n):
        t = time.perf_counter_ns(); fn(i); samples.append((time.perf_counter_ns() - t) / 1e6)
    samples.sort()
    print(f"{label}: median {statistics.median(samples):.3f} ms, p95 {samples[int(n * 0.95)]:.3f} ms ({n} samples)")
def write_fsync(i):
    with open(os.path.join(d, f"f{i}"), "wb") as f:
        f.write(b"x" * 1024); f.flush(); os.fsync(f.fileno())
def dir_fsync(i):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY); os.fsync(fd); os.close(fd)
def create_rename_dirfsync(i):
    a, b = os.path.join(d, f"g{i}.tmp"), os.path.join(d, f"g{i}")
    with open(a, "wb") as f:
        f.write(b"x" * 1024); f.flush(); os.fsync(f.fileno())
    os.rename(a, b); dir_fsync(i)
bench("create + write 1 KiB + fsync(file)", write_fsync)
bench("fsync(directory)", dir_fsync)
bench("create + write + fsync(file) + rename + fsync(directory)", create_rename_dirfsync)
PY
  cat "$PROFILE_DIR/fsync.txt" >&2

  log "2/4 gateway with Information logs, ${PROFILE_COUNT} x 1 KiB"
  GATEWAY_LOG_LEVEL=Information
  throughput gateway 1024 1
  GATEWAY_LOG_LEVEL=Warning
  python3 - "$WORK/tp-gateway-1024-1.gateway.log" "$WARMUP" >"$PROFILE_DIR/stages.txt" <<'PY'
import json, statistics, sys
from datetime import datetime
stamp = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
events = {"accepted": {}, "queued": {}, "done": {}}
for line in open(sys.argv[1], encoding="utf-8"):
    try: e = json.loads(line)
    except ValueError: continue
    m, st = e.get("Message", ""), e.get("State", {})
    if m.startswith("Accepted "): events["accepted"][st.get("SpoolId")] = stamp(e["Timestamp"])
    elif m.startswith("Queued "): events["queued"][st.get("QueueId")] = stamp(e["Timestamp"])
    elif " done: " in m: events["done"][st.get("QueueId")] = stamp(e["Timestamp"])
warm = int(sys.argv[2])
order = sorted(events["accepted"], key=events["accepted"].get)[warm:]
print(f"messages after the {warm} warm-up ones: {len(order)}")
t0 = min(events["accepted"][i] for i in order)
for stage in ("accepted", "queued", "done"):
    ts = [events[stage][i] for i in order if i in events[stage]]
    span = max(ts) - t0
    print(f"{stage:9s}: {len(ts)} messages, last at +{span:.2f} s -> {len(ts) / span:.1f} msg/s")
def lag(a, b):
    v = sorted((events[b][i] - events[a][i]) * 1000 for i in order if i in events[a] and i in events[b])
    return f"median {statistics.median(v):.0f} ms, p95 {v[int(len(v) * 0.95)]:.0f} ms, max {v[-1]:.0f} ms"
print("lag accepted -> queued:", lag("accepted", "queued"))
print("lag queued   -> done:  ", lag("queued", "done"))
PY
  cat "$PROFILE_DIR/stages.txt" >&2

  log "3/4 strace -f -c: gateway, then Postfix (${PROFILE_COUNT} x 1 KiB each)"
  STRACE_OUT="$PROFILE_DIR/strace-gateway.txt"
  throughput gateway 1024 2
  STRACE_OUT="$PROFILE_DIR/strace-postfix.txt"
  throughput postfix 1024 2
  unset STRACE_OUT

  log "4/4 perf record -g of the gateway (${PROFILE_COUNT} x 1 KiB)"
  if perf stat -e task-clock true >/dev/null 2>&1; then
    PERF_DATA="$WORK/perf.data" PERF_MAP=1
    throughput gateway 1024 3
    # Flat profiles: by thread name and library (".NET Tiered Com" = the background JIT), then by symbol.
    perf report -i "$PERF_DATA" --stdio --no-children -g none --sort comm,dso --percent-limit 0.5 2>/dev/null \
      | grep -v '^$' | head -n 60 >"$PROFILE_DIR/perf-gateway-dso.txt" || true
    perf report -i "$PERF_DATA" --stdio --no-children -g none --sort comm,dso,sym --percent-limit 0.3 2>/dev/null \
      | grep -v '^$' | head -n 200 >"$PROFILE_DIR/perf-gateway.txt" || true
    unset PERF_DATA PERF_MAP
  else
    log "perf does not work here: skipped"
  fi
  cp "$CSV" "$PROFILE_DIR/runs.csv"
  log "written $PROFILE_DIR"
  exit 0
fi

# ---------------------------------------------------------------- big mode
# One large message through the gateway, flagged (vaulted, one notification at the sink) and plain (relayed whole
# to the sink), alternating, BIG_REPS times each. The message is generated by bench/secure.py make: a text part
# and an attachment of BENCH_BIG_ATTACHMENT random bytes (default 114,800,000), base64 in 76-character lines, so
# the file is just under Smtp__MaxMessageSize = 157286400 (150 MiB, the default, set explicitly here).
# Before it, BIG_WARMUP messages of 100 KiB of the same kind, then 3 s idle: the "steady" RSS is taken after them.
# secure.py send times the DATA phase (DATA command -> 354 -> last byte sent -> 250) and the arrival at the sink,
# and samples VmRSS/VmHWM of the gateway every 50 ms; the timeline goes to results/big-DATE/KIND-REP.rss.
if [[ $MODE == big ]]; then
  BIG_ATTACHMENT=${BENCH_BIG_ATTACHMENT:-114800000}
  BIG_REPS=${BENCH_BIG_REPS:-2}
  BIG_WARMUP=${BENCH_BIG_WARMUP:-200}
  BIG_MAX=157286400
  BIG_DIR="$RESULTS/big-${BENCH_TAG:+$BENCH_TAG-}$DATE"
  BIG_CSV="$RESULTS/big-${BENCH_TAG:+$BENCH_TAG-}$DATE.csv"
  mkdir -p "$BIG_DIR"
  BIG_HEADER="run_id,started_utc,kind,rep,message_bytes,t_354_s,t_last_byte_s,t_250_s,t_sink_s,rss_before_kib,hwm_before_kib,rss_peak_sampled_kib,rss_after_kib,hwm_after_kib,complete"
  [[ -f $BIG_CSV ]] || echo "$BIG_HEADER" >"$BIG_CSV"
  for kind in secure plain; do
    log "generating the $kind message (attachment $BIG_ATTACHMENT bytes)"
    size=$(python3 "$BENCH_DIR/secure.py" make "$WORK/big-$kind.eml" "$BIG_ATTACHMENT" "$kind" sender@bench.example rcpt@bench.example "$SECURE_PHONE")
    ((size <= BIG_MAX)) || die "the $kind message is $size bytes, over $BIG_MAX"
    log "$kind message: $size bytes"
  done
  for ((rep = 1; rep <= BIG_REPS; rep++)); do
    for kind in secure plain; do
      name="big-$kind-$rep"
      log "big $kind rep=$rep"
      start_sink "$name"
      sink_pid=$SINK_PID
      GATEWAY_EXTRA_ENV="$SECURE_ENV Smtp__MaxMessageSize=$BIG_MAX" start_gateway "$name" "$SINK_PORT"
      pre=0 subject=()
      if [[ $kind == secure ]]; then
        python3 "$BENCH_DIR/secure.py" prime "$SUT_PORT" sender@bench.example rcpt@bench.example "$SECURE_PHONE" \
          >"$WORK/$name.prime.out" 2>&1 || die "priming message failed: $(tail -c 300 "$WORK/$name.prime.out")"
        pre=1 subject=(-S "$SECURE_SUBJECT")
      fi
      "$SMTP_SOURCE" -s "$SESSIONS" -l 102400 -m "$BIG_WARMUP" -f sender@bench.example -t rcpt@bench.example "${subject[@]}" \
        -M bench.localdomain "127.0.0.1:$SUT_PORT" >"$WORK/$name.warmup.out" 2>&1 || die "warm-up failed: $(tail -c 300 "$WORK/$name.warmup.out")"
      wait_delivered "$((pre + BIG_WARMUP))" 300 >/dev/null || die "warm-up: the sink got $(sink_count) of $((pre + BIG_WARMUP))"
      sleep 3
      # BENCH_BIG_TIMES=N sends the message N times in a row to the same gateway (rep column: REP.1, REP.2, ...):
      # does a second message raise the high-water mark again, or was the growth a one-off?
      for ((send = 1; send <= ${BENCH_BIG_TIMES:-1}; send++)); do
        tag=$rep; ((${BENCH_BIG_TIMES:-1} > 1)) && tag="$rep.$send"
        started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        complete=yes
        row=$(python3 "$BENCH_DIR/secure.py" send "$SUT_PORT" "$WORK/big-$kind.eml" sender@bench.example rcpt@bench.example \
          "$SUT_PID" "$SINK_OUT" "$((pre + BIG_WARMUP + send))" "$RUN_ID,$started,$kind,$tag" 2>"$BIG_DIR/$kind-$tag.rss") \
          || { complete=no; INCOMPLETE=1; row="$RUN_ID,$started,$kind,$tag,,,,,,,,,,"; log "send failed: $(tail -n 3 "$BIG_DIR/$kind-$tag.rss")"; }
        [[ $row == *,nan,* ]] && { complete=no; INCOMPLETE=1; }
        echo "$row,$complete" | tee -a "$BIG_CSV" >&2
      done
      stop_gateway "$name"
      stop_pid "$sink_pid"
    done
  done
  ((INCOMPLETE)) && die "some big-message runs failed (complete=no in $BIG_CSV)"
  log "done: $BIG_CSV"
  exit 0
fi

# ---------------------------------------------------------------- the run
log "machine: $(nproc) cores; $(free -h | awk '/^Mem:/ { print $2 " memory, " $7 " available" }'); results: $CSV"
for size in "${SIZES[@]}"; do
  for ((rep = 1; rep <= REPS; rep++)); do
    for system in "${SYSTEMS[@]}"; do
      log "throughput $system size=$size rep=$rep ($([[ $system == secure ]] && echo "${SECURE_COUNT[$size]}" || echo "${COUNT[$size]}") messages, $SESSIONS sessions)"
      throughput "$system" "$size" "$rep"
    done
  done
done
((${BENCH_LATENCY:-1})) && for size in "${SIZES[@]}"; do
  for ((rep = 1; rep <= REPS; rep++)); do
    for system in gateway postfix; do
      log "latency $system size=$size rep=$rep ($LAT_COUNT sequential messages)"
      latency "$system" "$size" "$rep"
    done
  done
done

# ---------------------------------------------------------------- summary and plot
SUMMARY="$RESULTS/summary${BENCH_TAG:+-$BENCH_TAG}.csv"
[[ $MODE == quick ]] && SUMMARY="$RESULTS/summary-quick.csv"
awk -F, -v id="$RUN_ID" '$1 == id {
    key = $4 SUBSEP $5
    if ($3 == "throughput") {
      tp[key] = tp[key] " " $13; sub_[key] = sub_[key] " " $12; cpu[key] = cpu[key] " " $19
      rate[$4 SUBSEP $5 SUBSEP $7] = $13
    }
    else { p50[key] = p50[key] " " $14; p95[key] = p95[key] " " $15 }
    sizes[$5] = 1
  }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    if (n == 0) return ""
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  # Median over repetitions of rate(A)/rate(B), each pair from the same repetition (neighbouring runs).
  function paired(a, b, s,   k, f, pairs, pr) {
    pairs = ""
    for (k in rate) {
      split(k, f, SUBSEP)
      if (f[1] == a && f[2] == s && ((b SUBSEP s SUBSEP f[3]) in rate) && rate[b SUBSEP s SUBSEP f[3]] > 0)
        pairs = pairs " " rate[k] / rate[b SUBSEP s SUBSEP f[3]]
    }
    pr = median(pairs)
    return pr == "" ? "" : sprintf("%.2f", pr)
  }
  END {
    print "size_bytes,gateway_delivered_msgs_per_s,postfix_delivered_msgs_per_s,ratio_gateway_postfix,median_paired_ratio,gateway_submit_msgs_per_s,postfix_submit_msgs_per_s,gateway_cpu_ms_per_msg,postfix_cpu_ms_per_msg,gateway_lat_p50_ms,gateway_lat_p95_ms,postfix_lat_p50_ms,postfix_lat_p95_ms,secure_delivered_msgs_per_s,ratio_secure_gateway,ratio_secure_postfix,paired_secure_gateway,paired_secure_postfix,secure_submit_msgs_per_s,secure_cpu_ms_per_msg"
    for (s in sizes) {
      g = median(tp["gateway" SUBSEP s]); p = median(tp["postfix" SUBSEP s])
      # Each gateway run against the Postfix run right after it (same repetition): the pair saw the same load.
      pairs = ""
      for (k in rate) {
        split(k, f, SUBSEP)
        if (f[1] == "gateway" && f[2] == s && (("postfix" SUBSEP s SUBSEP f[3]) in rate) && rate["postfix" SUBSEP s SUBSEP f[3]] > 0)
          pairs = pairs " " rate[k] / rate["postfix" SUBSEP s SUBSEP f[3]]
      }
      pr = median(pairs)
      sc = median(tp["secure" SUBSEP s])
      printf "%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", s, g, p, (p > 0 ? sprintf("%.2f", g / p) : ""), (pr == "" ? "" : sprintf("%.2f", pr)),
        median(sub_["gateway" SUBSEP s]), median(sub_["postfix" SUBSEP s]),
        median(cpu["gateway" SUBSEP s]), median(cpu["postfix" SUBSEP s]),
        median(p50["gateway" SUBSEP s]), median(p95["gateway" SUBSEP s]), median(p50["postfix" SUBSEP s]), median(p95["postfix" SUBSEP s]),
        sc, (sc != "" && g > 0 ? sprintf("%.2f", sc / g) : ""), (sc != "" && p > 0 ? sprintf("%.2f", sc / p) : ""),
        paired("secure", "gateway", s), paired("secure", "postfix", s),
        median(sub_["secure" SUBSEP s]), median(cpu["secure" SUBSEP s])
    }
  }' "$CSV" | (read -r h; echo "$h"; sort -t, -k1,1n) >"$SUMMARY"
log "medians ($SUMMARY):"
column -s, -t "$SUMMARY" >&2 2>/dev/null || cat "$SUMMARY" >&2

PNG="$RESULTS/relay${BENCH_TAG:+-$BENCH_TAG}.png"
[[ $MODE == quick ]] && PNG="$RESULTS/relay-quick.png"
if have gnuplot; then
  # columns: label, gateway, postfix, gateway/postfix, secure, secure/gateway, secure/postfix ("-" when absent)
  awk -F, 'NR > 1 { printf "\"%s KiB\" %s %s %s %s %s %s\n", $1 / 1024, $2, $3, $4, ($14 == "" ? 0 : $14), ($15 == "" ? 0 : $15), ($16 == "" ? 0 : $16) }' "$SUMMARY" >"$WORK/plot.dat"
  gnuplot <<EOF || die "gnuplot failed"
set terminal pngcairo size 900,560 font "sans,11" noenhanced
set output "$PNG"
set title "20 sessions, delivered msg/s at smtp-sink (median of $REPS, $(date -u +%Y-%m-%d), $(nproc) cores)\nsecure = vaulted msg/s (one notification per message)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "messages/s delivered"
set xlabel "message size (smtp-source -l)"
set yrange [0:*]
set grid ytics
set key top right
plot "$WORK/plot.dat" using 2:xtic(1) title "gateway, plain relay" lc rgb "#d95f02", \
     "" using 5 title "gateway, secure (vaulted)" lc rgb "#7570b3", \
     "" using 3 title "Postfix 3.7 (fsync on)" lc rgb "#1b9e77", \
     "" using (\$0-0.25):2:(sprintf("%.0f\\nx%.2f P", \$2, \$4)) with labels offset 0,1.8 notitle, \
     "" using 0:5:(sprintf("%.0f\\nx%.2f G\\nx%.2f P", \$5, \$6, \$7)) with labels offset 0,2.4 notitle, \
     "" using (\$0+0.25):3:(sprintf("%.0f", \$3)) with labels offset 0,0.8 notitle
EOF
  log "plot: $PNG"
else
  log "gnuplot is not installed: no plot"
fi
if ((INCOMPLETE)); then
  die "some runs did not deliver every message (complete=no in $CSV)"
fi
log "done"
