#!/usr/bin/env python3
"""load.py: the steady load of the fault-injection suite (t/fault/run.sh).

    load.py drive --url URL --owner OWNER --scenario NAME --out FILE
        [--creates-per-s 4] [--webhooks-per-s 2] [--polls-per-s 10]
        [--work-ms 300] [--settle 45] [--ready-file FILE]
    load.py probe --url URL --owner OWNER --scenario NAME --out FILE
        [--timeout 60] [--run]

The operator token and the webhook secret come from the environment
(GT_OPERATOR_TOKEN, GT_WEBHOOK_SECRET, as t/stack.sh's env file sets
them), never from the command line.  The fixture of an accepted comment
is read from t/fixtures/github/webhook beside this script.

drive sends, until SIGTERM or SIGINT, at a steady pace:

  - creates: POST /api/runs on OWNER/NAME, each with an Idempotency-Key
    and an instruction ("work MS TAG") of its own;
  - webhooks: signed issue_comment deliveries on OWNER/NAME-gh, each with
    a delivery id, a comment id and an instruction of its own;
  - polls: GET /api/runs/:id of a run already accepted.

Every request goes on a connection of its own, so a failure is the
service's and not a kept connection's.  A create or a delivery that gets
no 2xx (a 5xx, a 408 or 429, a timeout, a connection error) is sent again
later, as a careful client and GitHub's redelivery do: the same key, the
same delivery id, the same body, with a backoff from 0.5 s to 4 s.  One
that gets another 4xx is refused for good and not sent again.  After the
signal the load stops and the requests still unanswered are sent again,
for at most --settle seconds, until each has its answer.

A create is accepted by 201 or 200 (the run of its key) with the run's
id; a delivery by 202 ("accepted") or 200 "duplicate" naming a run.  A
delivery answered 200 without a run (ignored) is recorded as such.

probe measures the recovery after a fault: from its start until GET
/health answers 200 with "status": "ok" and a create (with a key of its
own, sent again until answered) is accepted; with --run, until such a
run has succeeded, so that the dispatcher's side is measured too.

Both write one JSON object to --out:

  {"scenario": "...", "requests": {"create": 80, "webhook": 40,
   "poll": 200}, "causes": {"503 unavailable": {"create": 3}},
   "accepted": [{"kind": "create", "key": "...", "tag": "...",
                 "run_id": "...", "comment_id": null}],
   "unresolved": [...], "refused": [...], "ignored": [...],
   "recovery_ms": 1234 (probe only, null when it timed out)}

"causes" counts every answer other than a 2xx by its status and error
code ("503 unavailable", with "(nginx: no worker answered)" when nginx
answered for want of a worker) or by the connection error
("connection refused", "timeout"), per kind of request.  The exit status
is 0 whatever happened (t/fault/books.py judges), 2 on bad arguments.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "github", "webhook",
                       "issue_comment.created.issue.json")

REQUEST_TIMEOUT = 15.0	# seconds: past the statement timeout and nginx's
BACKOFF_MIN = 0.5
BACKOFF_MAX = 4.0

# What nginx/local.conf.in answers for a 502, 503 or 504 of its own: the
# pool could not be reached, or a worker died before it answered.
NGINX_503 = "the service is unavailable for a moment: retry shortly"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="load.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("drive", "probe"):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True)
        s.add_argument("--owner", required=True,
                       help="the repositories' owner, unique to a suite run")
        s.add_argument("--scenario", required=True)
        s.add_argument("--out", required=True)
        s.add_argument("--work-ms", type=int, default=300)
    d = sub.choices["drive"]
    d.add_argument("--creates-per-s", type=float, default=4.0)
    d.add_argument("--webhooks-per-s", type=float, default=2.0)
    d.add_argument("--polls-per-s", type=float, default=10.0)
    d.add_argument("--settle", type=float, default=45.0)
    d.add_argument("--ready-file")
    sub.choices["probe"].add_argument("--timeout", type=float, default=60.0)
    sub.choices["probe"].add_argument(
        "--run", action="store_true",
        help="recovered only once a run created after the fault succeeds")
    a = p.parse_args(argv)

    url = urllib.parse.urlsplit(a.url)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1",
                                                     "localhost"):
        p.error("--url must be http://127.0.0.1:PORT: %s" % a.url)
    a.host, a.port = url.hostname, url.port or 80
    a.token = os.environ.get("GT_OPERATOR_TOKEN", "")
    a.secret = os.environ.get("GT_WEBHOOK_SECRET", "").encode()
    if not a.token or not a.secret:
        p.error("GT_OPERATOR_TOKEN and GT_WEBHOOK_SECRET must be set")
    return a


class Request:
    """One create or delivery, sent until it has its answer."""

    def __init__(self, kind, key, tag, body, headers, comment_id=None):
        self.kind = kind
        self.key = key
        self.tag = tag
        self.body = body
        self.headers = headers
        self.comment_id = comment_id
        self.state = "new"	# new, pending, accepted, refused, ignored
        self.known = False	# listed in Books.requests
        self.run_id = None
        self.why = None
        self.backoff = BACKOFF_MIN
        self.next_at = 0.0

    def record(self):
        return {"kind": self.kind, "key": self.key, "tag": self.tag,
                "run_id": self.run_id, "comment_id": self.comment_id,
                "why": self.why}


class Books:
    """What was sent and answered, shared by the threads under a lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests = []
        self.pending = []
        self.accepted_ids = []
        self.sent = {"create": 0, "webhook": 0, "poll": 0}
        self.causes = {}
        self.seq = 0
        # Comment ids must be new to the database, whatever ran before.
        self.comment_base = int(time.time() * 1000) * 1000

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def count(self, kind, cause):
        with self.lock:
            self.sent[kind] += 1
            if cause is not None:
                per = self.causes.setdefault(cause, {})
                per[kind] = per.get(kind, 0) + 1

    def due(self, kind):
        """A pending request of kind whose backoff has passed, or None."""
        now = time.monotonic()
        with self.lock:
            for r in self.pending:
                if r.kind == kind and r.next_at <= now:
                    self.pending.remove(r)
                    return r
        return None

    def settle(self, r):
        with self.lock:
            if not r.known:
                r.known = True
                self.requests.append(r)
            if r.state in ("new", "pending"):
                r.state = "pending"
                r.next_at = time.monotonic() + r.backoff
                r.backoff = min(r.backoff * 2, BACKOFF_MAX)
                self.pending.append(r)
            elif r.state == "accepted":
                self.accepted_ids.append(r.run_id)

    def random_run(self):
        with self.lock:
            if not self.accepted_ids:
                return None
            return random.choice(self.accepted_ids)

    def summary(self, extra=None):
        with self.lock:
            out = {"scenario": self.args.scenario,
                   "requests": dict(self.sent), "causes": self.causes,
                   "accepted": [], "unresolved": [], "refused": [],
                   "ignored": []}
            for r in self.requests:
                bucket = {"accepted": "accepted", "pending": "unresolved",
                          "refused": "refused",
                          "ignored": "ignored"}[r.state]
                out[bucket].append(r.record())
        if extra:
            out.update(extra)
        return out


