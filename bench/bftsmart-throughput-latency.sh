#!/usr/bin/env bash
# BFT-SMaRt's ThroughputLatency demo, 4 replicas on this host, for the side-by-side figures in BENCHMARKS.md
# ("Transaction throughput (issue 17)"). BFT-SMaRt's code is not part of Tally and is not on Maven Central: this
# script clones its public source (bft-smart/library), takes the dependencies its build.gradle names from Maven
# Central with mvn, compiles it with javac (no Gradle: its wrapper downloads Gradle from outside Maven Central),
# runs 4 ThroughputLatencyServer replicas (bftsmart.demo.microbenchmarks) and one ThroughputLatencyClient, and prints
# the latency percentiles and rate of the measured half (the client's second OPS/2 requests), the replicas' CPU per
# request and their throughput lines, with the load average before and after.
#
#   bench/bftsmart-throughput-latency.sh                 # no disk log
#   DURABLE=1 bench/bftsmart-throughput-latency.sh       # its request log on disk, synced
#   CLIENTS=40 INTERVAL_MS=10 bench/bftsmart-throughput-latency.sh   # ~ CLIENTS * 1000 / INTERVAL_MS requests/s offered
#
# Settings (environment): BFTSMART_SRC (an existing checkout; else cloned into $WORK/src from BFTSMART_REPO at
# BFTSMART_REF), WORK (default /tmp/bftsmart-bench), CLIENTS (client threads, 20), OPS (requests per client, half
# of them warm-up, 20000), REQUEST_SIZE (256), INTERVAL_MS (pause between a client's requests, 0 = closed loop),
# SIGN (nosig | default | ecdsa; nosig = MAC-authenticated requests only), SERVER_ARGS / CLIENT_ARGS (replace the
# argument lists, for a version of the demo whose usage differs: it prints its usage when they do not fit).
set -euo pipefail

