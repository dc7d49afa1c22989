#!/usr/bin/env python3
"""N threads submit M messages each over SMTP AUTH PLAIN (loopback,
plaintext allowed for the benchmark) to Postel's submission port.
Usage: submit.py PORT THREADS PER_THREAD [BODY_LINES]  (50 lines: 3.6 KiB)"""
import smtplib, sys, threading
port, threads, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lines = int(sys.argv[4]) if len(sys.argv) > 4 else 50
body = "".join(f"{i}" + "X" * 70 + "\r\n" for i in range(lines))
errors = []
def worker(t):
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
            c.login("alice@example.org", "pass")
            for i in range(per):
                msg = (f"From: <alice@example.org>\r\nTo: <bob@remote.test>\r\n"
                       f"Subject: queue bench {t}-{i}\r\n\r\n{body}")
                c.sendmail("alice@example.org", ["bob@remote.test"], msg)
    except Exception as e:  # noqa: BLE001 - report any failure
        errors.append(repr(e))
ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
if errors:
    print("errors:", errors[:3]); sys.exit(1)
