#!/usr/bin/env python3
"""POP3 RETR+DELE+QUIT of N ~4.5 KB messages from one Maildir.

Usage: pop3_bench.py HOST PORT USER PASSWORD MAILDIR N REPS
The Maildir is refilled before each run with N files in new/ (written by
this script, as another delivery agent would), so the server indexes them
at login, then one session logs in, RETRs and DELEs every message and
QUITs; QUIT returns once the deletions are durable.
"""
import json, os, poplib, shutil, statistics, sys, time

host, port, user, password, maildir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
n, reps = int(sys.argv[6]), int(sys.argv[7])
body = "".join(f"{i}" + "X" * 78 + "\r\n" for i in range(52))

def fill():
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
    for i in range(n):
        msg = (f"Return-Path: <sender@bench.test>\r\nFrom: <sender@bench.test>\r\nTo: <{user}>\r\n"
               f"Subject: pop3 test {i}\r\nMessage-Id: <pop{i}@bench.test>\r\n\r\n{body}")
        with open(f"{maildir}/new/{1700000000 + i}.M{i}P1.bench", "w") as f:
            f.write(msg)
    os.sync()

def run():
    fill()
    time.sleep(1)
    t0 = time.monotonic()
    p = poplib.POP3(host, port)
    p.user(user)
    p.pass_(password)
    cnt, _ = p.stat()
    t1 = time.monotonic()
    nbytes = 0
    for i in range(1, cnt + 1):
        _, _, octets = p.retr(i)
        nbytes += octets
        p.dele(i)
    t2 = time.monotonic()
    p.quit()
    t3 = time.monotonic()
    left = len(os.listdir(f"{maildir}/new")) + len(os.listdir(f"{maildir}/cur"))
    return dict(count=cnt, bytes=nbytes, login_stat_s=round(t1 - t0, 3), retr_dele_s=round(t2 - t1, 3),
                quit_s=round(t3 - t2, 3), total_s=round(t3 - t0, 3), msgs_per_s=round(cnt / (t3 - t0), 1),
                left_after_quit=left)

res = []
for _ in range(reps):
    r = run()
    res.append(r)
    print(json.dumps(r), flush=True)
for k in ("total_s", "msgs_per_s", "login_stat_s", "quit_s"):
    v = sorted(r[k] for r in res)
    print(f"SUMMARY {k}: min={v[0]} median={statistics.median(v)} max={v[-1]}")
