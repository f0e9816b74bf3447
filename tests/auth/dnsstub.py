#!/usr/bin/python3
"""tests/auth/dnsstub.py - a tiny authoritative-looking DNS server for the
interop tests: answers TXT queries from a key file (the `tamis dkim verify --keys` format,
"name TXT-record" per line, or NXDOMAIN / NODATA / TEMPFAIL), NXDOMAIN for
any other name, SERVFAIL for TEMPFAIL. UDP only; records longer than 255
bytes are split into several strings, as real zones do.

Usage: dnsstub.py KEYFILE ADDR PORT   (prints "ready" once bound)
It exists so that tools which only know how to ask the resolver of
/etc/resolv.conf (OpenDKIM's opendkim-testmsg) can be run offline, inside a
private network namespace (see run-dkim-interop).
"""
import socket
import struct
import sys


def load(path):
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, rec = line.strip().partition(" ")
            keys[name.rstrip(".").lower()] = rec.strip()
    return keys


def qname(pkt, off):
    labels = []
    while True:
        n = pkt[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        labels.append(pkt[off:off + n].decode("ascii", "replace"))
        off += n


def answer(pkt, keys):
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", pkt[:6])
    if qd != 1:
        return None
    name, off = qname(pkt, 12)
    qtype, _qclass = struct.unpack(">HH", pkt[off:off + 4])
    question = pkt[12:off + 4]
    rec = keys.get(name.lower())
    rcode, answers = 0, []
    if rec is None or rec == "NXDOMAIN":
        rcode = 3
    elif rec == "TEMPFAIL":
        rcode = 2
    elif rec == "NODATA" or qtype not in (16, 255):
        pass
    else:
        data = rec.encode()
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        rdata = b"".join(bytes([len(c)]) + c for c in chunks)
        answers.append(b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata)
    rflags = 0x8400 | (flags & 0x0100) | rcode  # QR, AA, RD copied
    hdr = struct.pack(">HHHHHH", qid, rflags, 1, len(answers), 0, 0)
    return hdr + question + b"".join(answers)


def main():
    keys = load(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[2], int(sys.argv[3])))
    print("ready", flush=True)
    while True:
        pkt, peer = s.recvfrom(4096)
        try:
            out = answer(pkt, keys)
        except (IndexError, struct.error):
            out = None
        if out is not None:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
