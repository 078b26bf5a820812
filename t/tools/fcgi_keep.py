#!/usr/bin/env python3
"""Sends GET requests one after the other on one kept FastCGI connection.

    fcgi_keep.py SOCKET PATH COUNT

Speaks to the pool as nginx does with fastcgi_keep_conn (FastCGI 1.0,
FCGI_KEEP_CONN): each request is sent once the answer to the one before
has ended, on the same Unix socket connection.  Prints one line a
request, "N STATUS" (the Status header of the answer, 200 without one)
or "N closed" when the connection ended before an answer, then "closed"
or "open": whether the pool closed the connection within a second of the
last answer.  The exit status is 0 when every request was answered.
"""
import socket
import struct
import sys

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6
RESPONDER, KEEP_CONN = 1, 1


def record(kind, request_id, content):
    return struct.pack(">BBHHBx", VERSION, kind, request_id,
                       len(content), 0) + content


def pair(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else \
            struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


def request_bytes(request_id, path):
    params = b"".join(pair(k, v) for k, v in (
        ("REQUEST_METHOD", "GET"), ("REQUEST_URI", path),
        ("DOCUMENT_URI", path), ("REMOTE_ADDR", "127.0.0.1"),
        ("CONTENT_LENGTH", ""), ("REQUEST_ID", "fcgi-keep-%d" % request_id)))
    return (record(BEGIN_REQUEST, request_id,
                   struct.pack(">HB5x", RESPONDER, KEEP_CONN)) +
            record(PARAMS, request_id, params) +
            record(PARAMS, request_id, b"") +
            record(STDIN, request_id, b""))


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        got = sock.recv(n - len(data))
        if not got:
            return None
        data += got
    return data


def answer(sock):
    """The status of the next answer, or None when the connection ends."""
    out = b""
    while True:
        header = read_exactly(sock, 8)
        if header is None:
            return None
        _, kind, _, length, padding = struct.unpack(">BBHHBx", header)
        content = read_exactly(sock, length + padding)
        if content is None:
            return None
        if kind == STDOUT:
            out += content[:length]
        elif kind == END_REQUEST:
            break
    for line in out.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            return int(line.split()[1])
    return 200


def main():
    path_sock, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path_sock)
    answered = 0
    for i in range(1, count + 1):
        try:
            sock.sendall(request_bytes(i, path))
            status = answer(sock)
        except OSError:
            status = None
        print("%d %s" % (i, "closed" if status is None else status))
        if status is None:
            break
        answered += 1
    sock.settimeout(1)
    try:
        print("closed" if sock.recv(1) == b"" else "open")
    except socket.timeout:
        print("open")
    except OSError:
        print("closed")
    return 0 if answered == count else 1


if __name__ == "__main__":
    sys.exit(main())
