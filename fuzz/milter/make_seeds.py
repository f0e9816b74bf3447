#!/usr/bin/env python3
"""make_seeds.py - write fuzz/milter/seeds/*.bin: one control byte (bit 0:
ask for NR_*, bit 1: ask for macro lists; also seeds the split sizes) then
an MTA byte stream as protocols.md 1.7 shows a Postfix session."""
import os, struct

def pkt(cmd, payload=b""):
    return struct.pack(">I", len(payload) + 1) + cmd + payload

POSTFIX_OPTNEG = pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
QID = b"4F1A2B3C4D"

def envelope():
    return (pkt(b"D", b"Cj\0mx.example\0{daemon_name}\0mx.example\0{daemon_addr}\0127.0.0.1\0"
                      b"v\0Postfix 3.7.11\0_\0localhost [127.0.0.1]\0")
            + pkt(b"C", b"localhost\0" + b"4" + struct.pack(">H", 40000) + b"127.0.0.1\0")
            + pkt(b"D", b"H") + pkt(b"H", b"client.example\0"))

def message(subject=b"test", body=b"line 1\r\nline 2\r\n"):
    return (pkt(b"D", b"M{mail_addr}\0a@example.com\0{auth_authen}\0alice\0")
            + pkt(b"M", b"<a@example.com>\0SIZE=321\0BODY=8BITMIME\0")
            + pkt(b"D", b"R{rcpt_addr}\0b@example.net\0{rcpt_host}\0example.net\0{rcpt_mailer}\0smtp\0")
            + pkt(b"R", b"<b@example.net>\0")
            + pkt(b"D", b"Ti\0" + QID + b"\0") + pkt(b"T")
            + pkt(b"D", b"Li\0" + QID + b"\0") + pkt(b"L", b"Subject\0" + subject + b"\0")
            + pkt(b"L", b"X-Folded\0a\n\tb\0")
            + pkt(b"D", b"Ni\0" + QID + b"\0") + pkt(b"N")
            + pkt(b"D", b"Bi\0" + QID + b"\0") + pkt(b"B", body)
            + pkt(b"D", b"Ei\0" + QID + b"\0") + pkt(b"E"))

seeds = {
    "postfix_one.bin": b"\x03" + POSTFIX_OPTNEG + envelope() + message() + pkt(b"A") + pkt(b"Q"),
    "postfix_five.bin": b"\x03" + POSTFIX_OPTNEG + envelope()
        + b"".join(message(b"msg %d" % i) + pkt(b"A") for i in range(5)) + pkt(b"Q"),
    "v2_continue.bin": b"\x00" + pkt(b"O", struct.pack(">III", 2, 0x3F, 0x7F)) + envelope()
        + pkt(b"U", b"XYZZY\0") + message() + pkt(b"Q"),
    "no_nr_quit_nc.bin": b"\x02" + POSTFIX_OPTNEG + envelope() + pkt(b"K")
        + pkt(b"C", b"[2001:db8::1]\0" + b"6" + struct.pack(">H", 443) + b"IPv6:2001:db8::1\0")
        + pkt(b"C", b"unix\0U") + message() + pkt(b"Q"),
    "big_body_abort.bin": b"\x01" + POSTFIX_OPTNEG + envelope()
        + message(body=b"x" * 3000 + b"\r\n")[:-5] + pkt(b"B", b"y" * 3000) + pkt(b"A")
        + message() + pkt(b"E", b"tail\r\n") + pkt(b"Q"),
    "len_zero.bin": b"\x01" + POSTFIX_OPTNEG + b"\0\0\0\0B",
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
os.makedirs(here, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
