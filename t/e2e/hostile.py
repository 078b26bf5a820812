#!/usr/bin/env python3
"""t/e2e/hostile.py: hostile input through nginx, sent as an attacker would.

Every request goes over a raw socket to the stack's nginx, so that bytes
no HTTP library would send (CR, LF and NUL in headers, invalid UTF-8,
malformed request lines) reach it unchanged.  The sections:

  fields     every field of every JSON route: wrong types, numbers beyond
             int64, 60 KB and 1 MB strings, deep nesting, invalid UTF-8,
             NUL (raw and \\u0000), SQL and shell metacharacters;
  params     every query and path parameter, the same way;
  headers    tokens, Idempotency-Key, Content-Type, Content-Length,
             request lines, Host, CR/LF and NUL in headers, request ids;
  metrics    the /metrics allow list, asked from another loopback address
             through paths and headers that could fool it;
  artifacts  path traversal, and symbolic links, a FIFO and a folder
             planted in a run's artifact folder;
  webhook    forged deliveries (no run, nothing recorded) and one delivery
             replayed concurrently (one run);
  slow       10 000 slow connections held open on nginx while normal
             requests are timed; the production site's header timeout;
  after      no marker file of the shell payloads, every table still
             there, no token, secret or signature in any log, and every
             line of the pool's log well formed.

Every answer is checked for the contract's shape: the expected status and
error code, a JSON body {"error": {"code", "message"[, "details"]}}, an
X-Request-Id, never a 5xx, never a connection dropped before a complete
answer, never a header a request tried to inject.

Environment: what t/stack-tests.sh exports (GT_URL, GT_OPERATOR_TOKEN,
GT_ADMIN_TOKEN, GT_WEBHOOK_SECRET, GT_DATABASE_URL, GT_STACK_DIR,
GT_SRCDIR); GT_HOSTILE_SLOW (the number of slow connections, default
10000) and GT_HOSTILE_SECTIONS (a comma-separated subset) optionally.
Prints "ok - ..." or "not ok - ..." per check and "# ..." figures; the
last line is "hostile tests: N passed, N failed"; exits 1 on a failure.
"""

import concurrent.futures
import errno
import hashlib
import hmac
import json
import os
import re
import resource
import selectors
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

URL = os.environ["GT_URL"]
PORT = urllib.parse.urlsplit(URL).port
OPERATOR = os.environ["GT_OPERATOR_TOKEN"]
ADMIN = os.environ["GT_ADMIN_TOKEN"]
SECRET = os.environ["GT_WEBHOOK_SECRET"]
STACK_DIR = os.environ["GT_STACK_DIR"]
SRCDIR = os.environ["GT_SRCDIR"]
DATABASE_URL = os.environ["GT_DATABASE_URL"]
SLOW_CONNECTIONS = int(os.environ.get("GT_HOSTILE_SLOW", "10000"))
SECTIONS = [s for s in os.environ.get("GT_HOSTILE_SECTIONS", "").split(",")
            if s]

# Bounds, documented in doc/security.md.
SLOW_P99_MS = 1000          # normal requests while the slow ones are held
SLOW_OPEN_TIMEOUT = 90      # seconds to open every slow connection
SLOW_HOLD = 12              # seconds the slow ones are held, at least
WIDE_TIMEOUT = 10           # seconds to answer a delivery of 1M values
# A worker's memory after the largest body.  Under AddressSanitizer (make
# check-sanitizers sets ASAN_OPTIONS), freed memory waits in a quarantine
# of 256 MB before it is reused, on top of the shadow memory.
WORKER_RSS_MAX_KB = (1024 if os.environ.get("ASAN_OPTIONS") else 400) * 1024
PROD_HEADER_TIMEOUT = (8, 25)   # seconds: client_header_timeout 10s

# Where a shell that ran one of the payloads would leave its mark.
MARKER = "/tmp/gt-hostile-%d-marker" % os.getpid()
SHELL_PAYLOADS = [
    "$(touch %s)" % MARKER,
    "`touch %s`" % MARKER,
    "; touch %s; #" % MARKER,
    "| touch %s" % MARKER,
    "&& touch %s" % MARKER,
    "'$(touch %s)'\"`touch %s`\"" % (MARKER, MARKER),
]
SQL_PAYLOADS = [
    "'; DROP TABLE runs; --",
    "x'); DELETE FROM runs; --",
    "\" OR 1=1 --",
    "1; SELECT pg_sleep(10); --",
    "$$; DROP TABLE runs; $$",
    "\\'; TRUNCATE runs; --",
    "%_\\%",
]
INJECTED = ("x-injected", "set-cookie")

passed = 0
failed = 0
lock = threading.Lock()
signatures_sent = set()     # every X-Hub-Signature-256 digest sent


def ok(name):
    global passed
    with lock:
        passed += 1
        print("ok - " + name, flush=True)


def not_ok(name, why):
    global failed
    with lock:
        failed += 1
        print("not ok - %s: %s" % (name, why), flush=True)


def note(text):
    print("# " + text, flush=True)


def verdict(name, why):
    if why:
        not_ok(name, why)
    else:
        ok(name)


def short(data, n=160):
    r = repr(data)
    return r if len(r) <= n else r[:n] + "..."


# ---------------------------------------------------------------------------
# A raw HTTP/1.1 client

class Answer:
    def __init__(self, raw):
        self.raw = raw
        self.dropped = None
        self.status = 0
        self.headers = []
        self.body = b""
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            self.dropped = "no complete header section (%d bytes)" % len(raw)
            return
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ", lines[0] + b" ")
        if not m:
            self.dropped = "no status line: " + short(lines[0])
            return
        self.status = int(m.group(1))
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or b"\n" in line or b"\r" in line:
                self.dropped = "malformed header line " + short(line)
                return
            self.headers.append((name.decode("latin-1").lower(),
                                 value.strip().decode("latin-1")))
        if self.header("transfer-encoding", "").lower() == "chunked":
            self.body = self.dechunk(rest)
        else:
            self.body = rest
            length = self.header("content-length")
            if length is not None and int(length) != len(rest):
                self.dropped = "body of %d bytes, Content-Length %s" % (
                    len(rest), length)

    def dechunk(self, data):
        out = b""
        while True:
            size, sep, data = data.partition(b"\r\n")
            if not sep:
                self.dropped = "chunked body cut short"
                return out
            n = int(size.split(b";")[0], 16)
            if n == 0:
                return out
            out += data[:n]
            data = data[n + 2:]

    def header(self, name, default=None):
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None


