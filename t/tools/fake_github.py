#!/usr/bin/env python3
"""A fake GitHub REST API for the tests: Python 3, standard library only.

    fake_github.py --port P --state-dir D [--fixtures DIR] [--app-id N]

Serves, with answers shaped like the fixtures in t/fixtures/github/api:

    POST /app/installations/{id}/access_tokens      201, a new token
    GET  /app/hook/deliveries?per_page=&cursor=      200, a page of the list
    POST /app/hook/deliveries/{id}/attempts          202
    GET  /repos/{owner}/{repo}/pulls/{n}             200
    POST /repos/{owner}/{repo}/issues/comments/{id}/reactions   201
    POST /repos/{owner}/{repo}/pulls/comments/{id}/reactions    201
    POST /repos/{owner}/{repo}/issues/{n}/comments   201

The /app endpoints want "Authorization: Bearer <JWT>" (three base64url
parts, RS256, iss the app id when --app-id is given, not expired); the
repository endpoints want "Authorization: token <t>" with a token this
server issued.  Anything else is 401.  The signature is not checked.

Every request but the control ones is appended to D/requests.jsonl as one
JSON object: time, method, path, query, headers (names in lower case),
body.  With --port 0 a free port is taken; the port is written to D/port
once the server listens, either way.

POST /_control takes a JSON object, one of:

    {"fault": {"count": N, "prefix": "/repos/", "mode": M, ...}}
        answer the next N requests whose path starts with prefix thus:
        "rate_limit" 403, x-ratelimit-remaining 0, x-ratelimit-reset
                     "reset" (epoch seconds, default now + 60)
        "retry_after" "status" (default 429) with retry-after "seconds"
        "error"      "status" (default 502), or "body" (a JSON value)
        "slow"       sleep "seconds", then answer as usual
        "huge"       200 with a body of "bytes" bytes
    {"token_ttl": {"installation": ID, "seconds": S}}
        tokens of that installation expire S seconds after issue
    {"deliveries": [...]}
        the list GET /app/hook/deliveries serves
    {"hook": {"url": U, "secret": S}}
        where the App's webhook is: a redelivery (POST .../attempts) of a
        listed delivery that carries "_payload" (the JSON body) is then
        sent there, signed with S, with X-GitHub-Event its "event" and
        X-GitHub-Delivery its "guid", as GitHub does: after the 202
    {"reset": true}
        forget faults, token lifetimes, the deliveries and the hook
GET /_control answers {"ok": true}: the tests poll it until it does.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

LOCK = threading.Lock()
STATE = {"faults": [], "ttl": {}, "deliveries": None, "tokens": set(),
         "hook": None}
ARGS = None

ROUTES = [
    ("POST", r"/app/installations/(\d+)/access_tokens", "token"),
    ("GET", r"/app/hook/deliveries", "deliveries"),
    ("POST", r"/app/hook/deliveries/(\d+)/attempts", "redeliver"),
    ("GET", r"/repos/[^/]+/[^/]+/pulls/(\d+)", "pull"),
    ("POST", r"/repos/[^/]+/[^/]+/issues/comments/(\d+)/reactions", "react"),
    ("POST", r"/repos/[^/]+/[^/]+/pulls/comments/(\d+)/reactions", "react"),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", "comment"),
]
REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket",
             "eyes"}


def record(entry):
    """Appends one request (or a delivery sent) to requests.jsonl."""
    with LOCK, open(os.path.join(ARGS.state_dir, "requests.jsonl"),
                    "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def fixture(name):
    with open(os.path.join(ARGS.fixtures, name), encoding="utf-8") as f:
        return json.load(f)


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_ok(token):
    """Whether token looks like the App's JWT: shape and claims only."""
    parts = token.split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_-]+", p)
                                  for p in parts):
        return False
    try:
        header, claims = b64url_json(parts[0]), b64url_json(parts[1])
    except ValueError:
        return False
    now = time.time()
    if header.get("alg") != "RS256" or not isinstance(claims, dict):
        return False
    if ARGS.app_id and str(claims.get("iss")) != str(ARGS.app_id):
        return False
    exp, iat = claims.get("exp"), claims.get("iat")
    return (isinstance(exp, int) and isinstance(iat, int)
            and iat <= now < exp and exp - iat <= 600)


