#!/usr/bin/env bash
# Outbound queue benchmark (issue 4):
#  1. end to end: 20 concurrent submitters (AUTH on loopback) -> queue ->
#     MX delivery to a fast loopback sink (Postfix's smtp-sink on
#     127.0.0.2), time until the queue is empty;
#  2. recovery: 10,000 messages queued while the MX is down, Postel
#     restarted, time from the restart until the queue is empty.
# Usage (root, repository root):
#   bash benches/queue/run.sh [MSGS] [RECOVER] [BODY_LINES]
# BODY_LINES: lines of 73 octets per submitted message (50 = 3.6 KiB);
# RECOVER=0 skips the recovery part; RECOVER_SIZE (env, default 4096)
# sets the size of the messages queued for it. SUB, SMTP, SINK, DNSPORT
# (env) move the ports when another program holds the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
MSGS=${1:-2000}
RECOVER=${2:-10000}
LINES=${3:-50}
RECOVER_SIZE=${RECOVER_SIZE:-4096}   # octets per message queued for the recovery part
SUB=${SUB:-10587}
SMTP=${SMTP:-10026}
SINK=${SINK:-10025}
DNSPORT=${DNSPORT:-10053}
WORK=$(mktemp -d /var/tmp/postel-queuebench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cargo build --release --locked -q
BIN=target/release/postel
dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=$DNSPORT \
    --listen-address=127.0.0.1 --bind-interfaces --address=/#/ \
    --mx-host=remote.test,mx.remote.test,10 --address=/mx.remote.test/127.0.0.2 &
cat > "$WORK/postel.toml" <<TOML
[server]
hostname = "mail.bench.test"
data_dir = "$WORK/data"
[listen]
smtp = ["127.0.0.1:$SMTP"]
submission = ["127.0.0.1:$SUB"]
submissions = []
imap = []
imaps = []
pop3 = []
pop3s = []
[dns]
nameservers = ["127.0.0.1:$DNSPORT"]
[smtp]
relay_networks = ["127.0.0.1/32"]
[submission]
allow_plaintext_auth_on_loopback = true
# Load from one address: no per-address connection or sending limits.
[limits]
exceptions = ["127.0.0.0/8"]
messages_per_hour = 0
recipients_per_hour = 0
[greylist]
enabled = false
[queue]
retry = ["1s"]
[relay]
mx_port = $SINK
[log]
level = "warn"
TOML
P="$BIN -c $WORK/postel.toml"
$P domain add example.org >/dev/null
echo pass | $P user add alice@example.org >/dev/null
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; }
drain() { until $P queue list | grep -q "the queue is empty"; do sleep 0.2; done; }
# A bounce (e.g. another program answering on DNSPORT) also empties the
# queue: refuse to report figures when the sender got any notice.
no_bounces() {
    local n; n=$(find "$WORK/data/mail/example.org/alice" -path '*/new/*' -type f | wc -l)
    if [ "$n" -ne 0 ]; then echo "ABORT: $n delivery notices for alice; figures invalid" >&2; exit 1; fi
}
now() { date +%s.%N; }

smtp-sink -u nobody 127.0.0.2:$SINK 1000 &
SINKPID=$!
$P serve & PID=$!
wait_port $SUB
echo "== end to end: $MSGS messages of $LINES lines, 20 submitters, MX = smtp-sink"
t0=$(now)
python3 benches/queue/submit.py $SUB 20 $((MSGS / 20)) "$LINES"
t1=$(now)
drain
t2=$(now)
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
no_bounces
python3 -c "m=$MSGS; a=$t1-$t0; d=$t2-$t0; print(f'submitted {m} in {a:.2f}s ({m/a:.0f}/s); delivered all in {d:.2f}s ({m/d:.0f}/s); peak RSS {$rss/1024:.1f} MiB')"

if [ "$RECOVER" -eq 0 ]; then exit 0; fi
echo "== recovery: $RECOVER messages queued while the MX is down"
kill $SINKPID; wait $SINKPID 2>/dev/null || true
/usr/sbin/smtp-source -s 20 -m "$RECOVER" -l "$RECOVER_SIZE" -f alice@example.org -t bob@remote.test 127.0.0.1:$SMTP
kill -TERM $PID; wait $PID 2>/dev/null || true
queued=$($P queue list | grep -c "bob@remote.test" || true)
echo "queued before restart: $queued"
smtp-sink -u nobody 127.0.0.2:$SINK 1000 &
t0=$(now)
$P serve & PID=$!
$P queue flush >/dev/null
drain
t1=$(now)
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
no_bounces
python3 -c "n=$RECOVER; d=$t1-$t0; print(f'recovered and delivered {n} in {d:.2f}s after restart ({n/d:.0f}/s); peak RSS {$rss/1024:.1f} MiB')"
kill -TERM $PID; wait $PID 2>/dev/null || true
