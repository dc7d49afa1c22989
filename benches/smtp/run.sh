#!/usr/bin/env bash
# SMTP acceptance benchmark: Postfix's smtp-source against Postel's port-25
# listener (SPF/DKIM/DMARC on, DNS from a local dnsmasq, greylisting on and
# pre-passed), side by side with Postfix -> Dovecot LMTP from Debian
# (../shared/bench), plus the raw durable-write bound of this disk.
#
# Usage (as root, from the repository root):
#   bash benches/smtp/run.sh [MSGS] [REPS]      defaults: 2000 3
# Prints one line per run, the load (`uptime`) before each part, and the
# raw bound; paste them into docs/benchmarks.md together with `nproc`,
# `free -h` and the date. Stops the Postfix/Dovecot peer at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
MSGS=${1:-2000}
REPS=${2:-3}
PORT=10026
DNSPORT=10053
WORK=$(mktemp -d /var/tmp/postel-bench.XXXXXX)
# The team's peer harness: ../shared/bench from the main checkout; set
# SHARED for a worktree elsewhere (e.g. SHARED=/work/shared/bench).
SHARED=${SHARED:-../shared/bench}
PEER=""
trap 'kill $(jobs -p) 2>/dev/null || true; [ -z "$PEER" ] || sh "$SHARED/setup-postfix-dovecot.sh" stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

export DEBIAN_FRONTEND=noninteractive
command -v smtp-source >/dev/null || {
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y -qq postfix >/dev/null
}
command -v dnsmasq >/dev/null || apt-get install -y -qq dnsmasq-base >/dev/null

cargo build --release --locked -q
BIN=target/release/postel

# DNS: SPF passes for 127.0.0.1, a DMARC record exists (p=none), no DKIM.
# Records carry a TTL of 300 s as published zones do (dnsmasq's default
# for its own records is 0, which would defeat every cache).
dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=$DNSPORT --local-ttl=300 \
    --listen-address=127.0.0.1 --bind-interfaces --address=/#/ \
    --txt-record=bench.test,"v=spf1 ip4:127.0.0.1 -all" \
    --txt-record=_dmarc.bench.test,"v=DMARC1; p=none" \
    --ptr-record=1.0.0.127.in-addr.arpa,client.bench.test \
    --address=/client.bench.test/127.0.0.1 &
sleep 0.5

cat > "$WORK/postel.toml" <<TOML
[server]
hostname = "mail.bench.test"
data_dir = "$WORK/data"
[listen]
smtp = ["127.0.0.1:$PORT"]
submission = []
submissions = []
imap = []
imaps = []
pop3 = []
pop3s = []
[dns]
nameservers = ["127.0.0.1:$DNSPORT"]
[smtp]
relay_networks = []
# Load from one address: no per-address connection or sending limits.
[limits]
exceptions = ["127.0.0.0/8"]
messages_per_hour = 0
recipients_per_hour = 0
[greylist]
enabled = true
delay = "1s"
[log]
level = "warn"
TOML
P="$BIN -c $WORK/postel.toml"
$P domain add bench.test >/dev/null
echo pass | $P user add x@bench.test >/dev/null
# smtp-source -N numbers every recipient (1x@, 2x@, …), as in the peer set-up.
$P alias add @bench.test x@bench.test >/dev/null
$P serve &
PID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

count() { find "$WORK/data/mail/bench.test/x/new" "$WORK/data/mail/bench.test/x/cur" -type f | wc -l; }
source_run() { # sessions msgs
    /usr/sbin/smtp-source -N -s "$1" -m "$2" -l 4096 -f sender@bench.test -t x@bench.test \
        -M client.bench.test 127.0.0.1:$PORT
}
# Pre-pass greylisting: five triplets of this sender's SPF-authenticated
# domain are deferred once and pass on retry; after greylist.auto_allow_after
# (5) passes the domain is let through, but the stage still runs.
for i in 1 2 3 4 5; do
    one() { /usr/sbin/smtp-source -s 1 -m 1 -l 4096 -f sender@bench.test -t "pre$i@bench.test" \
        -M client.bench.test 127.0.0.1:$PORT; }
    one 2>/dev/null || true
    sleep 1.2
    one
done

# The raw bound of this (virtual, shared) disk moves by a factor of three
# within minutes, so it is measured right before each Postel run with as
# many writers as sessions, and the ratio is taken against that.
raw() { # writers
    python3 benches/smtp/raw_bound.py "$WORK/raw$1" "$1" $(( $1 == 1 ? 1000 : 4000 )) |
        python3 -c "import json,sys; print(json.load(sys.stdin)['per_s'])"
}
echo "== Postel ($MSGS messages of 4 KiB) -- load: $(uptime)"
for sessions in 1 20; do
    for rep in $(seq "$REPS"); do
        bound=$(raw "$sessions")
        before=$(count)
        t0=$(date +%s.%N)
        source_run "$sessions" "$MSGS"
        t1=$(date +%s.%N)
        after=$(count)
        rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
        python3 -c "import sys; m=$MSGS; s=$t1-$t0; print(f'postel sessions=$sessions rep=$rep accepted+delivered={$after-$before} time={s:.2f}s rate={m/s:.0f}/s ms_per_msg={1000*s/m:.2f} peak_rss={$rss/1024:.1f}MiB raw_bound_just_before={$bound}/s ratio={100*m/s/$bound:.0f}%')"
    done
done
kill -TERM $PID; wait $PID 2>/dev/null || true

echo "== raw durable Maildir write bound of this disk, once more -- load: $(uptime)"
# tmp/ create + write 4 KiB + fsync, rename into new/, fsync new/.
python3 benches/smtp/raw_bound.py "$WORK/raw20" 20 4000
python3 benches/smtp/raw_bound.py "$WORK/raw1" 1 1000

if [ ! -f "$SHARED/setup-postfix-dovecot.sh" ]; then
    echo "== Postfix -> Dovecot skipped: no $SHARED/setup-postfix-dovecot.sh (set SHARED)"
else
    echo "== Postfix -> Dovecot LMTP ($MSGS messages, 20 and 1 sessions) -- load: $(uptime)"
    # The team's peer set-up edits /etc/postfix/main.cf, which Debian does
    # not create under "No configuration".
    [ -f /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
    PEER=1
    sh "$SHARED/setup-postfix-dovecot.sh"
    python3 "$SHARED/smtp_bench.py" "$MSGS" 20 "$REPS"
    python3 "$SHARED/smtp_bench.py" "$MSGS" 1 "$REPS"
    sh "$SHARED/setup-postfix-dovecot.sh" stop
    PEER=""
fi
echo "== done -- load: $(uptime)"
