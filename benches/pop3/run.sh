#!/usr/bin/env bash
# POP3 benchmark: RETR+DELE+QUIT of 1,000 and 10,000 messages against
# Postel and, in the same run, against Dovecot's POP3 from Debian
# (../shared/bench/pop3_bench.py, 1,000 messages).
#
# Usage (as root, from the repository root): bash benches/pop3/run.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-3}
PORT=10111
WORK=$(mktemp -d /var/tmp/postel-pop3bench.XXXXXX)
SHARED=${SHARED:-../shared/bench}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --locked -q
BIN=target/release/postel
cat > "$WORK/postel.toml" <<TOML
[server]
hostname = "mail.bench.test"
data_dir = "$WORK/data"
[listen]
smtp = []
submission = []
submissions = []
imap = []
imaps = []
pop3 = ["127.0.0.1:$PORT"]
pop3s = []
[dns]
nameservers = ["127.0.0.1:9"]
[pop3]
allow_plaintext_auth_on_loopback = true
[log]
level = "warn"
TOML
P="$BIN -c $WORK/postel.toml"
$P domain add bench.test >/dev/null
echo pass | $P user add bench50@bench.test >/dev/null
$P serve &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
MAILDIR="$WORK/data/mail/bench.test/bench50"
for n in 1000 10000; do
    echo "== Postel POP3, $n messages"
    python3 benches/pop3/pop3_bench.py 127.0.0.1 $PORT bench50@bench.test pass "$MAILDIR" $n "$REPS"
done
if [ -f "$SHARED/pop3_bench.py" ]; then
    echo "== Dovecot POP3, 1000 messages"
    # The team's peer set-up edits /etc/postfix/main.cf, which Debian does
    # not create under "No configuration".
    [ -f /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
    sh "$SHARED/setup-postfix-dovecot.sh"
    python3 "$SHARED/pop3_bench.py" "$REPS"
    sh "$SHARED/setup-postfix-dovecot.sh" stop
fi
