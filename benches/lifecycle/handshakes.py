#!/usr/bin/env python3
"""TLS handshake cost per protocol against a running Postel.

Usage: handshakes.py PID N SMTP_PORT SUBMISSIONS_PORT IMAPS_PORT POP3S_PORT

For each protocol, N handshakes one after the other from this process:
SMTP STARTTLS (greeting, EHLO, STARTTLS, handshake), and implicit TLS on
submissions (465), IMAPS (993) and POP3S (995) (TCP connect, handshake).
Prints, per protocol, the median and 95th percentile wall time of one
connection up to the end of the handshake, handshakes per second, and the
server's CPU time per handshake (utime+stime of PID from /proc, so the
client's own work is not counted).
"""

import os
import socket
import ssl
import statistics
import sys
import time

HOST = "127.0.0.1"
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def read_reply(f):
    """Reads one SMTP reply (possibly multi-line); returns its code."""
    while True:
        line = f.readline()
        if not line:
            raise IOError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


def smtp_starttls(port):
    sock = socket.create_connection((HOST, port), timeout=10)
    f = sock.makefile("rb")
    assert read_reply(f) == 220
    sock.sendall(b"EHLO bench.test\r\n")
    assert read_reply(f) == 250
    sock.sendall(b"STARTTLS\r\n")
    assert read_reply(f) == 220
    tls = CTX.wrap_socket(sock, server_hostname="mail.bench.test")
    return tls


def implicit(port):
    sock = socket.create_connection((HOST, port), timeout=10)
    return CTX.wrap_socket(sock, server_hostname="mail.bench.test")


def run(name, connect, port, n, pid):
    # Warm up (first connections pay for lazy initialisation).
    for _ in range(5):
        connect(port).close()
    times = []
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    for _ in range(n):
        start = time.perf_counter()
        s = connect(port)
        times.append(time.perf_counter() - start)
        s.close()
    total = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    version = connect(port)
    proto, cipher = version.version(), version.cipher()[0]
    version.close()
    print(
        f"| {name} | {proto} {cipher} | {n} | {statistics.median(times) * 1000:.2f} ms "
        f"| {p95 * 1000:.2f} ms | {n / total:.0f} /s | {cpu / n * 1000:.2f} ms |"
    )


def main():
    pid = int(sys.argv[1])
    n = int(sys.argv[2])
    smtp, submissions, imaps, pop3s = (int(p) for p in sys.argv[3:7])
    print("| protocol | negotiated | handshakes | median | p95 | rate (1 client) | server CPU per handshake |")
    print("|---|---|---|---|---|---|---|")
    run("SMTP STARTTLS (25)", smtp_starttls, smtp, n, pid)
    run("submissions (465)", implicit, submissions, n, pid)
    run("IMAPS (993)", implicit, imaps, n, pid)
    run("POP3S (995)", implicit, pop3s, n, pid)


if __name__ == "__main__":
    main()