def b(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def exchange(raw, timeout=30.0, source=None, port=None):
    """Sends raw bytes on a new connection and reads until nginx closes it."""
    addr = ("127.0.0.1", port or PORT)
    src = (source, 0) if source else None
    s = socket.create_connection(addr, timeout, source_address=src)
    chunks = []
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass    # nginx may answer (413) before the body is all sent
        while True:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            chunks.append(data)
    finally:
        s.close()
    return Answer(b"".join(chunks))


def build(method, path, body=None, headers=(), token=None,
          ctype="application/json", host="127.0.0.1", close=True):
    h = [("Host", host)] if host is not None else []
    if token:
        h.append(("Authorization", "Bearer " + token))
    if body is not None:
        body = b(body)
        if ctype:
            h.append(("Content-Type", ctype))
        h.append(("Content-Length", str(len(body))))
    h.extend(headers)
    if close:
        h.append(("Connection", "close"))
    raw = b(method) + b" " + b(path) + b" HTTP/1.1\r\n"
    raw += b"".join(b(k) + b": " + b(v) + b"\r\n" for k, v in h)
    return raw + b"\r\n" + (body or b"")


def http(method, path, body=None, **kw):
    timeout = kw.pop("timeout", 30.0)
    source = kw.pop("source", None)
    return exchange(build(method, path, body, **kw), timeout, source)


# ---------------------------------------------------------------------------
# What every answer must be

def general_problem(a):
    """What is wrong with any answer, whatever was asked; None if nothing."""
    if a.dropped:
        return "connection dropped: " + a.dropped
    if a.status >= 500:
        return "a %d: %s" % (a.status, short(a.body))
    for name, _ in a.headers:
        if name in INJECTED:
            return "the answer carries an injected header %s" % name
    if a.header("x-request-id") is None:
        return "no X-Request-Id"
    return None


def error_problem(a, status, code, field=None):
    """Checks a contract error; status and code may be tuples of choices."""
    why = general_problem(a)
    if why:
        return why
    statuses = status if isinstance(status, tuple) else (status,)
    if a.status not in statuses:
        return "status %d, expected %s: %s" % (a.status, statuses,
                                                short(a.body))
    if not a.header("content-type", "").startswith("application/json"):
        return "Content-Type %r" % a.header("content-type")
    o = a.json()
    if not isinstance(o, dict) or list(o) != ["error"] or \
            not isinstance(o["error"], dict):
        return "not an error body: " + short(a.body)
    e = o["error"]
    codes = code if isinstance(code, tuple) else (code,)
    if isinstance(code, tuple) and len(statuses) == len(codes):
        codes = (codes[statuses.index(a.status)],)
    if e.get("code") not in codes:
        return "code %r, expected %s" % (e.get("code"), codes)
    if not isinstance(e.get("message"), str) or not e["message"]:
        return "no message: " + short(a.body)
    keys = set(e) - {"code", "message"}
    if e["code"] == "validation_failed":
        if keys != {"details"} or not isinstance(e["details"], list) or \
                not e["details"]:
            return "validation_failed without details: " + short(a.body)
        for d in e["details"]:
            if not isinstance(d, dict) or set(d) != {"field", "message"} or \
                    not isinstance(d["field"], str) or \
                    not isinstance(d["message"], str):
                return "malformed detail %s" % short(d)
        if field is not None and \
                field not in [d["field"] for d in e["details"]]:
            return "details do not name %r: %s" % (field, short(a.body))
    elif keys:
        return "members %s beside code and message" % sorted(keys)
    return None


def success_problem(a, status):
    why = general_problem(a)
    if why:
        return why
    if a.status != status:
        return "status %d, expected %d: %s" % (a.status, status,
                                               short(a.body))
    return None


# ---------------------------------------------------------------------------
# The contract's rules for a value, to know what each answer should be

REPO_RE = re.compile(r"(?!-)(?!.*--)[A-Za-z0-9-]{1,39}(?<!-)/"
                     r"(?!\.{1,2}$)(?!.*\.git$)[A-Za-z0-9._-]{1,100}",
                     re.IGNORECASE | re.DOTALL)
INT_RE = re.compile(r"-?[0-9]+")
SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005" \
         "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def valid_repo(v):
    return isinstance(v, str) and REPO_RE.fullmatch(v) is not None


def valid_int(fragment, low, high):
    text = fragment.decode("latin-1").strip()
    return INT_RE.fullmatch(text) is not None and low <= int(text) <= high


def valid_text(v, low, high, trim):
    if not isinstance(v, str) or "\0" in v:
        return False
    n = len(v.strip(SPACES) if trim else v)
    return low <= n <= high


def value_valid(kind, v, fragment):
    """Whether a parsed value passes a field of this kind."""
    if kind == "repo":
        return valid_repo(v)
    if kind == "type":
        return v in ("issue", "pull_request")
    if kind == "number":
        return valid_int(fragment, 1, 2**31 - 1)
    if kind == "limit":
        return valid_int(fragment, 1, 1000000)
    if kind == "window":
        return valid_int(fragment, 1, 2592000)
    if kind == "instruction":
        return valid_text(v, 1, 4000, True)
    if kind == "login":
        return v is None or (isinstance(v, str) and
                             re.fullmatch(r"[A-Za-z0-9-]{1,39}", v) is not None)
    if kind == "reason":
        return v is None or valid_text(v, 0, 500, False)
    if kind == "target":
        return False    # no hostile value is a whole valid target
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# Hostile values

def frag(v):
    return json.dumps(v, ensure_ascii=False).encode("utf-8")


# (label, JSON text) that parse; their fate depends on the field.
PARSED_VALUES = [
    ("zero", b"0"), ("minus one", b"-1"), ("true", b"true"),
    ("false", b"false"), ("null", b"null"), ("empty array", b"[]"),
    ("empty object", b"{}"), ("array", b"[1, \"x\"]"),
    ("object", b"{\"a\": 1}"), ("short string", b"\"x\""),
    ("numeric string", b"\"1\""), ("fraction", b"1.5"),
    ("zero point zero", b"0.0"), ("minus zero", b"-0"),
    ("exponent", b"1e2"), ("upper exponent", b"1E2"),
    ("int64 max", b"9223372036854775807"),
    ("int64 max + 1", b"9223372036854775808"),
    ("int64 min - 1", b"-9223372036854775809"),
    ("30 digits", b"1" + b"0" * 29), ("1e400", b"1e400"),
    ("-1e400", b"-1e400"), ("int32 max", b"2147483647"),
    ("int32 max + 1", b"2147483648"), ("1000001", b"1000001"),
    ("2592001", b"2592001"),
    ("60 KB string", frag("a" * 60000)),
    ("4000 two-byte characters", frag("\xe9" * 4000)),
    ("4001 two-byte characters", frag("\xe9" * 4001)),
    ("501 characters", frag("r" * 501)),
    ("blank", frag(" \t\u3000\u2028 ")),
    ("empty string", b"\"\""),
    ("CR LF header", frag("a\r\nX-Injected: 1\r\nSet-Cookie: s=1")),
    ("escaped NUL text", frag("%00 and \\0")),
    ("traversal text", frag("../../../../etc/passwd")),
    ("markup", frag("<script>alert(1)</script>{{7*7}}${7*7}")),
    ("bidi and emoji", frag("\u202egnp.exe \U0001F600 \u2028")),
    ("login lookalike", frag("alice-")),
    ("repo lookalike", frag("octo/widgets.git")),
    ("repo with dots", frag("octo/..")),
] + [("sql %d" % i, frag(p)) for i, p in enumerate(SQL_PAYLOADS)] + \
    [("shell %d" % i, frag(p)) for i, p in enumerate(SHELL_PAYLOADS)]

# (label, text) that are not JSON, or not UTF-8: invalid_json everywhere.
INVALID_VALUES = [
    ("raw 0xff", b"\"\xff\""), ("overlong NUL", b"\"\xc0\x80\""),
    ("encoded surrogate", b"\"\xed\xa0\x80\""),
    ("truncated sequence", b"\"\xe2\x82\""),
    ("beyond U+10FFFF", b"\"\xf4\x90\x80\x80\""),
    ("raw NUL", b"\"a\x00b\""), ("escaped NUL", b"\"a\\u0000b\""),
    ("lone high surrogate", b"\"\\ud800\""),
    ("lone low surrogate", b"\"\\udc00x\""),
    ("raw control", b"\"a\x01b\""), ("raw newline", b"\"a\nb\""),
    ("NaN", b"NaN"), ("Infinity", b"Infinity"), ("hex", b"0x10"),
    ("leading zero", b"01"), ("bare fraction", b".5"),
    ("trailing dot", b"1."), ("plus sign", b"+1"),
    ("single quotes", b"'x'"), ("unterminated", b"\"abc"),
    ("bad escape", b"\"\\x41\""),
    ("40 deep", b"[" * 40 + b"]" * 40),
    ("40 deep objects", b"{\"a\":" * 40 + b"1" + b"}" * 40),
    ("30000 open brackets", b"[" * 30000),
]

INVALID_FRAGMENTS = {text for _, text in INVALID_VALUES}

SLOT = "\x01slot\x01"
SLOT_JSON = json.dumps(SLOT).encode()


def with_value(base, path, fragment):
    """base (a dict) as JSON text, with the member at path set to fragment."""
    doc = json.loads(json.dumps(base))
    node = doc
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = SLOT
    return json.dumps(doc).encode().replace(SLOT_JSON, fragment)


# ---------------------------------------------------------------------------
# Section: fields

def sql(query):
    """One value read from the service's database, as text."""
    out = subprocess.run(["psql", DATABASE_URL, "-XAtc", query],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else \
        "psql failed: " + out.stderr.strip()[-200:]


def run_get(run_id):
    return http("GET", "/api/runs/" + run_id, token=OPERATOR)


def roundtrip_create(a, sent):
    o = a.json()
    want = sent.strip(SPACES)
    if not isinstance(o, dict) or o.get("instruction") != want:
        return "the 201 shows %s, not the instruction sent" % short(
            o and o.get("instruction"))
    g = run_get(o["id"])
    if g.status != 200 or (g.json() or {}).get("instruction") != want:
        return "GET shows %s, not the instruction sent" % short(g.body)
    stored = sql("SELECT encode(convert_to(instruction, 'UTF8'), 'hex') "
                 "FROM runs WHERE id = '%s'" % o["id"])
    if stored != want.encode("utf-8").hex():
        return "the runs table holds %s" % short(stored)
    if a.header("location") != "/api/runs/" + o["id"]:
        return "Location %r" % a.header("location")
    return None


def roundtrip_pause(a, repo, sent):
    # An empty reason says nothing and is kept as none (doc/api.md).
    sent = sent if sent != "" else None
    o = a.json()
    if not isinstance(o, dict) or o.get("reason") != sent:
        return "the 200 shows reason %s" % short(o and o.get("reason"))
    g = http("GET", "/api/admin/paused", token=ADMIN)
    mine = [p for p in (g.json() or {}).get("repos", [])
            if p.get("repo") == repo]
    why = None
    if len(mine) != 1 or mine[0].get("reason") != sent:
        why = "GET /api/admin/paused shows %s" % short(mine)
    http("POST", "/api/admin/resume-repo", json.dumps({"repo": repo}),
         token=ADMIN)
    return why


FIELD_ROUTES = [
    # name, method, path, token, base body, {field: kind}, success status
    ("runs.create", "POST", "/api/runs", OPERATOR,
     {"repo": "hostile/fields", "target": {"type": "issue", "number": 1},
      "instruction": "base", "requested_by": "alice"},
     {"repo": "repo", "target": "target", "target.type": "type",
      "target.number": "number", "instruction": "instruction",
      "requested_by": "login"}, 201),
    ("admin.pause_repo", "POST", "/api/admin/pause-repo", ADMIN,
     {"repo": "hostile/pause", "reason": "base"},
     {"repo": "repo", "reason": "reason"}, 200),
    ("admin.resume_repo", "POST", "/api/admin/resume-repo", ADMIN,
     {"repo": "hostile/pause"}, {"repo": "repo"}, 200),
    ("admin.pause_target", "POST", "/api/admin/pause-target", ADMIN,
     {"repo": "hostile/pause", "target": {"type": "issue", "number": 7},
      "reason": "base"},
     {"repo": "repo", "target": "target", "target.type": "type",
      "target.number": "number", "reason": "reason"}, 200),
    ("admin.resume_target", "POST", "/api/admin/resume-target", ADMIN,
     {"repo": "hostile/pause", "target": {"type": "issue", "number": 7}},
     {"repo": "repo", "target": "target", "target.type": "type",
      "target.number": "number"}, 200),
    ("admin.set_limit", "PUT", "/api/admin/rate-limits/hostile/limits",
     ADMIN, {"limit": 100000, "window_seconds": 3600},
     {"limit": "limit", "window_seconds": "window"}, 200),
]


def field_case(route, field, kind, label, fragment, n):
    name, method, path, token, base, _, success = route
    base = json.loads(json.dumps(base))
    pause_repo = None
    if name == "admin.pause_repo" and field != "repo":
        # A pause keeps its first reason: one repository per case.
        pause_repo = base["repo"] = "hostile/pause-%d" % n
    body = with_value(base, field, fragment)
    a = http(method, path, body, token=token)
    title = "%s %s = %s" % (name, field, label)
    if fragment in INVALID_FRAGMENTS:
        return title, error_problem(a, 400, "invalid_json")
    v = json.loads(fragment.decode("utf-8"))
    if not value_valid(kind, v, fragment):
        named = field
        if kind == "target" and isinstance(v, dict):
            named = "target.type" if not v else "target." + next(iter(v))
        return title, error_problem(a, 400, "validation_failed", named)
    why = success_problem(a, success)
    if why:
        return title, why
    if kind == "instruction":
        return title, roundtrip_create(a, v)
    if kind == "reason" and pause_repo:
        return title, roundtrip_pause(a, pause_repo, v)
    if name == "admin.pause_repo" and field == "repo":
        http("POST", "/api/admin/resume-repo", json.dumps({"repo": v}),
             token=ADMIN)
    return title, None


def unknown_field_cases(route):
    """Unknown member names, echoed in details exactly as sent."""
    name, method, path, token, base, _, _ = route
    names = ["priority", "a\r\nX-Injected: 1", "\u00e9\u2603",
             "'; DROP TABLE runs; --", "$(touch %s)" % MARKER, "x" * 300,
             "__proto__", ""]
    out = []
    for key in names:
        doc = dict(base)
        doc[key] = 1
        a = http(method, path, json.dumps(doc), token=token)
        out.append(("%s unknown field %s" % (name, short(key, 40)),
                    error_problem(a, 400, "validation_failed", key)))
    return out


def section_fields():
    cases = []
    n = 0
    for route in FIELD_ROUTES:
        for field, kind in route[5].items():
            for label, fragment in PARSED_VALUES + INVALID_VALUES:
                n += 1
                cases.append((route, field, kind, label, fragment, n))
    start = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for r in pool.map(lambda c: field_case(*c), cases):
            results.append(r)
        for route in FIELD_ROUTES:
            results.extend(unknown_field_cases(route))

    # The list shows every stored hostile instruction as valid JSON.
    a = http("GET", "/api/runs?limit=100&repo=hostile/fields",
             token=OPERATOR)
    runs = (a.json() or {}).get("runs")
    why = success_problem(a, 200)
    if not why and (not runs or not all(isinstance(r.get("instruction"), str)
                                        for r in runs)):
        why = "the list is not JSON with instructions: %s" % short(a.body)
    results.append(("the list of the runs made here", why))

    # A string of 1 MB in each field, and a body of 64 KiB + 1 on each
    # route: nginx's 413.
    for route in FIELD_ROUTES:
        name, method, path, token, base, fields, _ = route
        for field in fields:
            body = with_value(base, field, frag("a" * (1 << 20)))
            a = http(method, path, body, token=token)
            results.append(("%s %s = 1 MB string" % (name, field),
                            error_problem(a, 413, "payload_too_large")))
        field = next(iter(fields))
        body = with_value(base, field, b"\"\"")
        body = body[:-1] + b" " * (64 * 1024 + 1 - len(body)) + body[-1:]
        a = http(method, path, body, token=token)
        results.append(("%s body of %d bytes" % (name, len(body)),
                        error_problem(a, 413, "payload_too_large")))
    report_table("fields", results, start)


def report_table(section, results, start):
    bad = [(t, why) for t, why in results if why]
    for t, why in bad:
        not_ok("%s: %s" % (section, t), why)
    if not bad:
        ok("%s: %d cases" % (section, len(results)))
    note("%s: %d cases, %d failed, %.1f s" % (
        section, len(results), len(bad), time.monotonic() - start))


# ---------------------------------------------------------------------------
# Section: params

def decoded(raw):
    """The value a query parameter decodes to, or None when malformed."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        return None
    data = urllib.parse.unquote_to_bytes(raw.replace("+", " "))
    if b"\0" in data:
        return None
    return data.decode("utf-8", "surrogateescape")


def query_int_ok(v, low, high):
    return v is not None and re.fullmatch(r"-?[0-9]+", v) is not None and \
        low <= int(v) <= high


QUERY_PARAMS = [
    # route path, parameter, validator
    ("/api/runs", "page", lambda v: query_int_ok(v, 1, 1000000)),
    ("/api/runs", "limit", lambda v: query_int_ok(v, 1, 100)),
    ("/api/runs", "status", lambda v: v in (
        "queued", "running", "succeeded", "failed", "cancelled")),
    ("/api/runs", "repo", lambda v: v is not None and valid_repo(v)),
    ("/api/analytics", "days", lambda v: query_int_ok(v, 1, 365)),
]

QUERY_VALUES = [
    "0", "-1", "1", "01", "7", "100", "101", "365", "366", "1000000",
    "1000001", "abc", "1.5", "1e3", "+1", "%2B1", " 1", "1%20", "0x10",
    "9223372036854775808", "99999999999999999999", "-9223372036854775809",
    "", "%", "%zz", "%0", "%00", "1%00", "%ff", "%c0%80",
    "%0d%0aX-Injected:%201", "'%20OR%201=1--", "1;DROP%20TABLE%20runs",
    "%24(touch%20" + urllib.parse.quote(MARKER, safe="") + ")",
    "queued", "QUEUED", "running", "cancelled", "octo/widgets",
    "octo%2Fwidgets", "Octo/Widgets", "..%2F..", "octo/widgets.git",
    "a" * 7000,
]


def section_params():
    start = time.monotonic()
    results = []
    for path, param, valid in QUERY_PARAMS:
        for raw in QUERY_VALUES:
            a = http("GET", "%s?%s=%s" % (path, param, raw), token=OPERATOR)
            title = "GET %s?%s=%s" % (path, param, short(raw, 40))
            if valid(decoded(raw)):
                why = success_problem(a, 200)
                if not why and not isinstance(a.json(), dict):
                    why = "the 200 is not a JSON object"
                results.append((title, why))
            else:
                results.append((title, error_problem(a, 400,
                                                     "invalid_parameter")))
        a = http("GET", "%s?%s=1&%s=1" % (path, param, param),
                 token=OPERATOR)
        results.append(("%s with %s twice" % (path, param),
                        error_problem(a, 400, "invalid_parameter")))

    # Routes without parameters ignore a query, whatever it holds.
    for path in ("/health", "/metrics", "/api/admin/paused"):
        for query in ("%00", "%ff%fe", "a=%0d%0aX-Injected:%201",
                      "'%20OR%201=1", "x=" + "y" * 7000):
            a = http("GET", path + "?" + query, token=ADMIN)
            results.append(("GET %s?%s" % (path, short(query, 30)),
                            success_problem(a, 200)))

    # A request line over nginx's 8 KiB buffers: nginx's own 414, as 400.
    a = http("GET", "/api/runs?repo=" + "a" * 9000, token=OPERATOR)
    results.append(("request line of 9 KB",
                    error_problem(a, 400, "invalid_parameter")))

    # Run ids in the path of each route that takes one.
    known = str(uuid.uuid4())
    ids = [
        ("..", 400), ("%2e%2e", 400), (".", 400), ("%00", 400),
        ("%0d%0aX-Injected:%201", 400), ("'%20OR%20'1'='1", 400),
        (known + "%00", 400), (known + "%20", 400), (known + "x", 400),
        (known.upper(), 404), (known, 404), ("%", 400), ("%zz", 400),
        ("x" * 5000, 400), ("%2f", 400), ("%252e%252e", 400),
        (known.replace("-", ""), 400), ("{" + known + "}", 400),
        ("%c0%ae%c0%ae", 400), ("\u00e9".encode().decode("latin-1"), 400),
    ]
    routes = [("GET", "/api/runs/%s"), ("POST", "/api/runs/%s/cancel"),
              ("GET", "/api/runs/%s/artifacts/log.txt")]
    for method, template in routes:
        for raw, status in ids:
            a = http(method, template % raw, token=OPERATOR)
            code = "invalid_parameter" if status == 400 else "not_found"
            results.append(("%s %s" % (method, short(template % raw, 60)),
                            error_problem(a, status, code)))

    # Paths that climb or add segments: a 404 (nginx's or the worker's)
    # or the worker's 400, never anything served.
    climbing = [
        "/api/runs/../../metrics", "/api/runs/%2e%2e/%2e%2e/etc/passwd",
        "/api/runs/..%2f..%2fhealth", "/api/./runs", "/api//runs",
        "/api/runs/" + known + "/../../admin/paused", "/API/RUNS",
        "/api/runs;x", "/api/runs%00", "/api/runs/" + known + "/artifacts",
        "/api/runs/%2e", "/api/../../../../etc/passwd",
    ]
    for path in climbing:
        a = http("GET", path, token=OPERATOR)
        results.append(("GET " + path, error_problem(
            a, (400, 404), ("invalid_parameter", "not_found"))))

    # The repository of the rate-limits path.
    limit_body = json.dumps({"limit": 5, "window_seconds": 60})
    owners = [
        ("..", "x", 400), ("%2e%2e", "x", 400), ("a%2fb", "x", 400),
        ("o", "%00", 400), ("o'%3B%20DROP%20TABLE%20runs", "x", 400),
        ("o" * 40, "x", 400), ("o", "n" * 101, 400), ("o", "x.git", 400),
        ("-o", "x", 400), ("o--o", "x", 400), ("o", "%0d%0a", 400),
        ("o", ".", 400), ("%", "x", 400), ("Hostile-Ok", "a.b_c-d", 200),
    ]
    for owner, repo_name, status in owners:
        for method in ("PUT", "DELETE"):
            path = "/api/admin/rate-limits/%s/%s" % (owner, repo_name)
            a = http(method, path, limit_body if method == "PUT" else None,
                     token=ADMIN)
            want = status if status == 400 else (200 if method == "PUT"
                                                 else 204)
            title = "%s %s" % (method, short(path, 70))
            if want >= 400:
                results.append((title, error_problem(a, want,
                                                     "invalid_parameter")))
            else:
                results.append((title, success_problem(a, want)))
    report_table("params", results, start)


# ---------------------------------------------------------------------------
# Section: headers and request lines

def raw_request(first_line, header_lines, body=b""):
    raw = b(first_line) + b"\r\n"
    raw += b"".join(b(h) + b"\r\n" for h in header_lines)
    return raw + b"\r\n" + body


def section_headers():
    start = time.monotonic()
    results = []
    run_body = json.dumps({"repo": "hostile/headers", "target": {
        "type": "issue", "number": 3}, "instruction": "headers"})
    auth = "Authorization: Bearer " + OPERATOR

    # Tokens: only the exact token passes, and it gives no more than its
    # role.
    tokens = [
        ("no Authorization", None, 401), ("scheme only", "Bearer", 401),
        ("empty token", "Bearer   ", 401),
        ("lower-case scheme", "bearer " + OPERATOR, 200),
        ("token and a byte", "Bearer " + OPERATOR + "x", 401),
        ("token less a byte", "Bearer " + OPERATOR[:-1], 401),
        ("upper-case token", "Bearer " + OPERATOR.upper(), 401),
        ("Basic", "Basic " + OPERATOR, 401),
        ("two tokens", "Bearer %s, Bearer %s" % (OPERATOR, ADMIN), 401),
        ("SQL", "Bearer ' OR '1'='1", 401),
        ("8 KB token", "Bearer " + "a" * 7000, 401),
        ("token then tab", "Bearer " + OPERATOR + "\tx", 401),
    ]
    for label, value, status in tokens:
        headers = [("Authorization", value)] if value is not None else []
        a = http("GET", "/api/runs?limit=1", headers=headers)
        title = "Authorization: " + label
        if status == 401:
            why = error_problem(a, 401, "unauthorized")
            if not why and a.header("www-authenticate") != "Bearer":
                why = "WWW-Authenticate %r" % a.header("www-authenticate")
            results.append((title, why))
        else:
            results.append((title, success_problem(a, status)))
    a = http("GET", "/api/admin/paused", token=OPERATOR)
    results.append(("operator token on an admin route",
                    error_problem(a, 403, "forbidden")))
    a = http("GET", "/api/admin/paused", headers=[
        ("Authorization", "Bearer wrong"), ("Authorization",
                                            "Bearer " + ADMIN)])
    results.append(("a wrong Authorization before the admin's",
                    error_problem(a, (400, 401),
                                  ("invalid_parameter", "unauthorized"))))

    # Idempotency-Key: 1-255 printable ASCII.
    fresh = uuid.uuid4().hex
    keys = [
        ("256 characters", "k" * 256, 400),
        ("255 characters", (fresh * 8)[:255], 201),
        ("UTF-8", "cl\u00e9", 400), ("tab inside", "a\tb", 400),
        ("DEL", "a\x7fb", 400),
        ("SQL", "'; DROP TABLE runs; -- " + fresh, 201),
    ]
    for label, key, status in keys:
        a = http("POST", "/api/runs", run_body, token=OPERATOR,
                 headers=[("Idempotency-Key", key)])
        title = "Idempotency-Key " + label
        if status == 400:
            results.append((title, error_problem(a, 400, "validation_failed",
                                                 "Idempotency-Key")))
        else:
            results.append((title, success_problem(a, status)))

    # Content types and lengths.
    ctypes = [
        ("no Content-Type", None, 415), ("text/plain", "text/plain", 415),
        ("application/jsonx", "application/jsonx", 415),
        ("text/json", "text/json", 415),
        ("multipart", "multipart/form-data; boundary=x", 415),
        ("with charset", "application/json; charset=utf-8", 201),
        ("upper case", "APPLICATION/JSON", 201),
    ]
    for label, ctype, status in ctypes:
        a = http("POST", "/api/runs", run_body, token=OPERATOR, ctype=ctype)
        title = "Content-Type: " + label
        if status == 415:
            results.append((title, error_problem(a, 415,
                                                 "unsupported_media_type")))
        else:
            results.append((title, success_problem(a, status)))

    body = run_body.encode()
    framing = [
        ("negative Content-Length", ["Content-Length: -1"], body, 400),
        ("non-numeric Content-Length", ["Content-Length: 1x"], body, 400),
        ("Content-Length beyond int64",
         ["Content-Length: 99999999999999999999"], body, (400, 413)),
        ("two Content-Lengths", ["Content-Length: %d" % len(body),
                                 "Content-Length: 3"], body, 400),
        ("Content-Length and chunked", [
            "Content-Length: %d" % len(body),
            "Transfer-Encoding: chunked"], body, 400),
        ("unknown Transfer-Encoding", ["Transfer-Encoding: gzip"], body,
         400),
        ("chunk size beyond int64", ["Transfer-Encoding: chunked"],
         b"fffffffffffffffffff\r\nx\r\n0\r\n\r\n", (400, 413)),
    ]
    for label, extra, payload, status in framing:
        raw = raw_request("POST /api/runs HTTP/1.1", [
            "Host: 127.0.0.1", auth, "Content-Type: application/json",
            "Connection: close"] + extra, payload)
        a = exchange(raw)
        statuses = status if isinstance(status, tuple) else (status,)
        codes = tuple("payload_too_large" if s == 413 else
                      "invalid_parameter" for s in statuses)
        results.append((label, error_problem(a, statuses, codes)))

    # A chunked body is read whole by nginx and handed on with its length.
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    a = exchange(raw_request("POST /api/runs HTTP/1.1", [
        "Host: 127.0.0.1", auth, "Content-Type: application/json",
        "Transfer-Encoding: chunked", "Connection: close"], chunked))
    results.append(("chunked body", success_problem(a, 201)))

    # Malformed request lines and headers: nginx's 400, in the contract's
    # format, and no header of the request echoed into the answer.
    head = ["Host: 127.0.0.1", auth, "Connection: close"]
    malformed = [
        ("CR inside a header", "GET /api/runs HTTP/1.1",
         head + ["X-Test: a\rX-Injected: 1"]),
        ("NUL inside a header", "GET /api/runs HTTP/1.1",
         head + ["X-Test: a\0b"]),
        ("NUL in the Authorization", "GET /api/runs HTTP/1.1",
         ["Host: 127.0.0.1", "Authorization: Bearer " + OPERATOR + "\0x",
          "Connection: close"]),
        ("folded header", "GET /api/runs HTTP/1.1",
         head + ["X-Test: a", " X-Injected: 1"]),
        ("space before the colon", "GET /api/runs HTTP/1.1",
         head + ["X-Test : a"]),
        ("no Host", "GET /api/runs HTTP/1.1", [auth, "Connection: close"]),
        ("two Hosts", "GET /api/runs HTTP/1.1",
         head + ["Host: other.example"]),
        ("Host with a space", "GET /api/runs HTTP/1.1",
         ["Host: a b", auth, "Connection: close"]),
        ("Host with a slash", "GET /api/runs HTTP/1.1",
         ["Host: ../../etc", auth, "Connection: close"]),
        ("raw NUL in the path", "GET /api/runs/\0 HTTP/1.1", head),
        ("%00 in the path", "GET /api/runs%00 HTTP/1.1", head),
        ("raw space in the path", "GET /api/ runs HTTP/1.1", head),
        ("lower-case method", "get /api/runs HTTP/1.1", head),
        ("HTTP/2.0 text", "GET /api/runs HTTP/2.0", head),
        ("HTTP/9.9", "GET /api/runs HTTP/9.9", head),
        ("no version", "GET /api/runs HTTP/", head),
        ("path of 100 KB", "GET /api/runs/" + "a" * 100000 + " HTTP/1.1",
         head),
        ("header of 20 KB", "GET /api/runs HTTP/1.1",
         head + ["X-Big: " + "b" * 20000]),
        ("1000 headers", "GET /api/runs HTTP/1.1",
         head + ["X-%d: %s" % (i, "v" * 30) for i in range(1000)]),
    ]
    for label, line, headers in malformed:
        a = exchange(raw_request(line, headers))
        results.append((label, error_problem(a, 400, "invalid_parameter")))

    # Methods nginx or the worker refuses.
    methods = [("TRACE", (405,)), ("FOO", (405,)), ("CONNECT", (400, 405)),
               ("OPTIONS", (405,)), ("PATCH", (405,))]
    for method, statuses in methods:
        a = exchange(raw_request("%s /api/runs HTTP/1.1" % method, head))
        codes = tuple("method_not_allowed" if s == 405 else
                      "invalid_parameter" for s in statuses)
        results.append(("method " + method, error_problem(a, statuses,
                                                          codes)))

    # An absolute-form target and a foreign Host: the path alone counts,
    # and Location stays a path on this service.
    a = exchange(raw_request("GET http://evil.example/api/runs?limit=1 "
                             "HTTP/1.1", head))
    results.append(("absolute-form target", success_problem(a, 200)))
    a = http("POST", "/api/runs", run_body, token=OPERATOR,
             host="evil.example", headers=[
                 ("X-Forwarded-Host", "evil.example"),
                 ("X-Forwarded-Proto", "gopher"),
                 ("X-Forwarded-For", "10.9.8.7")])
    why = success_problem(a, 201)
    if not why and not re.fullmatch(r"/api/runs/[0-9a-f-]{36}",
                                    a.header("location", "")):
        why = "Location %r" % a.header("location")
    results.append(("foreign Host and forwarding headers", why))

    # The client's request id is never the one echoed or logged; a CR LF
    # in it only starts another request header, never an answer's.
    for rid in ("chosen-by-client", "a\r\nX-Injected: 1", "x" * 100):
        a = http("GET", "/health", headers=[("X-Request-Id", rid)])
        got = a.header("x-request-id", "")
        why = success_problem(a, 200)
        if not why and not re.fullmatch(r"[0-9a-f]{32}", got):
            why = "X-Request-Id %r, not nginx's own" % got
        results.append(("X-Request-Id " + short(rid, 30), why))
    a = http("GET", "/health", headers=[("Proxy", "http://evil.example")])
    results.append(("Proxy header", success_problem(a, 200)))

    # A URI of every byte the path may hold, percent-encoded: no 5xx.
    for byte in range(256):
        a = http("GET", "/api/runs/%%%02x" % byte, token=OPERATOR)
        results.append(("run id %%%02x" % byte, error_problem(
            a, (400, 404), ("invalid_parameter", "not_found"))))
    report_table("headers", results, start)


# ---------------------------------------------------------------------------
# Section: metrics

def section_metrics():
    start = time.monotonic()
    results = []
    a = http("GET", "/metrics")
    why = success_problem(a, 200)
    if not why and b"# TYPE" not in a.body:
        why = "no Prometheus text from 127.0.0.1"
    results.append(("/metrics from 127.0.0.1 (the control)", why))

    other = "127.0.0.2"
    tries = [
        ("/metrics", []), ("/metrics/", []), ("/METRICS", []),
        ("//metrics", []), ("/./metrics", []), ("/api/../metrics", []),
        ("/api/%2e%2e/metrics", []), ("/api/..%2fmetrics", []),
        ("/%6detrics", []), ("/metrics%3f", []), ("/metrics?x=1", []),
        ("/health/../metrics", []), ("/metrics%00", []),
        ("/api/runs/../../metrics", []),
        ("/metrics", [("X-Forwarded-For", "127.0.0.1")]),
        ("/metrics", [("X-Real-IP", "127.0.0.1")]),
        ("/metrics", [("Forwarded", "for=127.0.0.1")]),
        ("/metrics", [("Client-IP", "127.0.0.1")]),
    ]
    for path, headers in tries:
        a = http("GET", path, headers=headers, source=other)
        title = "from %s: %s %s" % (other, path, headers or "")
        why = general_problem(a)
        if not why and (a.status == 200 or b"# TYPE" in a.body):
            why = "served: %d %s" % (a.status, short(a.body, 80))
        if not why:
            why = error_problem(a, (400, 403, 404), (
                "invalid_parameter", "forbidden", "not_found"))
        results.append((title, why))
    report_table("metrics", results, start)


# ---------------------------------------------------------------------------
# Section: artifacts

def create_run(repo, number=1, instruction="hostile"):
    a = http("POST", "/api/runs", json.dumps({
        "repo": repo, "target": {"type": "issue", "number": number},
        "instruction": instruction}), token=OPERATOR)
    if a.status != 201:
        raise RuntimeError("cannot create a run: %d %s" % (a.status,
                                                          short(a.body)))
    return a.json()["id"]


def artifacts_root():
    with open(os.path.join(STACK_DIR, "gittinkerer.conf")) as f:
        for line in f:
            m = re.match(r"\s*artifacts_root\s*=\s*(\S+)", line)
            if m:
                return m.group(1)
    return os.path.join(STACK_DIR, "artifacts")


def section_artifacts():
    start = time.monotonic()
    results = []
    root = artifacts_root()
    run = create_run("hostile/artifacts", 1)
    other = create_run("hostile/artifacts", 2)
    linked = create_run("hostile/artifacts", 3)
    folder = os.path.join(root, run)
    os.makedirs(folder)
    os.makedirs(os.path.join(root, other))
    with open(os.path.join(folder, "ok.txt"), "w") as f:
        f.write("fine\n")
    with open(os.path.join(root, other, "secret.txt"), "w") as f:
        f.write("another run's file\n")
    os.symlink("/etc/passwd", os.path.join(folder, "passwd.txt"))
    os.symlink("../%s/secret.txt" % other, os.path.join(folder, "up.txt"))
    os.symlink("/etc", os.path.join(folder, "etc"))
    os.mkfifo(os.path.join(folder, "pipe.txt"))
    os.makedirs(os.path.join(folder, "sub"))
    with open(os.path.join(folder, "sub", "inner.txt"), "w") as f:
        f.write("inner\n")
    # A whole run folder that is a symbolic link to /etc.
    os.symlink("/etc", os.path.join(root, linked))

    a = run_get(run)
    names = [x.get("name") for x in (a.json() or {}).get("artifacts", [])]
    results.append(("the listing holds the regular file only",
                    None if names == ["ok.txt"] else "listed %s" % names))
    a = http("GET", "/api/runs/%s/artifacts/ok.txt" % run, token=OPERATOR)
    why = success_problem(a, 200)
    if not why and a.body != b"fine\n":
        why = "body %s" % short(a.body)
    results.append(("the regular file is served (the control)", why))
    a = run_get(linked)
    names = [x.get("name") for x in (a.json() or {}).get("artifacts", [])]
    results.append(("a run folder linked to /etc lists nothing",
                    None if a.status == 200 and names == [] else
                    "%d, listed %s" % (a.status, names[:5])))

    not_found = [
        (run, "passwd.txt"), (run, "up.txt"), (run, "etc"),
        (run, "pipe.txt"), (run, "sub"), (run, "OK.TXT"),
        (run, "payload.json"), (linked, "passwd"), (linked, "hostname"),
        (run, "ok.txt.bak"),
    ]
    for rid, name in not_found:
        t0 = time.monotonic()
        a = http("GET", "/api/runs/%s/artifacts/%s" % (rid, name),
                 token=OPERATOR, timeout=10)
        why = error_problem(a, 404, "not_found")
        if not why and time.monotonic() - t0 > 5:
            why = "took %.1f s" % (time.monotonic() - t0)
        results.append(("%s in %s" % (name, "the linked folder" if
                                      rid == linked else "the folder"), why))

    escapes = [
        "..", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%2f..%2f..%2fetc%2fpasswd", "%2fetc%2fpasswd",
        "..%5c..%5cetc%5cpasswd", "ok.txt%00.png", "ok.txt%2f",
        "%c0%ae%c0%ae%c0%af", "%252e%252e%252fetc", "..;", "ok.txt;.png",
        "ok.txt%20", "%20ok.txt", "sub%2finner.txt", "etc%2fpasswd",
        "~root", "%7eroot", ".ok.txt", "-ok.txt", "ok.txt%0d%0aX-Injected:1",
        "a" * 129, "%e2%80%ae", "ok.txt%3a%3a%24DATA",
    ]
    for name in escapes:
        a = http("GET", "/api/runs/%s/artifacts/%s" % (run, name),
                 token=OPERATOR)
        results.append(("artifact name %s" % short(name, 40), error_problem(
            a, (400, 404), ("invalid_parameter", "not_found"))))
    extra_segments = [
        "/api/runs/%s/artifacts//etc/passwd" % run,
        "/api/runs/%s/artifacts/../../../../etc/passwd" % run,
        "/api/runs/%s/artifacts/sub/inner.txt" % run,
        "/api/runs/%s/artifacts/etc/passwd" % run,
        "/api/runs/%s/artifacts/%s/../ok.txt" % (run, run),
        "/api/runs/../%s/artifacts/ok.txt" % run,
    ]
    for path in extra_segments:
        a = http("GET", path, token=OPERATOR)
        results.append((path.replace(run, "RUN"), error_problem(
            a, (400, 404), ("invalid_parameter", "not_found"))))
    report_table("artifacts", results, start)


# ---------------------------------------------------------------------------
# Section: webhook

def delivery(repo, comment_id, body="/gittinkerer fix it", number=1):
    return json.dumps({
        "action": "created",
        "comment": {"id": comment_id, "body": body,
                    "user": {"login": "alice", "type": "User"},
                    "author_association": "OWNER"},
        "issue": {"number": number},
        "repository": {"full_name": repo},
        "installation": {"id": 1},
    }).encode()


def sign(body, secret=SECRET, algo=hashlib.sha256, prefix="sha256="):
    digest = hmac.new(secret.encode(), body, algo).hexdigest()
    signatures_sent.add(digest)
    return prefix + digest


def post_hook(body, signature, delivery_id, event="issue_comment",
              extra=()):
    headers = [("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery_id)]
    if signature is not None:
        headers.append(("X-Hub-Signature-256", signature))
    headers.extend(extra)
    return http("POST", "/api/github/webhook", body, headers=headers)


def pool_worker_rss():
    """The resident memory of each of the pool's workers, in KiB."""
    with open(os.path.join(STACK_DIR, "run", "pool.pid")) as f:
        pool = f.read().strip()
    sizes = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[1] != pool:
                    continue
            with open("/proc/%s/status" % pid) as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            if m:
                sizes.append(int(m.group(1)))
        except (OSError, IndexError):
            continue
    return sizes


def runs_of(repo):
    a = http("GET", "/api/runs?limit=100&repo=" + repo, token=OPERATOR)
    o = a.json() or {}
    return o.get("runs", []) if a.status == 200 else None


def section_webhook():
    start = time.monotonic()
    results = []
    base_id = int(time.time() * 1000) % 10**12

    # Forged signatures: 401, nothing recorded, no run; then the genuine
    # delivery with the same id is accepted, so nothing was kept of it.
    def forgeries(body):
        good = sign(body)
        other = delivery("hostile/elsewhere", 1)
        return [
            ("no signature", None, []),
            ("sha1 only", None, [("X-Hub-Signature",
                                  sign(body, algo=hashlib.sha1,
                                       prefix="sha1="))]),
            ("sha1 in the sha256 header", sign(body, algo=hashlib.sha1,
                                               prefix="sha1="), []),
            ("another body's signature", sign(other), []),
            ("another secret", sign(body, secret=SECRET + "x"), []),
            ("the secret's prefix", sign(body, secret=SECRET[:-1]), []),
            ("truncated hex", good[:-1], []),
            ("hex and one more digit", good + "0", []),
            ("empty hex", "sha256=", []),
            ("bare hex", good[len("sha256="):], []),
            ("upper-case prefix", "SHA256=" + good[len("sha256="):], []),
            ("space after the prefix", "sha256= " + good[len("sha256="):],
             []),
            ("non-hex digits", "sha256=" + "g" * 64, []),
            ("all zeros", "sha256=" + "0" * 64, []),
            ("two values", good + ", " + good, []),
            ("a wrong one first", "sha256=" + "0" * 64,
             [("X-Hub-Signature-256", good)]),
        ]

    for i in range(len(forgeries(b"x"))):
        repo = "hostile/hook-%d-%d" % (base_id, i)
        body = delivery(repo, base_id + i)
        label, sig, extra = forgeries(body)[i]
        did = "hostile-forged-%d-%d" % (base_id, i)
        a = post_hook(body, sig, did, extra=extra)
        why = error_problem(a, 401, "invalid_signature")
        if not why and runs_of(repo) != []:
            why = "a run was created"
        if not why:
            a = post_hook(body, sign(body), did)
            if a.status != 202 or (a.json() or {}).get("status") != \
                    "accepted":
                why = "the genuine delivery afterwards got %d %s" % (
                    a.status, short(a.body))
        results.append(("forged: " + label, why))

    # Signed but malformed deliveries: the contract's 400s, no run.
    repo = "hostile/hook-bad-%d" % base_id
    bad_bodies = [
        ("invalid UTF-8", b"{\"action\": \"created\", \"x\": \"\xff\"}",
         "invalid_json", None),
        ("escaped NUL", b"{\"action\": \"created\", \"x\": \"a\\u0000\"}",
         "invalid_json", None),
        ("raw NUL", b"{\"action\": \"created\"}\x00", "invalid_json", None),
        ("40 deep", b"{\"a\":" * 40 + b"1" + b"}" * 40, "invalid_json", None),
        ("comment id a string", delivery(repo, 1).replace(
            b"\"id\": 1,", b"\"id\": \"1\","), "validation_failed",
         "comment.id"),
        ("comment id beyond int64", delivery(repo, 1).replace(
            b"\"id\": 1,", b"\"id\": 9223372036854775808,"),
         "validation_failed", "comment.id"),
        ("issue number zero", delivery(repo, 2, number=0),
         "validation_failed", "issue.number"),
        ("issue number beyond int32", delivery(repo, 3, number=2**31),
         "validation_failed", "issue.number"),
        ("repository with SQL", delivery("o/r'; DROP TABLE runs; --", 4),
         "validation_failed", "repository.full_name"),
        ("login with a shell", delivery(repo, 5).replace(
            b"\"alice\"", b"\"$(touch /tmp/x)\""), "validation_failed",
         "comment.user.login"),
        ("body an object", delivery(repo, 6).replace(
            b"\"body\": \"/gittinkerer fix it\"", b"\"body\": {}"),
         "validation_failed", "comment.body"),
    ]
    big = "b" * (1 << 20)
    bad_bodies += [
        ("1 MB repository", delivery(big[:99] + "/" + big, 7),
         "validation_failed", "repository.full_name"),
        ("1 MB login", delivery(repo, 8).replace(
            b"\"alice\"", frag(big)), "validation_failed",
         "comment.user.login"),
        ("a million open brackets", b"[" * 1000000, "invalid_json", None),
        ("a million nested objects", b"{\"a\":" * 1000000,
         "invalid_json", None),
    ]
    for i, (label, body, code, field) in enumerate(bad_bodies):
        a = post_hook(body, sign(body), "hostile-bad-%d-%d" % (base_id, i))
        results.append(("signed " + label, error_problem(a, 400, code,
                                                         field)))
    bad_headers = [
        ("event with upper case", "Issue_Comment", "d-%d-a" % base_id,
         "X-GitHub-Event"),
        ("event with a space", "issue comment", "d-%d-b" % base_id,
         "X-GitHub-Event"),
        ("event of 65 characters", "e" * 65, "d-%d-c" % base_id,
         "X-GitHub-Event"),
        ("delivery of 256 characters", "issue_comment", "d" * 256,
         "X-GitHub-Delivery"),
        ("delivery with UTF-8", "issue_comment", "d-\u00e9",
         "X-GitHub-Delivery"),
    ]
    body = delivery(repo, 99)
    for label, event, did, field in bad_headers:
        a = post_hook(body, sign(body), did, event=event)
        results.append(("signed, " + label, error_problem(
            a, 400, "validation_failed", field)))
    # Wide and many: a signed delivery of 999 999 members (12 MB; a
    # million values with the object) is answered promptly; one of 25 MiB
    # of zeros (12 million values) is refused, and no worker is left
    # holding the memory a tree of them would take.
    wide = b"{" + b",".join(b"\"k%d\":0" % i for i in range(999999)) + b"}"
    t0 = time.monotonic()
    a = post_hook(wide, sign(wide), "hostile-wide-%d" % base_id)
    took = time.monotonic() - t0
    why = success_problem(a, 200)
    if not why and took > WIDE_TIMEOUT:
        why = "answered after %.1f s" % took
    note("webhook: a delivery of 999 999 members answered in %.1f s" % took)
    results.append(("signed, 999 999 members", why))
    many = b"[" + b"0," * (12 * 1024 * 1024 - 1) + b"0]"
    t0 = time.monotonic()
    a = post_hook(many, sign(many), "hostile-many-%d" % base_id)
    took = time.monotonic() - t0
    rss = max(pool_worker_rss(), default=0)
    note("webhook: 25 MiB of zeros refused in %.1f s; the largest worker "
         "holds %d MB" % (took, rss // 1024))
    why = error_problem(a, 400, "invalid_json")
    if not why and rss > WORKER_RSS_MAX_KB:
        why = "a worker holds %d MB" % (rss // 1024)
    results.append(("signed, 25 MiB of zeros", why))
    wide = b"{" + b",".join(b"\"k%d\":0" % i for i in range(6000)) + b"}"
    t0 = time.monotonic()
    a = http("POST", "/api/runs", wide, token=OPERATOR)
    took = time.monotonic() - t0
    why = error_problem(a, 400, "validation_failed", "k0")
    if not why and took > 1:
        why = "answered after %.1f s" % took
    results.append(("a run of 6000 unknown members", why))

    body = delivery(repo, 100, "/gittinkerer " + big)
    a = post_hook(body, sign(body), "hostile-big-%d" % base_id)
    why = success_problem(a, 200)
    if not why and (a.json() or {}).get("reason") != "instruction_too_long":
        why = "answered %s" % short(a.body)
    results.append(("signed, a comment of 1 MB", why))
    results.append(("no run from the malformed deliveries",
                    None if runs_of(repo) == [] else "a run was created"))

    # The instruction of a comment, with SQL and shell, stored intact.
    repo = "hostile/hook-text-%d" % base_id
    text = " ".join(SQL_PAYLOADS + SHELL_PAYLOADS)
    body = delivery(repo, base_id + 500, "/gittinkerer " + text)
    a = post_hook(body, sign(body), "hostile-text-%d" % base_id)
    why = success_problem(a, 202)
    if not why:
        g = run_get((a.json() or {}).get("run_id", "x"))
        if (g.json() or {}).get("instruction") != text:
            why = "the run shows %s" % short(g.body)
    results.append(("a comment's SQL and shell stored intact", why))

    # A delivery id with SQL in it is a key like any other.
    repo = "hostile/hook-sqlid-%d" % base_id
    body = delivery(repo, base_id + 700)
    did = "x');DROP/**/TABLE/**/webhook_deliveries;--%d" % base_id
    first = post_hook(body, sign(body), did)
    again = post_hook(body, sign(body), did)
    why = success_problem(first, 202) or success_problem(again, 200)
    if not why and (again.json() or {}).get("run_id") != \
            (first.json() or {}).get("run_id"):
        why = "the replay names another run: %s" % short(again.body)
    results.append(("a delivery id with SQL, sent twice", why))

    # One delivery replayed 16 times at once: one run, one accepted.
    repo = "hostile/hook-replay-%d" % base_id
    body = delivery(repo, base_id + 1000)
    sig = sign(body)
    did = "hostile-replay-%d" % base_id
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: post_hook(body, sig, did),
                                range(16)))
    statuses = sorted(a.status for a in answers)
    bodies = [a.json() or {} for a in answers]
    run_ids = {o.get("run_id") for o in bodies}
    why = None
    if any(general_problem(a) for a in answers):
        why = next(general_problem(a) for a in answers if general_problem(a))
    elif statuses != [200] * 15 + [202]:
        why = "statuses %s" % statuses
    elif sorted(o.get("status") for o in bodies) != \
            ["accepted"] + ["duplicate"] * 15:
        why = "bodies %s" % short(bodies)
    elif len(run_ids) != 1 or None in run_ids:
        why = "run ids %s" % run_ids
    elif len(runs_of(repo) or []) != 1:
        why = "%d runs" % len(runs_of(repo) or [])
    results.append(("one delivery replayed 16 times at once", why))
    time.sleep(0.2)
    a = post_hook(body, sig, did)
    results.append(("the same delivery replayed later", None
                    if a.status == 200 and (a.json() or {}).get("status")
                    == "duplicate" and len(runs_of(repo) or []) == 1 else
                    "%d %s" % (a.status, short(a.body))))
    report_table("webhook", results, start)


# ---------------------------------------------------------------------------
# Section: slow connections

def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (max(need, soft), max(need, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_slow(n, head_slow, body_slow):
    """Opens n connections; returns them once each has sent its start."""
    sel = selectors.DefaultSelector()
    conns = []
    pending = 0
    batch = 500
    deadline = time.monotonic() + SLOW_OPEN_TIMEOUT
    failures = 0
    i = 0
    while (i < n or pending) and time.monotonic() < deadline:
        while i < n and pending < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            rc = s.connect_ex(("127.0.0.1", PORT))
            if rc not in (0, errno.EINPROGRESS):
                failures += 1
                s.close()
            else:
                sel.register(s, selectors.EVENT_WRITE, i)
                pending += 1
            i += 1
        for key, _ in sel.select(1.0):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                failures += 1
                s.close()
                continue
            start = head_slow if key.data % 2 == 0 else body_slow
            try:
                s.send(start)
            except OSError:
                failures += 1
                s.close()
                continue
            conns.append((s, key.data % 2))
    for key in list(sel.get_map().values()):
        key.fileobj.close()
        failures += 1
    sel.close()
    return conns, failures + (n - i)


def alive(s):
    try:
        data = s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False if data == b"" else True


def nginx_sockets():
    """The sockets the stack's nginx workers hold: a client waiting in the
    listen queue has none."""
    with open(os.path.join(STACK_DIR, "run", "nginx.pid")) as f:
        master = f.read().strip()
    total = 0
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            if ppid != master:
                continue
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith(
                        "socket:"):
                    total += 1
        except (OSError, IndexError):
            continue
    return total


def pool_counts():
    """Requests the pool has answered, by route, from /metrics."""
    counts = {}
    a = http("GET", "/metrics")
    for m in re.finditer(rb'^gittinkerer_http_requests_total\{route="([^"]+)",'
                         rb'status="\d+"\} (\d+)$', a.body, re.M):
        route = m.group(1).decode()
        counts[route] = counts.get(route, 0) + int(m.group(2))
    return counts


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def production_header_timeout(result):
    """Starts the production site and times how long it waits for a
    header that never ends: its client_header_timeout."""
    stack = os.path.join(SRCDIR, "t", "stack.sh")
    out = subprocess.run(["bash", stack, "nginx-tls-start", STACK_DIR],
                         capture_output=True, text=True)
    if out.returncode != 0:
        result["why"] = "nginx-tls-start failed: " + out.stderr[-300:]
        return
    try:
        env = open(os.path.join(STACK_DIR, "stack.params")).read()
        base = int(re.search(r"port_base=(\d+)", env).group(1))
        ctx = ssl.create_default_context(cafile=os.path.join(
            STACK_DIR, "nginx-tls", "cert.pem"))
        times = [0.0, 0.0]

        def unfinished_header(slot, port, use_tls):
            raw = socket.create_connection(("127.0.0.1", port), 30)
            s = ctx.wrap_socket(raw, server_hostname="localhost") \
                if use_tls else raw
            t0 = time.monotonic()
            s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-a: b")
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
            times[slot] = time.monotonic() - t0
            s.close()

        threads = [threading.Thread(target=unfinished_header, args=a)
                   for a in ((0, base + 4, False), (1, base + 3, True))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result["times"] = times

        # nginx's own 405, 501 and 505, in the contract's format.
        for line, extra, status, code in (
                ("TRACE /health HTTP/1.1", [], 405, "method_not_allowed"),
                ("POST /api/runs HTTP/1.1", ["Transfer-Encoding: gzip"], 400,
                 "invalid_parameter"),
                ("GET /health HTTP/9.9", [], 400, "invalid_parameter")):
            raw = socket.create_connection(("127.0.0.1", base + 3), 20)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(raw_request(line, ["Host: localhost",
                                         "Connection: close"] + extra))
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            s.close()
            why = error_problem(Answer(data), status, code)
            if why:
                result["errors"] = "%s: %s" % (line, why)
        low, high = PROD_HEADER_TIMEOUT
        bad = [t for t in times if not low <= t <= high]
        if bad:
            result["why"] = "closed after %s s, expected %d-%d s" % (
                ["%.1f" % t for t in times], low, high)
    finally:
        subprocess.run(["bash", stack, "nginx-tls-stop", STACK_DIR],
                       capture_output=True)


def section_slow():
    n = SLOW_CONNECTIONS
    need = n + 512
    got = raise_nofile(need)
    if got < need:
        not_ok("slow: open files", "RLIMIT_NOFILE is %d, %d needed" % (
            got, need))
        return
    error_log = os.path.join(STACK_DIR, "log", "nginx-error.log")
    log_start = os.path.getsize(error_log) if os.path.exists(error_log) \
        else 0
    run_id = create_run("hostile/slow", 1)

    prod = {}
    prod_thread = threading.Thread(target=production_header_timeout,
                                   args=(prod,))
    prod_thread.start()

    head_slow = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    body_slow = ("POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer %s\r\nContent-Type: application/json"
                 "\r\nContent-Length: 4000\r\n\r\n{" % OPERATOR).encode()
    t0 = time.monotonic()
    conns, failures = open_slow(n, head_slow, body_slow)
    opened = time.monotonic() - t0
    note("slow: %d connections opened in %.1f s, %d failed" % (
        len(conns), opened, failures))
    verdict("slow: %d connections held open on nginx" % n,
            None if failures == 0 and len(conns) == n else
            "%d of %d opened" % (len(conns), n))

    # Normal requests while they are held, for SLOW_HOLD seconds at least:
    # fresh connections, each timed.  The pool's own counts show that no
    # slow request reached a worker meanwhile.
    before = pool_counts()
    latencies = []
    problems = []
    sent = {"health": 0, "runs.get": 0, "runs.create": 0}
    held = time.monotonic()
    trickled = held
    i = 0
    while i < 300 or time.monotonic() - held < SLOW_HOLD:
        s = time.monotonic()
        if i % 3 == 0:
            a, want, route = http("GET", "/health", timeout=10), 200, \
                "health"
        elif i % 3 == 1:
            a, want, route = run_get(run_id), 200, "runs.get"
        else:
            a = http("POST", "/api/runs", json.dumps({
                "repo": "hostile/slow", "target": {"type": "issue",
                                                   "number": 2},
                "instruction": "while slow clients wait"}), token=OPERATOR,
                timeout=10)
            want, route = 201, "runs.create"
        latencies.append((time.monotonic() - s) * 1000)
        sent[route] += 1
        why = success_problem(a, want)
        if why:
            problems.append(why)
        i += 1
        if time.monotonic() - trickled > 2:
            # A byte more from each slow client, as a slow one sends.
            trickled = time.monotonic()
            for c, kind in conns:
                try:
                    c.send(b"x" if kind == 0 else b" ")
                except OSError:
                    pass
        time.sleep(0.01)
    after = pool_counts()
    grown = {r: after.get(r, 0) - before.get(r, 0) for r in sent}
    note("slow: the pool counted %s, the test sent %s" % (grown, sent))
    verdict("slow: no slow request reached a worker while held",
            None if grown == sent else "the pool counted %s for %s" % (
                grown, sent))
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    note("slow: %d requests while held: p50 %.1f ms, p99 %.1f ms, "
         "max %.1f ms" % (len(latencies), p50, p99, max(latencies)))
    verdict("slow: every normal request answered while held",
            problems[0] if problems else None)
    verdict("slow: p99 under %d ms while held" % SLOW_P99_MS,
            None if p99 < SLOW_P99_MS else "p99 %.1f ms" % p99)

    sockets = nginx_sockets()
    note("slow: nginx's workers hold %d sockets" % sockets)
    verdict("slow: nginx accepted every slow connection",
            None if sockets >= len(conns) else "%d sockets for %d clients" % (
                sockets, len(conns)))

    still = sum(1 for c, _ in conns if alive(c))
    note("slow: %d of %d still open after %.1f s" % (
        still, len(conns), time.monotonic() - t0))
    verdict("slow: nginx kept every slow connection",
            None if still == len(conns) else "%d closed" % (
                len(conns) - still))

    # Fifty of the slow header clients finish their request: answered.
    finished = 0
    sample = [c for c, kind in conns if kind == 0][:50]
    for c in sample:
        c.setblocking(True)
        c.settimeout(10)
        try:
            c.sendall(b"\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            if Answer(data).status == 200:
                finished += 1
        except OSError:
            pass
    verdict("slow: slow clients that finish are answered",
            None if finished == len(sample) else "%d of %d" % (
                finished, len(sample)))
    for c, _ in conns:
        c.close()

    with open(error_log, "rb") as f:
        f.seek(log_start)
        errors = f.read().decode("utf-8", "replace")
    starved = [line for line in errors.splitlines()
               if "worker_connections" in line or "Too many open" in line]
    verdict("slow: nginx never ran short of connections",
            starved[0] if starved else None)

    prod_thread.join()
    if "times" in prod:
        note("slow: the production site closed a header left unfinished "
             "after %s s (HTTP, HTTPS)" % ", ".join(
                 "%.1f" % t for t in prod["times"]))
    verdict("slow: the production site's client_header_timeout holds",
            prod.get("why"))
    verdict("slow: the production site's own 405, 501 and 505 are JSON",
            prod.get("errors") or (None if "times" in prod else
                                   "not checked: " + str(prod.get("why"))))


# ---------------------------------------------------------------------------
# Section: after

TABLES = ["runs", "run_metrics", "rate_limits", "paused_repos",
          "paused_run_targets", "webhook_deliveries", "github_outbox",
          "webhook_redeliveries", "schema_migrations"]


LEAK_PATTERNS = [
    (re.compile(rb"ghs_[A-Za-z0-9_-]{16,}"), "a GitHub installation token"),
    (re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY"), "a private key"),
    (re.compile(rb"Bearer [A-Za-z0-9._~+/-]{16,}"), "a bearer token"),
]


def leaks(data, secrets):
    """What of secrets (name: value), or of any token or key, data holds:
    each whole, or its first 16 characters."""
    out = []
    lower = data.lower()
    for what, value in secrets.items():
        for probe in {value, value[:16]}:
            if len(probe) >= 12 and probe.lower().encode() in lower:
                out.append(what)
                break
    out.extend(what for pattern, what in LEAK_PATTERNS
               if pattern.search(data))
    return out


def section_after():
    verdict("after: no shell payload ran (%s absent)" % MARKER,
            "the marker exists" if os.path.exists(MARKER) else None)

    query = "SELECT " + ", ".join("to_regclass('%s') IS NOT NULL" % t
                                  for t in TABLES)
    out = subprocess.run(["psql", DATABASE_URL, "-XAtc", query],
                         capture_output=True, text=True)
    present = out.stdout.strip().split("|")
    verdict("after: every table is still there", None
            if out.returncode == 0 and present == ["t"] * len(TABLES) else
            "psql: %s %s" % (out.stdout.strip(), out.stderr.strip()[-200:]))
    a = http("GET", "/api/runs?limit=1", token=OPERATOR)
    verdict("after: the runs are still listed",
            None if a.status == 200 and (a.json() or {}).get("total", 0) > 0
            else "%d %s" % (a.status, short(a.body)))

    # No secret in any log the stack wrote.
    secrets = {"the operator token": OPERATOR, "the admin token": ADMIN,
               "the webhook secret": SECRET}
    for name in ("operator_tokens", "admin_tokens"):
        path = os.path.join(STACK_DIR, "secrets", name)
        if os.path.exists(path):
            for i, line in enumerate(open(path).read().split()):
                secrets["%s #%d" % (name, i + 1)] = line
    for digest in signatures_sent:
        secrets["signature " + digest[:8]] = digest
    log_dir = os.path.join(STACK_DIR, "log")
    scanned = 0
    found = []
    # The scan itself must find a secret where there is one.
    control = leaks(b"x " + OPERATOR.encode() + b" y", secrets)
    verdict("after: the log scan finds a planted token (the control)",
            None if control else "it found nothing")
    for entry in sorted(os.listdir(log_dir)):
        path = os.path.join(log_dir, entry)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        scanned += len(data)
        found.extend("%s in %s" % (what, entry)
                     for what in leaks(data, secrets))
    note("after: %d bytes of logs scanned for %d secrets and signatures" % (
        scanned, len(secrets)))
    verdict("after: no token, secret or signature in the logs",
            "; ".join(sorted(set(found))) if found else None)

    # Untrusted bytes cannot forge a line of the pool's log.
    bad = []
    with open(os.path.join(log_dir, "pool.log"), "rb") as f:
        for line in f:
            if not (line.startswith(b"ts=") or
                    line.startswith(b"--- t/stack.sh")):
                bad.append(line[:120])
    verdict("after: every line of the pool's log is one event",
            "%d stray lines, first %s" % (len(bad), short(bad[0]))
            if bad else None)


SECTION_FUNCS = [
    ("fields", section_fields), ("params", section_params),
    ("headers", section_headers), ("metrics", section_metrics),
    ("artifacts", section_artifacts), ("webhook", section_webhook),
    ("slow", section_slow), ("after", section_after),
]


def main():
    t0 = time.monotonic()
    for name, fn in SECTION_FUNCS:
        if SECTIONS and name not in SECTIONS:
            continue
        start = time.monotonic()
        try:
            fn()
        except Exception as e:  # a crash of the test is a failure, named
            not_ok(name, "the section stopped: %r" % e)
        note("%s: %.1f s" % (name, time.monotonic() - start))
    if os.path.exists(MARKER):
        os.unlink(MARKER)
    note("total: %.1f s" % (time.monotonic() - t0))
    print("hostile tests: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
