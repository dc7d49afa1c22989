#!/usr/bin/env python3
"""Configuration reloads under load: no session may fail.

Usage: reload_load.py PID CONFIG LOG SMTP_PORT IMAPS_PORT USER PASSWORD \
           CERT_A KEY_A CERT_B KEY_B [SECONDS] [RELOADS]

20 clients work for SECONDS (default 20): 15 send mail over SMTP (port 25:
EHLO, MAIL, RCPT, DATA of 2 KiB, QUIT) and 5 run IMAPS sessions (TLS,
LOGIN, SELECT INBOX, LOGOUT), each in a loop. Meanwhile RELOADS (default
10) SIGHUPs are sent at even intervals; before each, the config file is
rewritten with another smtp.max_message_size and the other of two
certificates. Any session that does not end as expected counts as a
failure. Prints sessions done and failed, per kind, and how long each
reload took (from the daemon's log timestamps).
"""

import datetime
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
BODY = "From: bench@bench.test\r\nTo: {rcpt}\r\nSubject: reload\r\n\r\n" + ("y" * 70 + "\r\n") * 28

stop = threading.Event()
lock = threading.Lock()
counts = {"smtp": [0, 0], "imaps": [0, 0]}
errors = []


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise IOError("closed")
        if line[3:4] != b"-":
            return int(line[:3]), line


def expect(sock, f, line, code):
    if line is not None:
        sock.sendall(line)
    got, text = reply(f)
    if got != code:
        raise IOError(f"{line!r} -> {text!r}")


def smtp_session(port, rcpt):
    with socket.create_connection((HOST, port), timeout=30) as s:
        f = s.makefile("rb")
        expect(s, f, None, 220)
        expect(s, f, b"EHLO bench.test\r\n", 250)
        expect(s, f, b"MAIL FROM:<bench@bench.test>\r\n", 250)
        expect(s, f, f"RCPT TO:<{rcpt}>\r\n".encode(), 250)
        expect(s, f, b"DATA\r\n", 354)
        expect(s, f, BODY.format(rcpt=rcpt).encode() + b".\r\n", 250)
        expect(s, f, b"QUIT\r\n", 221)


def imaps_session(port, user, password):
    raw = socket.create_connection((HOST, port), timeout=30)
    with CTX.wrap_socket(raw, server_hostname="mail.bench.test") as s:
        f = s.makefile("rb")

        def tagged(tag, line):
            s.sendall(f"{tag} {line}\r\n".encode())
            while True:
                got = f.readline()
                if not got:
                    raise IOError("closed")
                if got.startswith(tag.encode() + b" "):
                    if not got.startswith(tag.encode() + b" OK"):
                        raise IOError(got)
                    return

        if not f.readline().startswith(b"* OK"):
            raise IOError("greeting")
        tagged("a", f'LOGIN "{user}" "{password}"')
        tagged("b", "SELECT INBOX")
        tagged("c", "LOGOUT")


def worker(kind, fn):
    while not stop.is_set():
        try:
            fn()
            ok = True
        except Exception as e:  # any failure counts
            ok = False
            with lock:
                errors.append(f"{kind}: {e!r}")
        with lock:
            counts[kind][0 if ok else 1] += 1


def rewrite(config, i, certs):
    text = open(config).read()
    text = re.sub(r"max_message_size = \d+", f"max_message_size = {10_000_000 + i}", text)
    cert, key = certs[i % 2]
    text = re.sub(r'cert = ".*"', f'cert = "{cert}"', text)
    text = re.sub(r'key = ".*"', f'key = "{key}"', text)
    with open(config + ".tmp", "w") as f:
        f.write(text)
    os.replace(config + ".tmp", config)


def stamp(line):
    # tracing's default: 2026-11-25T10:51:02.123456Z
    m = re.search(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z", line)
    if not m:
        return None
    return datetime.datetime.fromisoformat(m.group(1)[:26])


def reload_times(log):
    starts, out = [], []
    for line in open(log, errors="replace"):
        if "SIGHUP: reloading" in line:
            starts.append(stamp(line))
        elif "configuration reloaded" in line and starts:
            t = stamp(line)
            if t and starts[-1]:
                out.append((t - starts[-1]).total_seconds() * 1000)
    return out


def main():
    pid, config, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    smtp, imaps = int(sys.argv[4]), int(sys.argv[5])
    user, password = sys.argv[6], sys.argv[7]
    certs = [(sys.argv[8], sys.argv[9]), (sys.argv[10], sys.argv[11])]
    seconds = float(sys.argv[12]) if len(sys.argv) > 12 else 20
    reloads = int(sys.argv[13]) if len(sys.argv) > 13 else 10
    threads = [threading.Thread(target=worker, args=("smtp", lambda: smtp_session(smtp, user)))
               for _ in range(15)]
    threads += [threading.Thread(target=worker, args=("imaps", lambda: imaps_session(imaps, user, password)))
                for _ in range(5)]
    for t in threads:
        t.start()
    gap = seconds / (reloads + 1)
    t0 = time.time()
    for i in range(reloads):
        time.sleep(gap)
        rewrite(config, i + 1, certs)
        os.kill(pid, signal.SIGHUP)
    time.sleep(gap)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    times = reload_times(log)
    print(f"clients: 15 SMTP + 5 IMAPS, {elapsed:.1f} s, {reloads} SIGHUPs")
    for kind, (ok, bad) in counts.items():
        print(f"{kind}: {ok} sessions ok, {bad} failed ({ok / elapsed:.1f} sessions/s)")
    if times:
        times.sort()
        print(f"reloads logged: {len(times)}, duration median {times[len(times) // 2]:.1f} ms, "
              f"max {times[-1]:.1f} ms")
    for e in errors[:10]:
        print("error:", e)
    sys.exit(1 if any(bad for _, bad in counts.values()) or len(times) < reloads else 0)


if __name__ == "__main__":
    main()