def send(a, method, path, body=None, headers=None):
    """One request on a connection of its own.  Returns (status, parsed
    JSON or None, cause or None): the cause is set unless the status is
    2xx."""
    conn = http.client.HTTPConnection(a.host, a.port,
                                      timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
    except socket.timeout:
        return None, None, "timeout"
    except ConnectionRefusedError:
        return None, None, "connection refused"
    except (ConnectionResetError, BrokenPipeError,
            http.client.RemoteDisconnected):
        return None, None, "connection closed"
    except (OSError, http.client.HTTPException) as e:
        return None, None, "connection error (%s)" % type(e).__name__
    finally:
        conn.close()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if 200 <= resp.status < 300:
        return resp.status, doc, None
    code = ""
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        code = " " + str(doc["error"].get("code"))
        if doc["error"].get("message") == NGINX_503:
            code += " (nginx: no worker answered)"
    return resp.status, doc, "%d%s" % (resp.status, code)


def retryable(status):
    return status is None or status >= 500 or status in (408, 429)


def new_create(a, books, tag=None):
    n = books.next_seq()
    if tag is None:
        tag = "%s-%s-c%d" % (a.owner, a.scenario, n)
    body = json.dumps({"repo": "%s/%s" % (a.owner, a.scenario),
                       "target": {"type": "issue", "number": n},
                       "instruction": "work %d %s" % (a.work_ms, tag)})
    headers = {"Authorization": "Bearer " + a.token,
               "Content-Type": "application/json", "Idempotency-Key": tag}
    return Request("create", tag, tag, body.encode(), headers)


def try_create(a, books, r):
    status, doc, cause = send(a, "POST", "/api/runs", r.body, r.headers)
    books.count("create", cause)
    if cause is None and isinstance(doc, dict) and doc.get("id"):
        r.state, r.run_id = "accepted", doc["id"]
    elif cause is None:
        r.state, r.why = "refused", "%d without a run id" % status
    elif not retryable(status):
        r.state, r.why = "refused", cause
    books.settle(r)


def new_delivery(a, books, payload):
    n = books.next_seq()
    tag = "%s-%s-w%d" % (a.owner, a.scenario, n)
    comment_id = books.comment_base + n
    payload["repository"]["full_name"] = "%s/%s-gh" % (a.owner, a.scenario)
    payload["repository"]["name"] = "%s-gh" % a.scenario
    payload["issue"]["number"] = n
    payload["comment"]["id"] = comment_id
    payload["comment"]["body"] = "/gittinkerer work %d %s" % (a.work_ms, tag)
    body = json.dumps(payload, separators=(",", ":")).encode()
    sig = hmac.new(a.secret, body, hashlib.sha256).hexdigest()
    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json",
               "X-GitHub-Event": "issue_comment",
               "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": "sha256=" + sig}
    return Request("webhook", delivery, tag, body, headers, comment_id)


