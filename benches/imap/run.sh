#!/usr/bin/env bash
# IMAP benchmark: Postel and Dovecot from Debian in the same run, with the
# same users, the same messages and the same argon2id password hashes.
#
#  1. Postel (release build) with users bench1..bench$USERS@bench.test.
#  2. The team's Postfix+Dovecot peer (../shared/bench), its passwd-file
#     rewritten with Postel's own argon2id hashes (m=19456, t=2, p=1), so
#     both servers verify the same hash.
#  3. Every INBOX on both servers emptied and filled with the same 100
#     messages (../shared/bench/gen_mbox.py) by IMAP APPEND.
#  4. Profiles `logins` (connect, LOGIN, SELECT, $PER_LOGIN commands,
#     LOGOUT, again) and `sessions` (long-lived, mixed commands), $CLIENTS
#     clients for $DURATION s each, Postel then Dovecot.
#  5. Dovecot's memory per connected IDLE session ($DOVECOT_IDLE sessions;
#     its default process_limit is 100), then Postel's resident memory with
#     $IDLE TLS connections in IDLE on its port-993-style listener.
#
# Usage (as root, from the repository root): bash benches/imap/run.sh
# Environment: PROFILES="logins sessions" CLIENTS=20 DURATION=30 USERS=100 PER_LOGIN=3 IDLE=10000
#              DOVECOT_IDLE=90 SHARED=../shared/bench (SHARED=/nonexistent:
#              Postel only)
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-20}
DURATION=${DURATION:-30}
USERS=${USERS:-100}
PER_LOGIN=${PER_LOGIN:-3}
IDLE=${IDLE:-10000}
DOVECOT_IDLE=${DOVECOT_IDLE:-90}
# the team's peer set-up: /work/shared/bench beside the main checkout
SHARED=${SHARED:-$(for d in ../shared/bench ../../shared/bench; do [ -d "$d" ] && echo "$d" && break; done || true)}
SHARED=${SHARED:-/nonexistent}
IMAP_PORT=10144
IMAPS_PORT=10994
DOVECOT_PORT=10143
WORK=$(mktemp -d /var/tmp/postel-imapbench.XXXXXX)
PASSWD=/etc/dovecot/peerbench.passwd
DOVECOT_UP=
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    if [ -n "$DOVECOT_UP" ]; then
        [ -f "$WORK/peerbench.passwd.orig" ] && cp "$WORK/peerbench.passwd.orig" "$PASSWD"
        sh "$SHARED/setup-postfix-dovecot.sh" stop
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# 10,000 connections need as many descriptors in the server and the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "machine: $(nproc) CPUs, $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
# One build of the daemon and the load generator together (the bench's
# dev-dependencies unify features; a separate `cargo build --release` would
# compile the dependencies a second time).
LOADER=$(cargo build --release --locked --bin postel --bench imap_load --message-format=json |
    grep -o '"executable":"[^"]*imap_load[^"]*"' | cut -d'"' -f4)
LOAD() { "$LOADER" "$@"; }
BIN=target/release/postel

python3 "$SHARED/gen_mbox.py" "$WORK/sample.mbox" 2>/dev/null || : > "$WORK/sample.mbox"
MBOX=()
[ -s "$WORK/sample.mbox" ] && MBOX=(--mbox "$WORK/sample.mbox")

# ---- Postel -------------------------------------------------------------------
cat > "$WORK/postel.toml" <<TOML
[server]
hostname = "localhost"
data_dir = "$WORK/data"
[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:$IMAP_PORT"]
imaps = ["0.0.0.0:$IMAPS_PORT"]
pop3 = []
pop3s = []
[dns]
nameservers = ["127.0.0.1:9"]
[imap]
allow_plaintext_auth_on_loopback = true
[log]
level = "warn"
TOML
P="$BIN -c $WORK/postel.toml"
$P domain add bench.test >/dev/null
for i in $(seq "$USERS"); do echo pass | $P user add "bench$i@bench.test" >/dev/null; done
# POSTEL_ENV: extra environment for the daemon, e.g. MALLOC_ARENA_MAX=2
env ${POSTEL_ENV:-} $P serve &
POSTEL_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$IMAP_PORT) 2>/dev/null && break; sleep 0.1; done
echo "Postel $(git rev-parse --short HEAD), pid $POSTEL_PID"
LOAD --mode populate --port $IMAP_PORT --users "$USERS" --clients 10 "${MBOX[@]}" \
    --user 'bench{n}@bench.test' --label postel

# ---- Dovecot --------------------------------------------------------------------
if [ -f "$SHARED/setup-postfix-dovecot.sh" ]; then
    # The peer set-up edits /etc/postfix/main.cf, which Debian does not
    # create under "No configuration".
    [ -f /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
    sh "$SHARED/setup-postfix-dovecot.sh" >/dev/null
    DOVECOT_UP=1
    cp "$PASSWD" "$WORK/peerbench.passwd.orig"
    # Postel's argon2id hashes, verbatim, in Dovecot's passwd-file.
    sqlite3 "$WORK/data/postel.db" "SELECT address, password_hash FROM users" |
        while IFS='|' read -r addr hash; do
            u=${addr%@bench.test}
            echo "$u:{ARGON2ID}$hash:5000:5000::/var/peerbench/mail/$u::"
        done > "$WORK/passwd.new"
    cat "$WORK/passwd.new" > "$PASSWD"
    doveadm reload
    sleep 1
    doveadm auth test bench1 pass | head -1
    echo "Dovecot $(dovecot --version)"
    LOAD --mode populate --port $DOVECOT_PORT --users "$USERS" --clients 10 "${MBOX[@]}" \
        --user 'bench{n}' --label dovecot
fi

# ---- the two profiles, both servers in the same run ----------------------------------
for profile in ${PROFILES-logins sessions}; do
    LOAD --mode $profile --port $IMAP_PORT --users "$USERS" --clients "$CLIENTS" \
        --duration "$DURATION" --per-login "$PER_LOGIN" "${MBOX[@]}" \
        --user 'bench{n}@bench.test' --label postel
    if [ -n "$DOVECOT_UP" ]; then
        LOAD --mode $profile --port $DOVECOT_PORT --users "$USERS" --clients "$CLIENTS" \
            --duration "$DURATION" --per-login "$PER_LOGIN" "${MBOX[@]}" \
            --user 'bench{n}' --label dovecot
    fi
done

# ---- memory per idle session ------------------------------------------------------------
if [ -n "$DOVECOT_UP" ]; then
    LOAD --mode idle --port $DOVECOT_PORT --users "$USERS" --clients "$DOVECOT_IDLE" \
        --user 'bench{n}' --hold 5 --label dovecot \
        --rss-comm dovecot,imap,imap-login,auth,anvil,log,config,stats
    cp "$WORK/peerbench.passwd.orig" "$PASSWD"
    sh "$SHARED/setup-postfix-dovecot.sh" stop
    DOVECOT_UP=
fi
LOAD --mode idle --tls --port $IMAPS_PORT --users "$USERS" --clients "$IDLE" \
    --bind-from 127.0.0.2 --bind-count 249 --hold 20 --rss-pid $POSTEL_PID --label postel
