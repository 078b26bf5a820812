#!/usr/bin/env python3
"""load.py: a small HTTP load generator for the stack tests.

    python3 t/tools/load.py --url http://127.0.0.1:18600 [--path /health]
        [--threads 4] [--requests 100000] [--duration 30]
        [--timeout 10] [--ready-file FILE] [--show 5]
        [--header 'Name: value' ...] [--cacert FILE] [--retry-closed]

Each thread keeps one keep-alive HTTP/1.1 connection (http.client) to the
URL and sends GET PATH on it in a loop, with the --header lines given.
An https:// URL is checked against --cacert (the system's CAs without
it).  The threads start together, once
all of them exist, so that --threads N --requests N sends N requests at
the same moment.

A run ends at the first of:

  - --requests requests have been sent, by all threads together;
  - --duration seconds have passed;
  - the process receives SIGTERM or SIGINT: each thread finishes the
    request it has in hand and sends no other.  This is how a test stops
    the load when the event it watches is over.

--ready-file, when given, is created once every thread has started, so a
caller can wait for it before it acts on the server.

Only loopback is served: the host must be localhost, an address in
127.0.0.0/8 or ::1, and is never looked up otherwise.

With --retry-closed, a request whose kept connection was closed before
any byte of the answer came is sent again once, on a new connection, as
RFC 9112 (section 9.3.1) lets a client do with a GET and as browsers do:
nginx closes its idle connections when it reloads.  Such requests are
counted in "retried", and fail only when the second try does.

A request succeeds when it gets a complete 2xx answer.  Any other status,
a truncated body, a timeout or a connection error is a failure; after an
error the thread closes its connection, opens a new one and goes on.

At the end one JSON line goes to stdout:

  {"total": 120, "ok": 119, "failed": 1, "status": {"200": 119, "503": 1},
   "conn_errors": 0, "retried": 0, "stopped_by": "signal", "elapsed_s": 1.52,
   "min_ms": 0.8, "max_ms": 31.0, "start": 1733300000.123,
   "failures": [{"t": 0.731, "status": 503}]}

"failures" holds the first --show failures, "t" in seconds since
"start" (a Unix time), with "status" or "error".  "stopped_by" is
"requests", "duration" or "signal".  The exit status is 0 whatever the
figures (the caller judges them), 2 when the arguments are wrong.
"""

import argparse
import http.client
import ipaddress
import json
import signal
import ssl
import sys
import threading
import time
import urllib.parse


def loopback_host(host):
    """Whether host names the loopback interface, without a DNS lookup."""
    if host.lower() == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if addr.version == 4:
        return addr in ipaddress.ip_network("127.0.0.0/8")
    return addr == ipaddress.ip_address("::1")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="load.py", description="HTTP load against a loopback URL")
    p.add_argument("--url", required=True,
                   help="http[s]://HOST[:PORT], HOST on loopback")
    p.add_argument("--path", default="/health", help="path to GET")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--requests", type=int, default=100000,
                   help="requests in all, across the threads")
    p.add_argument("--duration", type=float, default=30.0,
                   help="seconds before the run stops")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds one request may take")
    p.add_argument("--ready-file",
                   help="created once every thread has started")
    p.add_argument("--show", type=int, default=5,
                   help="failures listed in the summary")
    p.add_argument("--header", action="append", default=[],
                   help="'Name: value', sent with every request")
    p.add_argument("--retry-closed", action="store_true",
                   help="send a request again, once, when its kept "
                   "connection was closed before any answer")
    p.add_argument("--cacert",
                   help="the CA an https:// URL's certificate is checked "
                   "against")
    a = p.parse_args(argv)

    url = urllib.parse.urlsplit(a.url)
    if (url.scheme not in ("http", "https") or not url.hostname
            or url.path not in ("", "/") or url.query or url.fragment):
        p.error("--url must be http[s]://HOST[:PORT], the path apart: %s"
                % a.url)
    if not loopback_host(url.hostname):
        p.error("--url must name a loopback host (localhost, 127.0.0.0/8, "
                "::1): %s" % url.hostname)
    try:
        a.port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        p.error("--url has a bad port: %s" % a.url)
    a.host = url.hostname
    a.tls = None
    if url.scheme == "https":
        try:
            a.tls = ssl.create_default_context(cafile=a.cacert)
        except (OSError, ssl.SSLError) as e:
            p.error("--cacert: %s" % e)
    elif a.cacert:
        p.error("--cacert needs an https:// URL")
    a.headers = {"Connection": "keep-alive"}
    for h in a.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip() or name != name.strip():
            p.error("--header must be 'Name: value': %s" % h)
        a.headers[name] = value.strip()
    if not a.path.startswith("/"):
        p.error("--path must start with /: %s" % a.path)
    if a.threads < 1 or a.threads > 256:
        p.error("--threads must be from 1 to 256")
    if a.requests < 1:
        p.error("--requests must be at least 1")
    if not 0 < a.duration <= 3600:
        p.error("--duration must be more than 0 and at most 3600")
    if not 0 < a.timeout <= 600:
        p.error("--timeout must be more than 0 and at most 600")
    if a.show < 0:
        p.error("--show must be at least 0")
    return a