WORK=${WORK:-/tmp/bftsmart-bench}
BFTSMART_REPO=${BFTSMART_REPO:-https://github.com/bft-smart/library.git}
BFTSMART_REF=${BFTSMART_REF:-master}
CLIENTS=${CLIENTS:-20}
OPS=${OPS:-20000}
REQUEST_SIZE=${REQUEST_SIZE:-256}
INTERVAL_MS=${INTERVAL_MS:-0}
SIGN=${SIGN:-nosig}
DURABLE=${DURABLE:-0}
REPLICAS=4
# What its build.gradle declares (bft-smart/library, version 2.0).
DEPS=(
    org.bouncycastle:bcpkix-jdk15on:1.69
    org.bouncycastle:bcprov-jdk15on:1.69
    commons-codec:commons-codec:1.15
    ch.qos.logback:logback-core:1.2.5
    ch.qos.logback:logback-classic:1.2.5
    io.netty:netty-all:4.1.67.Final
    org.slf4j:slf4j-api:1.7.32
)

die() { echo "bftsmart: $*" >&2; exit 1; }
command -v java >/dev/null && command -v javac >/dev/null || die "needs a JDK (java and javac) on PATH"
command -v mvn >/dev/null || die "needs Maven (mvn) to take the dependencies from Maven Central"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# 1. Source.
SRC=${BFTSMART_SRC:-$WORK/src}
if [ ! -d "$SRC/src" ]; then
    command -v git >/dev/null || die "needs git to clone $BFTSMART_REPO (or set BFTSMART_SRC to a checkout)"
    git clone --depth 1 --branch "$BFTSMART_REF" "$BFTSMART_REPO" "$SRC" \
        || die "cannot clone $BFTSMART_REPO at $BFTSMART_REF; set BFTSMART_SRC to a checkout made elsewhere"
fi
echo "bftsmart: source $SRC ($(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"

# 2. Dependencies from Maven Central (one Maven run over a throw-away pom), plus any jar the checkout ships in lib/.
mkdir -p "$WORK/lib" "$WORK/deps"
{
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local</groupId><artifactId>bftsmart-deps</artifactId><version>0</version><dependencies>'
    for d in "${DEPS[@]}"; do
        IFS=: read -r g a v <<< "$d"
        echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
} > "$WORK/deps/pom.xml"
mvn -B -ntp -q -Dstyle.color=never -f "$WORK/deps/pom.xml" dependency:copy-dependencies -DoutputDirectory="$WORK/lib" \
    || die "cannot fetch the dependencies from Maven Central (see above)"
if compgen -G "$SRC/lib/*.jar" >/dev/null; then cp "$SRC"/lib/*.jar "$WORK/lib/"; fi

# 3. Compile (the layout is src/bftsmart/... in 1.x/2.0 checkouts, src/main/java/... in others).
if [ ! -f "$WORK/classes/bftsmart/demo/microbenchmarks/ThroughputLatencyServer.class" ]; then
    rm -rf "$WORK/classes"; mkdir -p "$WORK/classes"
    find "$SRC/src" -name '*.java' -not -path '*/test/*' > "$WORK/sources.txt"
    javac -nowarn -encoding UTF-8 --release 11 -cp "$WORK/lib/*" -d "$WORK/classes" @"$WORK/sources.txt" \
        || die "javac failed on $SRC (see above)"
fi
CP="$WORK/classes:$WORK/lib/*"
# As its runscripts/smartrun.sh: BouncyCastle registered as a provider (its keys need it), its logging settings.
JAVA_OPTS=(-Djava.security.properties=./config/java.security -Dlogback.configurationFile=./config/logback.xml)

# 4. Configuration: its own config/, with 4 replicas on loopback and no saved view.
RUN=$WORK/run
rm -rf "$RUN"; mkdir -p "$RUN"
cp -r "$SRC/config" "$RUN/config"
rm -f "$RUN/config/currentView"
{
    for i in $(seq 0 $((REPLICAS - 1))); do echo "$i 127.0.0.1 $((11000 + 10 * i)) $((11001 + 10 * i))"; done
    echo "7001 127.0.0.1 11100"
} > "$RUN/config/hosts.config"
set_conf() { # key value: replaces the key's line in system.config, or adds it
    if grep -q "^$1 *=" "$RUN/config/system.config"; then
        sed -i "s|^$1 *=.*|$1 = $2|" "$RUN/config/system.config"
    else
        echo "$1 = $2" >> "$RUN/config/system.config"
    fi
}
set_conf system.servers.num "$REPLICAS"
set_conf system.servers.f 1
set_conf system.initial.view "0,1,2,3"
WRITE=""
if [ "$DURABLE" = 1 ]; then
    WRITE=rwd # the demo server writes each request to a file opened "rwd" (synced)
    set_conf system.totalordermulticast.log true
    set_conf system.totalordermulticast.log_to_disk true
    set_conf system.totalordermulticast.sync_log true
fi

cpu_ticks() { # utime + stime of the given pids, in clock ticks
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

# 5. Run.
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop EXIT
echo "bftsmart: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 0 $((REPLICAS - 1))); do
    # shellcheck disable=SC2086
    (cd "$RUN" && exec java "${JAVA_OPTS[@]}" -cp "$CP" bftsmart.demo.microbenchmarks.ThroughputLatencyServer \
        ${SERVER_ARGS:-$i 10000 0 0 false $SIGN $WRITE}) > "$RUN/replica$i.log" 2>&1 &
    PIDS+=($!)
    sleep 1
done
sleep 5
start_ticks=$(cpu_ticks "${PIDS[@]}")
start_ns=$(date +%s%N)
# The demo client prints "All clients done." but does not exit (its latency writer thread never ends): wait for the
# line, then stop it. Its latency file may lose the last few lines still in the writer's buffer.
# shellcheck disable=SC2086
(cd "$RUN" && exec java "${JAVA_OPTS[@]}" -cp "$CP" bftsmart.demo.microbenchmarks.ThroughputLatencyClient \
    ${CLIENT_ARGS:-1001 $CLIENTS $OPS $REQUEST_SIZE $INTERVAL_MS false false $SIGN}) > "$RUN/client.log" 2>&1 &
CLIENT=$!
PIDS+=("$CLIENT")
until grep -q "All clients done." "$RUN/client.log"; do
    kill -0 "$CLIENT" 2>/dev/null || { cat "$RUN/client.log"; die "the client stopped before it was done"; }
    sleep 1
done
end_ns=$(date +%s%N)
ticks=$(( $(cpu_ticks "${PIDS[@]:0:$REPLICAS}") - start_ticks ))
kill "$CLIENT" 2>/dev/null || true
sleep 1
grep -E "// (Average|Standard|Maximum)" "$RUN/client.log" || true
echo "bftsmart: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
requests=$((CLIENTS * OPS))
hz=$(getconf CLK_TCK)
awk -v t="$ticks" -v hz="$hz" -v n="$requests" -v ns=$((end_ns - start_ns)) 'BEGIN {
    printf "bftsmart: %d requests in %.1f s (%.0f/s, warm-up included); replica CPU %.1f s in all, %.0f us per request (4 replicas together)\n",
        n, ns / 1e9, n / (ns / 1e9), t / hz, t / hz * 1e6 / n }'
# The measured half: each client's requests after its first OPS/2 (lines: client id, completion time ms, latency ns).
awk -v warm=$((OPS / 2)) 'NF == 3 && ++seen[$1] > warm { print $2, $3 }' "$RUN/latencies_1001.txt" | sort -k2,2n > "$RUN/measured.txt"
awk '{ lat[NR] = $2; if (NR == 1 || $1 < t0) t0 = $1; if ($1 > t1) t1 = $1 }
    END {
        if (NR == 0) { print "bftsmart: no measured request in the latency file"; exit }
        printf "bftsmart: measured half: %d requests, %.0f/s completed; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
            NR, NR / ((t1 - t0) / 1000), lat[int(NR * 0.50) + 1] / 1e6, lat[int(NR * 0.90) + 1] / 1e6,
            lat[int(NR * 0.99) + 1] / 1e6, lat[NR] / 1e6 }' "$RUN/measured.txt"
echo "bftsmart: replica 0's throughput and latency lines:"
grep -E "Throughput|Total latency|Batch average" "$RUN/replica0.log" | tail -6
