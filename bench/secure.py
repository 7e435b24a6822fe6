#!/usr/bin/env python3
"""Helpers for the secure-path measurements in bench/run.sh (standard library only, 127.0.0.1 only).

  secure.py prime PORT FROM RCPT PHONE
      One flagged message ("[secure] prime") with X-SecureMailbox-Phone: RCPT=PHONE, so the gateway creates a
      pending account with that number; later messages to RCPT reuse it (no header needed).

  secure.py make FILE ATTACHMENT_BYTES secure|plain FROM RCPT PHONE
      Writes one MIME message (CRLF): a short text part and an attachment of ATTACHMENT_BYTES random bytes,
      base64 in 76-character lines. "secure" puts "[secure]" in the subject and the phone header; "plain"
      has neither. Prints the file size in bytes (what DATA carries; no line starts with ".").

  secure.py send PORT FILE FROM RCPT PID SINK_OUT WANT OUT_CSV_ROW_PREFIX
      One SMTP session: MAIL, RCPT, DATA, then FILE streamed in 1 MiB writes, then ".". Times (seconds from
      the DATA command): 354, 250 after the final ".", and when smtp-sink's -c counter (in SINK_OUT) reaches WANT.
      Meanwhile /proc/PID/status is sampled every 50 ms (VmRSS, VmHWM). Prints a CSV row; the RSS timeline goes
      to stderr as "t_s rss_kib hwm_kib" lines.
"""
import base64
import os
import re
import socket
import sys
import threading
import time


def smtp_lines(sock):
    buf = b""
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        yield line.decode(errors="replace")


def reply(lines):
    text = []
    while True:
        line = next(lines)
        text.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), "\n".join(text)


def command(sock, lines, cmd, expect):
    sock.sendall(cmd.encode() + b"\r\n")
    code, text = reply(lines)
    if code != expect:
        raise RuntimeError(f"{cmd!r} -> {text}")
    return text


def session(port):
    sock = socket.create_connection(("127.0.0.1", port))
    lines = smtp_lines(sock)
    code, text = reply(lines)
    if code != 220:
        raise RuntimeError(text)
    command(sock, lines, "EHLO bench.localdomain", 250)
    return sock, lines


def prime(port, sender, rcpt, phone):
    sock, lines = session(int(port))
    command(sock, lines, f"MAIL FROM:<{sender}>", 250)
    command(sock, lines, f"RCPT TO:<{rcpt}>", 250)
    command(sock, lines, "DATA", 354)
    msg = (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: [secure] prime\r\n"
           f"X-SecureMailbox-Phone: {rcpt}={phone}\r\nMessage-ID: <prime.{time.time_ns()}@bench.example>\r\n\r\n"
           "priming message: stores the recipient's mobile number\r\n.\r\n")
    sock.sendall(msg.encode())
    code, text = reply(lines)
    if code != 250:
        raise RuntimeError(text)
    command(sock, lines, "QUIT", 221)


def make(path, size, kind, sender, rcpt, phone):
    size = int(size)
    secure = kind == "secure"
    boundary = "bench-boundary-7f3a"
    head = [f"From: Bench <{sender}>", f"To: <{rcpt}>",
            f"Subject: {'[secure] ' if secure else ''}big attachment {size} bytes",
            f"Message-ID: <big.{kind}.{size}@bench.example>", "Date: Wed, 25 Nov 2026 12:00:00 +0000",
            "MIME-Version: 1.0"]
    if secure:
        head.append(f"X-SecureMailbox-Phone: {rcpt}={phone}")
    head += [f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
             f"--{boundary}", "Content-Type: text/plain; charset=utf-8", "", "A large attachment for the benchmark.", "",
             f"--{boundary}", "Content-Type: application/octet-stream; name=\"big.bin\"",
             "Content-Disposition: attachment; filename=\"big.bin\"", "Content-Transfer-Encoding: base64", ""]
    with open(path, "wb") as f:
        f.write("\r\n".join(head).encode() + b"\r\n")
        left = size
        block = 57 * 16384  # whole base64 lines per block
        while left > 0:
            raw = os.urandom(min(block, left))
            left -= len(raw)
            enc = base64.b64encode(raw)
            f.write(b"".join(enc[i:i + 76] + b"\r\n" for i in range(0, len(enc), 76)))
        f.write(f"\r\n--{boundary}--\r\n".encode())
    print(os.path.getsize(path))


def proc_mem(pid):
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def sink_count(path):
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 400))
            tail = f.read().decode(errors="replace")
    except OSError:
        return 0
    found = re.findall(r"mesg=(\d+)", tail)
    return int(found[-1]) if found else 0


def send(port, path, sender, rcpt, pid, sink_out, want, prefix):
    pid, want = int(pid), int(want)
    samples = []
    stop = threading.Event()
    t_base = [time.monotonic()]

    def sampler():
        while not stop.is_set():
            rss, hwm = proc_mem(pid)
            samples.append((time.monotonic(), rss, hwm))
            time.sleep(0.05)

    rss0, hwm0 = proc_mem(pid)
    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    sock, lines = session(int(port))
    command(sock, lines, f"MAIL FROM:<{sender}>", 250)
    command(sock, lines, f"RCPT TO:<{rcpt}>", 250)
    t0 = time.monotonic()
    t_base[0] = t0
    command(sock, lines, "DATA", 354)
    t354 = time.monotonic()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            sock.sendall(chunk)
    sock.sendall(b".\r\n")
    t_sent = time.monotonic()
    code, text = reply(lines)
    t250 = time.monotonic()
    if code != 250:
        raise RuntimeError(text)
    command(sock, lines, "QUIT", 221)
    t_sink = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if sink_count(sink_out) >= want:
            t_sink = time.monotonic()
            break
        time.sleep(0.05)
    time.sleep(2)
    stop.set()
    th.join()
    rss1, hwm1 = proc_mem(pid)
    peak_rss = max(s[1] for s in samples)
    for t, rss, hwm in samples:
        print(f"{t - t0:.2f} {rss} {hwm}", file=sys.stderr)
    size = os.path.getsize(path)
    print(f"{prefix},{size},{t354 - t0:.3f},{t_sent - t0:.3f},{t250 - t0:.3f},"
          f"{(t_sink - t0) if t_sink else float('nan'):.3f},{rss0},{hwm0},{peak_rss},{rss1},{hwm1}")


if __name__ == "__main__":
    {"prime": prime, "make": make, "send": send}[sys.argv[1]](*sys.argv[2:])
