#!/usr/bin/env python3
"""End-to-end latency probe for bench/run.sh (standard library only).

  latency.py sink PORT OUTFILE
      A minimal SMTP sink on 127.0.0.1:PORT. For every message it writes one line to OUTFILE:
      "<X-Bench-Sent ns> <arrival ns>", the arrival taken when the final "." line is read
      (time.time_ns(), microsecond resolution; file mtimes here tick in 4 ms steps, too coarse).

  latency.py send PORT COUNT SIZE GAP OUTFILE
      One SMTP session to 127.0.0.1:PORT; COUNT messages of SIZE body bytes one after the other,
      GAP seconds apart. Each carries X-Bench-Sent = time.time_ns() taken just before MAIL FROM;
      OUTFILE gets "<sent ns> <250 received ns>" per message (the submission time).

Latency = arrival at the sink - X-Bench-Sent: submission + queueing + relay to the next hop.
Only loopback addresses are used.
"""
import asyncio
import smtplib
import sys
import time


async def handle(reader, writer, out):
    def send(line):
        writer.write(line.encode() + b"\r\n")

    send("220 latency-sink ESMTP")
    await writer.drain()
    while True:
        line = await reader.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            send("250 latency-sink")
        elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            send("250 2.0.0 Ok")
        elif verb == b"DATA":
            send("354 End data with <CR><LF>.<CR><LF>")
            await writer.drain()
            sent = None
            in_header = True
            while True:
                data = await reader.readline()
                if not data:
                    return
                if data == b".\r\n":
                    arrived = time.time_ns()
                    break
                if in_header:
                    if data in (b"\r\n", b"\n"):
                        in_header = False
                    elif data[:14].lower() == b"x-bench-sent: ":
                        sent = data[14:].strip().decode()
            out.write(f"{sent or '-'} {arrived}\n")
            out.flush()
            send("250 2.0.0 Ok: queued")
        elif verb == b"QUIT":
            send("221 2.0.0 Bye")
            await writer.drain()
            break
        else:
            send("502 5.5.2 Command not recognized")
        await writer.drain()
    writer.close()


async def sink(port, path):
    with open(path, "a", encoding="ascii") as out:
        server = await asyncio.start_server(lambda r, w: handle(r, w, out), "127.0.0.1", port, backlog=256)
        async with server:
            await server.serve_forever()


def send(port, count, size, gap, path):
    line = "x" * 76
    body_lines = []
    remaining = size
    while remaining > 0:
        body_lines.append(line[: min(76, remaining)])
        remaining -= 78
    body = "\r\n".join(body_lines) + "\r\n"
    with open(path, "w", encoding="ascii") as out, smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localdomain", timeout=120) as client:
        client.ehlo()
        for i in range(1, count + 1):
            sent = time.time_ns()
            message = (
                "From: <sender@bench.example>\r\nTo: <rcpt@bench.example>\r\n"
                f"Subject: latency {i}\r\nMessage-ID: <lat{i}.{sent}@bench.example>\r\nX-Bench-Sent: {sent}\r\n\r\n"
            ) + body
            client.sendmail("sender@bench.example", ["rcpt@bench.example"], message.encode("ascii"))
            out.write(f"{sent} {time.time_ns()}\n")
            time.sleep(gap)


def main(argv):
    if len(argv) == 4 and argv[1] == "sink":
        try:
            asyncio.run(sink(int(argv[2]), argv[3]))
        except KeyboardInterrupt:
            pass
        return 0
    if len(argv) == 7 and argv[1] == "send":
        send(int(argv[2]), int(argv[3]), int(argv[4]), float(argv[5]), argv[6])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
