#!/usr/bin/env python3
"""The raw durable-write bound of a disk for Maildir delivery.

Each of WRITERS threads repeatedly creates a file in Maildir tmp/, writes
4 KiB, fsyncs it, renames it into new/ and fsyncs new/ (the same system
calls as one Postel or Dovecot delivery, nothing else). os.fsync and
os.rename release the GIL, so the threads' fsyncs overlap as concurrent
deliveries' do.

Usage: raw_bound.py DIR [WRITERS] [COUNT]   (defaults: 20 writers, 4000)
Prints one JSON line: writers, count, seconds, per_s.
"""
import json
import os
import sys
import threading
import time


def main():
    root = sys.argv[1]
    writers = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 4000
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    body = os.urandom(4096)
    lock = threading.Lock()
    next_n = [0]

    def work():
        dfd = os.open(os.path.join(root, "new"), os.O_RDONLY)
        try:
            while True:
                with lock:
                    n = next_n[0]
                    next_n[0] += 1
                if n >= count:
                    return
                tmp = os.path.join(root, "tmp", str(n))
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, body)
                os.fsync(fd)
                os.close(fd)
                os.rename(tmp, os.path.join(root, "new", str(n)))
                os.fsync(dfd)
        finally:
            os.close(dfd)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    for name in os.listdir(os.path.join(root, "new")):
        os.unlink(os.path.join(root, "new", name))
    print(json.dumps(dict(writers=writers, count=count, seconds=round(secs, 3),
                          per_s=round(count / secs))))


if __name__ == "__main__":
    main()
