#!/usr/bin/env python3
"""A fake Sentry for the tests: Python 3, standard library only.

    fake_sentry.py --port P --state-dir D

Takes envelopes as Sentry's ingestion does, at POST /api/{project}/envelope/,
and answers 200 {"id": <the envelope's event_id>}.  Each envelope is
appended to D/envelopes.jsonl as one JSON object: time, path, headers
(names in lower case) and body (the envelope's text).  With --port 0 a
free port is taken; the port is written to D/port once the server listens.

POST /_control takes {"delay": S}: every later envelope is answered only
after S seconds (0 to answer at once again).  GET /_control answers
{"ok": true}.
"""

import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"delay": 0.0}
ARGS = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_control":
            return self.answer(200, {"ok": True})
        return self.answer(404, {"detail": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/_control":
            with LOCK:
                STATE["delay"] = float(json.loads(body).get("delay", 0))
            return self.answer(200, {"ok": True})
        if not re.fullmatch(r"/api/\d+/envelope/", self.path):
            return self.answer(404, {"detail": "not found"})
        with LOCK:
            delay = STATE["delay"]
            with open(os.path.join(ARGS.state_dir, "envelopes.jsonl"), "a",
                      encoding="utf-8") as f:
                f.write(json.dumps({
                    "time": time.time(), "path": self.path,
                    "headers": {k.lower(): v
                                for k, v in self.headers.items()},
                    "body": body}) + "\n")
        time.sleep(delay)
        try:
            event_id = json.loads(body.split("\n", 1)[0])["event_id"]
        except (ValueError, KeyError):
            return self.answer(400, {"detail": "bad envelope header"})
        return self.answer(200, {"id": event_id})


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
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
