#!/usr/bin/env python3
"""cpython_tree.py - the MIME part tree of messages as CPython's `email` sees it.

Usage: cpython_tree.py FILE...

For each FILE prints one JSON line:

    {"file": FILE, "parts": [{"path", "content_type", "filename", "sha256"}, ...]}

or {"file": FILE, "error": "..."} if the email package raised.

Parts are listed depth-first in pre-order.  The root is "1"; the i-th child
(1-based) of part P is "P.i".  Whenever a part's payload is a list of Message
objects (multipart/*, and every message/* type, which the email package parses
as inner message(s)), those are its children.  In particular
message/delivery-status comes out as a list of header-block Messages; they are
emitted as Python sees them and compare_mime.py decides how to treat them.

content_type is part.get_content_type(), filename part.get_filename() (null if
absent).  For leaves (not part.is_multipart()) sha256 is the hex SHA-256 of
part.get_payload(decode=True) (None counts as b""); containers have null.

This is the reference side of the differential test (see README.md); it is
also imported by compare_mime.py.
"""

import email
import email.message
import email.policy
import hashlib
import json
import sys


def _children(part):
    """The sub-parts of `part` as the email package holds them ([] for leaves)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, email.message.Message)]
    if isinstance(payload, email.message.Message):
        return [payload]
    return []


def part_tree(data):
    """Parse raw message bytes; return the list of part dicts in pre-order.

    Iterative (explicit stack) so that deeply nested input cannot hit
    Python's recursion limit here (the parser itself may still raise).
    """
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    stack = [("1", msg)]
    while stack:
        path, part = stack.pop()
        entry = {
            "path": path,
            "content_type": part.get_content_type(),
            "filename": part.get_filename(),
            "sha256": None,
        }
        if not part.is_multipart():
            body = part.get_payload(decode=True)
            if body is None:
                body = b""
            entry["sha256"] = hashlib.sha256(body).hexdigest()
        parts.append(entry)
        kids = _children(part)
        # Push in reverse so that child 1 is popped (emitted) first.
        for i in range(len(kids), 0, -1):
            stack.append(("%s.%d" % (path, i), kids[i - 1]))
    return parts


def file_tree(path):
    """The JSON-able result object for one file (never raises for parse errors)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return {"file": path, "parts": part_tree(data)}
    except Exception as e:  # any failure of the reference is reported, not fatal
        return {"file": path, "error": "%s: %s" % (type(e).__name__, e)}


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    out = sys.stdout
    for path in argv[1:]:
        # ensure_ascii keeps undecodable header bytes (surrogate escapes)
        # representable as \udcXX instead of crashing the encoder.
        out.write(json.dumps(file_tree(path), ensure_ascii=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