def take_fault(path):
    """The first fault matching path, counted down; None when none."""
    with LOCK:
        for fault in STATE["faults"]:
            if fault["count"] > 0 and path.startswith(fault.get("prefix",
                                                                 "/")):
                fault["count"] -= 1
                return dict(fault)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if url.path == "/_control":
            return self.control(method, body)
        record({"time": time.time(), "method": method, "path": url.path,
                "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body})

        fault = take_fault(url.path)
        if fault is not None and fault["mode"] == "slow":
            time.sleep(fault.get("seconds", 5))
        elif fault is not None:
            return self.faulty(fault)

        for m, pattern, name in ROUTES:
            match = re.fullmatch(pattern, url.path)
            if match and m == method:
                if not self.authorized(url.path):
                    return self.answer(401, {"message": "Bad credentials"})
                return getattr(self, "route_" + name)(
                    match, parse_qs(url.query), body)
        return self.answer(404, {"message": "Not Found"})

    def faulty(self, fault):
        mode = fault["mode"]
        if mode == "rate_limit":
            reset = fault.get("reset", int(time.time()) + 60)
            return self.answer(403, fixture("rate_limited_403.json"), {
                "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core"})
        if mode == "retry_after":
            return self.answer(fault.get("status", 429),
                               fixture("secondary_rate_limit_403.json"),
                               {"retry-after": str(fault.get("seconds", 60))})
        if mode == "huge":
            return self.answer(200, b" " * fault.get("bytes", 2 << 20))
        return self.answer(fault.get("status", 502),
                           fault.get("body", {"message": "Server Error"}))

    def authorized(self, path):
        auth = self.headers.get("Authorization", "")
        if path.startswith("/app/"):
            return auth.startswith("Bearer ") and jwt_ok(auth[7:])
        with LOCK:
            return auth.startswith("token ") and auth[6:] in STATE["tokens"]

    def control(self, method, body):
        if method == "GET":
            return self.answer(200, {"ok": True})
        try:
            order = json.loads(body)
        except ValueError:
            return self.answer(400, {"message": "not JSON"})
        with LOCK:
            if "fault" in order:
                STATE["faults"].append(dict(order["fault"]))
            if "token_ttl" in order:
                ttl = order["token_ttl"]
                STATE["ttl"][str(ttl["installation"])] = int(ttl["seconds"])
            if "deliveries" in order:
                STATE["deliveries"] = order["deliveries"]
            if "hook" in order:
                STATE["hook"] = dict(order["hook"])
            if order.get("reset"):
                STATE.update(faults=[], ttl={}, deliveries=None, hook=None)
        return self.answer(200, {"ok": True})

    def route_token(self, match, query, body):
        with LOCK:
            ttl = STATE["ttl"].get(match.group(1), 3600)
            token = "ghs_" + secrets.token_urlsafe(27)[:36]
            STATE["tokens"].add(token)
        answer = fixture("app_installation_access_token.json")
        answer["token"] = token
        answer["expires_at"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
        return self.answer(201, answer)

    def route_deliveries(self, match, query, body):
        with LOCK:
            items = STATE["deliveries"]
        if items is None:
            items = fixture("hook_deliveries.json")
        per_page = int(query.get("per_page", ["30"])[0])
        start = int(query.get("cursor", ["v1_0"])[0][3:])
        headers = {}
        if start + per_page < len(items):
            base = "http://%s:%d" % self.server.server_address[:2]
            headers["Link"] = (
                '<%s/app/hook/deliveries?per_page=%d&cursor=v1_%d>; '
                'rel="next"' % (base, per_page, start + per_page))
        return self.answer(200, items[start:start + per_page], headers)

    def route_redeliver(self, match, query, body):
        with LOCK:
            hook = STATE["hook"]
            item = next((d for d in STATE["deliveries"] or []
                         if str(d.get("id")) == match.group(1)), None)
        if item is not None and hook is not None and "_payload" in item:
            threading.Thread(target=deliver, args=(hook, item),
                             daemon=True).start()
        return self.answer(202, {})

    def route_pull(self, match, query, body):
        answer = fixture("pull_request.json")
        answer["number"] = int(match.group(1))
        return self.answer(200, answer)

    def route_react(self, match, query, body):
        try:
            content = json.loads(body).get("content")
        except (ValueError, AttributeError):
            content = None
        if content not in REACTIONS:
            return self.answer(422, {"message": "Validation Failed"})
        answer = fixture("reaction.created.json")
        answer["content"] = content
        return self.answer(201, answer)

    def route_comment(self, match, query, body):
        try:
            text = json.loads(body)["body"]
        except (ValueError, KeyError, TypeError):
            return self.answer(422, {"message": "Validation Failed"})
        answer = fixture("issue_comment.created.json")
        answer["body"] = text
        return self.answer(201, answer)


def deliver(hook, item):
    """Sends a listed delivery to the webhook again, signed."""
    payload = item["_payload"]
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    body = payload.encode("utf-8")
    sig = hmac.new(hook["secret"].encode("utf-8"), body,
                   hashlib.sha256).hexdigest()
    request = Request(hook["url"], data=body, method="POST", headers={
        "Content-Type": "application/json",
        "X-GitHub-Event": item.get("event", "ping"),
        "X-GitHub-Delivery": item["guid"],
        "X-Hub-Signature-256": "sha256=" + sig,
    })
    try:
        with urlopen(request, timeout=10) as answer:
            status = answer.status
    except OSError as e:
        status = getattr(e, "code", 0) or 0
    record({"time": time.time(), "method": "DELIVER", "path": hook["url"],
            "query": "", "headers": {}, "body": item["guid"],
            "status": status})


def main():
    global ARGS
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--fixtures", default=os.path.join(
        here, "..", "fixtures", "github", "api"))
    parser.add_argument("--app-id", type=int, default=0)
    ARGS = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    tmp = os.path.join(ARGS.state_dir, "port.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, os.path.join(ARGS.state_dir, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