class Run:
    """The figures of a run, shared by the threads under one lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stopped_by = None
        self.sent = 0
        self.ok = 0
        self.failed = 0
        self.conn_errors = 0
        self.retried = 0
        self.status = {}
        self.failures = []
        self.min_ms = None
        self.max_ms = None
        self.mark_start()

    def mark_start(self):
        self.start_wall = time.time()
        self.start = time.monotonic()

    def end(self, why):
        with self.lock:
            if self.stopped_by is None:
                self.stopped_by = why
        self.stop.set()

    def claim(self):
        """Takes the right to send one more request; False when over."""
        if self.stop.is_set():
            return False
        if time.monotonic() - self.start >= self.args.duration:
            self.end("duration")
            return False
        with self.lock:
            if self.sent >= self.args.requests:
                done = True
            else:
                self.sent += 1
                done = False
        if done:
            self.end("requests")
        return not done

    def count_retry(self):
        with self.lock:
            self.retried += 1

    def record(self, began, status=None, error=None):
        now = time.monotonic()
        ms = (now - began) * 1000.0
        with self.lock:
            if self.min_ms is None or ms < self.min_ms:
                self.min_ms = ms
            if self.max_ms is None or ms > self.max_ms:
                self.max_ms = ms
            if status is not None:
                key = str(status)
                self.status[key] = self.status.get(key, 0) + 1
            if error is None and 200 <= status < 300:
                self.ok += 1
                return
            self.failed += 1
            if error is not None:
                self.conn_errors += 1
            if len(self.failures) < self.args.show:
                f = {"t": round(began - self.start, 3)}
                if status is not None:
                    f["status"] = status
                if error is not None:
                    f["error"] = error
                self.failures.append(f)

    def summary(self):
        with self.lock:
            return {
                "total": self.ok + self.failed,
                "ok": self.ok,
                "failed": self.failed,
                "status": self.status,
                "conn_errors": self.conn_errors,
                "retried": self.retried,
                "stopped_by": self.stopped_by,
                "elapsed_s": round(time.monotonic() - self.start, 3),
                "min_ms": None if self.min_ms is None
                else round(self.min_ms, 1),
                "max_ms": None if self.max_ms is None
                else round(self.max_ms, 1),
                "start": round(self.start_wall, 3),
                "failures": self.failures,
            }


class Unanswered(Exception):
    """The connection closed before any byte of the answer came."""


def one_request(conn, path, headers):
    """Sends one GET and reads the whole answer.  Returns the status."""
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError,
            BrokenPipeError) as e:
        raise Unanswered("%s: %s" % (type(e).__name__, e)) from e
    # read() raises IncompleteRead when the body is shorter than its
    # Content-Length: a truncated answer is a failure, not a success.
    resp.read()
    return resp.status


def connect(a):
    if a.tls is not None:
        return http.client.HTTPSConnection(a.host, a.port, timeout=a.timeout,
                                           context=a.tls)
    return http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)


def worker(run, barrier):
    a = run.args
    conn = None
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return
    while run.claim():
        began = time.monotonic()
        retried = False
        while True:
            reused = conn is not None
            if conn is None:
                conn = connect(a)
            try:
                status = one_request(conn, a.path, a.headers)
            except Unanswered as e:
                conn.close()
                conn = None
                # RFC 9112, section 9.3.1: a GET on a kept connection
                # the server closed without answering may be sent again.
                if a.retry_closed and reused and not retried:
                    retried = True
                    run.count_retry()
                    continue
                run.record(began, error=str(e))
            except (OSError, http.client.HTTPException) as e:
                run.record(began, error="%s: %s" % (type(e).__name__, e))
                conn.close()
                conn = None
            else:
                run.record(began, status=status)
            break
    if conn is not None:
        conn.close()


def main(argv):
    args = parse_args(argv)
    run = Run(args)

    def on_signal(sig, frame):
        run.end("signal")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # The clock starts when the last party reaches the barrier; the main
    # thread then writes the ready file, as every thread is about to send.
    barrier = threading.Barrier(args.threads + 1, action=run.mark_start)
    threads = [threading.Thread(target=worker, args=(run, barrier),
                                daemon=True)
               for _ in range(args.threads)]
    for t in threads:
        t.start()
    barrier.wait()
    if args.ready_file:
        try:
            with open(args.ready_file, "w") as f:
                f.write("%d\n" % args.threads)
        except OSError as e:
            # A wrong argument: the figures would be judged by nobody.
            run.end("signal")
            print("load.py: --ready-file: %s" % e, file=sys.stderr)
            return 2

    # Joined with a timeout so that the signal handler runs promptly; a
    # thread stuck in a request ends by its own --timeout.
    for t in threads:
        while t.is_alive():
            t.join(0.1)
    print(json.dumps(run.summary()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
