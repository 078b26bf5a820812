#!/usr/bin/env python3
"""Signed issue_comment deliveries for t/bench/routes.sh.

    routes_webhook.py FIXTURE SECRET COUNT > FILE

Writes COUNT lines "delivery signature body": the fixture (an accepted
/gittinkerer comment) with a comment id, an issue number and a commenter
of its own in each, compact JSON on one line, signed as GitHub signs
(X-Hub-Signature-256: HMAC-SHA256 of the body with the webhook's secret),
each with a delivery id of its own.  wrk cannot compute an HMAC, so it
cycles over these.
"""

import hashlib
import hmac
import json
import sys
import uuid


def main():
    fixture, secret, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    with open(fixture, encoding="utf-8") as f:
        payload = json.load(f)
    base = 3_000_000_000
    out = sys.stdout
    for i in range(count):
        payload["comment"]["id"] = base + i
        payload["comment"]["user"]["login"] = "bench-%d" % (i % 1000)
        payload["issue"]["number"] = 1 + i
        body = json.dumps(payload, separators=(",", ":"))
        sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        out.write("%s sha256=%s %s\n" % (uuid.uuid4(), sig, body))


if __name__ == "__main__":
    main()