def try_delivery(a, books, r):
    status, doc, cause = send(a, "POST", "/api/github/webhook", r.body,
                              r.headers)
    if cause is None:
        if not isinstance(doc, dict):
            doc = {}
        if doc.get("status") in ("accepted", "duplicate") and \
                doc.get("run_id"):
            r.state, r.run_id = "accepted", doc["run_id"]
        else:
            # A 2xx, but no run: counted with the failures all the same.
            r.state = "ignored"
            r.why = cause = "%d %s %s" % (status, doc.get("status"),
                                          doc.get("reason", "no run"))
    elif not retryable(status):
        r.state, r.why = "refused", cause
    books.count("webhook", cause)
    books.settle(r)


def paced(books, per_s, step):
    """Calls step() per_s times a second until the load stops."""
    if per_s <= 0:
        return
    period = 1.0 / per_s
    at = time.monotonic()
    while not books.stop.is_set():
        step()
        at = max(at + period, time.monotonic() - period)
        wait = at - time.monotonic()
        if wait > 0 and books.stop.wait(wait):
            break


def creates(a, books, per_s):
    def step():
        r = books.due("create") or new_create(a, books)
        try_create(a, books, r)
    paced(books, per_s, step)


def webhooks(a, books, per_s):
    with open(FIXTURE, encoding="utf-8") as f:
        payload = json.load(f)

    def step():
        r = books.due("webhook") or new_delivery(a, books, payload)
        try_delivery(a, books, r)
    paced(books, per_s, step)


def polls(a, books, per_s):
    headers = {"Authorization": "Bearer " + a.token}

    def step():
        run_id = books.random_run()
        if run_id is not None:
            _, _, cause = send(a, "GET", "/api/runs/" + run_id,
                               headers=headers)
            books.count("poll", cause)
    paced(books, per_s, step)


def settle(a, books):
    """Sends every unanswered request again until it has its answer."""
    deadline = time.monotonic() + a.settle
    while time.monotonic() < deadline:
        with books.lock:
            left = list(books.pending)
        if not left:
            return
        r = min(left, key=lambda x: x.next_at)
        wait = r.next_at - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            continue
        with books.lock:
            books.pending.remove(r)
        if r.kind == "create":
            try_create(a, books, r)
        else:
            try_delivery(a, books, r)


def write_out(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
        f.write("\n")
    os.replace(tmp, path)


def drive(a):
    books = Books(a)

    def on_signal(sig, frame):
        books.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # Two senders of each kind share the pace: one stuck on a slow answer
    # does not stop the flow.
    jobs = [(creates, a.creates_per_s / 2), (creates, a.creates_per_s / 2),
            (webhooks, a.webhooks_per_s / 2), (webhooks, a.webhooks_per_s / 2),
            (polls, a.polls_per_s / 2), (polls, a.polls_per_s / 2)]
    threads = [threading.Thread(target=fn, args=(a, books, rate),
                                daemon=True) for fn, rate in jobs]
    for t in threads:
        t.start()
    if a.ready_file:
        with open(a.ready_file, "w", encoding="utf-8") as f:
            f.write("ready\n")
    for t in threads:
        while t.is_alive():
            t.join(0.1)
    settle(a, books)
    write_out(a.out, books.summary())
    return 0


def health_ok(a):
    status, doc, _ = send(a, "GET", "/health")
    return status == 200 and isinstance(doc, dict) and \
        doc.get("status") == "ok"


def run_status(a, run_id):
    status, doc, _ = send(a, "GET", "/api/runs/" + run_id,
                          headers={"Authorization": "Bearer " + a.token})
    return doc.get("status") if status == 200 else None


def probe(a):
    """With --run, a run must also succeed: a create accepted whose run
    fails (or is refused) is followed by another, with a key of its own,
    until one succeeds."""
    books = Books(a)
    start = time.monotonic()
    deadline = start + a.timeout
    recovery = None
    n = 1
    r = new_create(a, books, "%s-%s-probe%d" % (a.owner, a.scenario, n))
    while recovery is None and time.monotonic() < deadline:
        time.sleep(0.1)
        if r.state == "accepted":
            status = run_status(a, r.run_id)
            if status == "succeeded":
                recovery = int((time.monotonic() - start) * 1000)
            elif status in ("failed", "cancelled"):
                n += 1
                r = new_create(a, books, "%s-%s-probe%d" %
                               (a.owner, a.scenario, n))
            continue
        if r.state == "refused" or not health_ok(a):
            continue
        with books.lock:
            if r in books.pending:
                books.pending.remove(r)
        try_create(a, books, r)
        if r.state == "accepted" and not a.run:
            recovery = int((time.monotonic() - start) * 1000)
    write_out(a.out, books.summary({"recovery_ms": recovery}))
    return 0


def main(argv):
    a = parse_args(argv)
    return drive(a) if a.cmd == "drive" else probe(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
