#!/usr/bin/env python3
"""books.py: checks the books after a scenario of the fault-injection
suite (t/fault/run.sh), and prints the suite's table.

    books.py check --scenario NAME --owner OWNER --url URL --out FILE
        --ledger FILE [--ledger FILE ...] --starts FILE
        [--drain 60] [--recovery-bound 20] [--expect-stage STAGE ...]
        [--allow-stage STAGE ...] [--fail REASON ...] [--max-errors N]
        [--health-ms MS]
    books.py table FILE... [--out FILE]

check reads what t/fault/load.py recorded (--ledger: its drive and probe
files), waits up to --drain seconds for the scenario's runs to leave
queued and running, then reads the runs of OWNER/NAME and OWNER/NAME-gh
from PostgreSQL (psql, GT_DATABASE_URL) and finds:

  lost      an accepted request whose run is not in the table, or not
            under the key, comment and delivery the request carried;
  doubled   a run beyond the first for one request (each request's
            instruction is its own), a run that no accepted request
            names, or a run the runner was started for more than once
            (--starts: the run ids the runner wrote as it started);
  stuck     a run still queued or running after the drain;
  stale     a run that GET /api/runs/:id shows in another status than
            the table's, still after the status cache's 5 s;
  unresolved, refused, ignored
            a request that never got its answer even after the load's
            retries, that got a 4xx other than 408 and 429, or a
            delivery answered 2xx without a run (every one the load
            sends is a trigger the service must accept);
  unknown   a poll of an accepted run answered 404.

It also fails when more answers than --max-errors were other than 2xx,
when the probe did not see the service recover within
--recovery-bound seconds, when a run failed at a stage that is neither
expected (--expect-stage, each of which must occur at least once: the
fault must have bitten) nor allowed (--allow-stage), and for each
--fail reason the caller found (a process left dead, say).  It prints
one line per finding, writes its figures to --out as JSON, and exits 1
when anything failed.

table prints one row per file check wrote, in the order given, and
writes the same text to --out when given.  Its columns: the requests
sent (creates, deliveries and polls, retries included), those answered
other than 2xx, the runs made and those that failed (by stage), lost
and doubled runs, the recovery the probe measured, how long GET /health
took in the middle of the fault (--health-ms), the verdict, and the
non-2xx answers by cause and kind of request.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time

CACHE_TTL_S = 6		# the status cache keeps an unfinished run 5 s
SEP = "\x1f"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="books.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--scenario", required=True)
    c.add_argument("--owner", required=True)
    c.add_argument("--url", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--ledger", action="append", required=True)
    c.add_argument("--starts", required=True)
    c.add_argument("--drain", type=float, default=60.0)
    c.add_argument("--recovery-bound", type=float, default=20.0)
    c.add_argument("--expect-stage", action="append", default=[])
    c.add_argument("--allow-stage", action="append", default=[])
    c.add_argument("--fail", action="append", default=[])
    c.add_argument("--max-errors", type=int,
                   help="answers other than 2xx the fault may cause")
    c.add_argument("--health-ms", type=int,
                   help="how long GET /health took during the fault")
    t = sub.add_parser("table")
    t.add_argument("files", nargs="+")
    t.add_argument("--out")
    return p.parse_args(argv)


def psql(sql):
    """Rows of a query, each a list of strings."""
    url = os.environ.get("GT_DATABASE_URL")
    if not url:
        raise SystemExit("books.py: GT_DATABASE_URL must be set")
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-F", SEP, "-v", "ON_ERROR_STOP=1",
         "-d", url, "-c", sql],
        check=True, capture_output=True, text=True, timeout=30).stdout
    return [line.split(SEP) for line in out.splitlines() if line]


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def repos_clause(a):
    return "repo_key IN (%s, %s)" % (
        sql_text(("%s/%s" % (a.owner, a.scenario)).lower()),
        sql_text(("%s/%s-gh" % (a.owner, a.scenario)).lower()))


def drain(a):
    """Waits for the runs to finish; returns how long it took, in s."""
    start = time.monotonic()
    while True:
        left = int(psql("SELECT count(*) FROM runs WHERE %s AND status IN "
                        "('queued', 'running')" % repos_clause(a))[0][0])
        if left == 0 or time.monotonic() - start >= a.drain:
            return time.monotonic() - start
        time.sleep(0.5)


def api_status(a, token, run_id):
    host, _, port = a.url.split("//", 1)[1].partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=10)
    try:
        conn.request("GET", "/api/runs/" + run_id,
                     headers={"Authorization": "Bearer " + token})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return "HTTP %d" % resp.status
        return json.loads(body).get("status")
    except (OSError, http.client.HTTPException, ValueError) as e:
        return type(e).__name__
    finally:
        conn.close()


def load_ledgers(files):
    merged = {"requests": {}, "causes": {}, "accepted": [],
              "unresolved": [], "refused": [], "ignored": [],
              "recovery_ms": None, "probed": False}
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for kind, n in doc["requests"].items():
            merged["requests"][kind] = merged["requests"].get(kind, 0) + n
        for cause, per in doc["causes"].items():
            into = merged["causes"].setdefault(cause, {})
            for kind, n in per.items():
                into[kind] = into.get(kind, 0) + n
        for bucket in ("accepted", "unresolved", "refused", "ignored"):
            merged[bucket].extend(doc[bucket])
        if "recovery_ms" in doc:
            merged["probed"] = True
            merged["recovery_ms"] = doc["recovery_ms"]
    return merged


def check(a):
    led = load_ledgers(a.ledger)
    findings = []
    drained_s = drain(a)

    rows = psql("SELECT id, coalesce(idempotency_key, ''), "
                "coalesce(comment_id::text, ''), "
                "coalesce(delivery_id, ''), status, "
                "coalesce(error_stage, ''), instruction, "
                "coalesce(error_message, '') "
                "FROM runs WHERE %s" % repos_clause(a))
    runs = {}
    by_tag = {}
    for rid, key, comment, delivery, status, stage, instr, msg in rows:
        runs[rid] = {"key": key, "comment": comment, "delivery": delivery,
                     "status": status, "stage": stage, "message": msg}
        words = instr.split()
        tag = words[2] if len(words) >= 3 else instr
        by_tag.setdefault(tag, []).append(rid)

    lost = 0
    for r in led["accepted"]:
        run = runs.get(r["run_id"])
        if run is None:
            lost += 1
            findings.append("lost: %s %s answered run %s, which is not "
                            "in the table" % (r["kind"], r["tag"],
                                              r["run_id"]))
            continue
        if r["kind"] == "create":
            ok = run["key"] == r["key"]
        else:
            ok = (run["comment"] == str(r["comment_id"]) and
                  run["delivery"] == r["key"])
        if not ok:
            lost += 1
            findings.append("lost: %s %s answered run %s, which belongs "
                            "to another request" % (r["kind"], r["tag"],
                                                    r["run_id"]))

    doubled = 0
    asked = {r["tag"] for r in led["accepted"]}
    asked.update(r["tag"] for r in led["unresolved"])
    for tag, ids in sorted(by_tag.items()):
        if len(ids) > 1:
            doubled += len(ids) - 1
            findings.append("doubled: %d runs for %s: %s" %
                            (len(ids), tag, " ".join(ids)))
        if tag not in asked:
            doubled += len(ids)
            findings.append("doubled: run %s for %s, which no accepted "
                            "request asked for" % (" ".join(ids), tag))
    starts = {}
    try:
        with open(a.starts, encoding="utf-8") as f:
            for line in f:
                starts[line.strip()] = starts.get(line.strip(), 0) + 1
    except FileNotFoundError:
        pass
    for rid in runs:
        if starts.get(rid, 0) > 1:
            doubled += 1
            findings.append("doubled: the runner started %d times for "
                            "run %s" % (starts[rid], rid))

    stuck = [rid for rid, run in runs.items()
             if run["status"] in ("queued", "running")]
    for rid in stuck:
        findings.append("stuck: run %s is still %s after %.0f s" %
                        (rid, runs[rid]["status"], drained_s))

    stale = []
    token = os.environ.get("GT_OPERATOR_TOKEN", "")
    ids = [r["run_id"] for r in led["accepted"] if r["run_id"] in runs]
    for attempt in range(2):
        stale = [rid for rid in ids
                 if api_status(a, token, rid) != runs[rid]["status"]]
        if not stale or attempt == 1:
            break
        time.sleep(CACHE_TTL_S)
        ids = stale
    for rid in stale:
        findings.append("stale: GET /api/runs/%s says %s, the table %s" %
                        (rid, api_status(a, token, rid),
                         runs[rid]["status"]))

    errors = sum(sum(per.values()) for per in led["causes"].values())
    if a.max_errors is not None and errors > a.max_errors:
        findings.append("%d answers other than 2xx, where this fault "
                        "allows %d" % (errors, a.max_errors))

    # A poll names a run already accepted: it must never be unknown.
    for cause, per in sorted(led["causes"].items()):
        if cause.startswith("404") and per.get("poll"):
            findings.append("%d polls of accepted runs answered %s" %
                            (per["poll"], cause))

    for bucket in ("unresolved", "refused", "ignored"):
        for r in led[bucket]:
            findings.append("%s: %s %s (%s)" % (bucket, r["kind"], r["tag"],
                                                r["why"] or "no answer"))

    stages = {}
    examples = {}
    for rid, run in sorted(runs.items()):
        if run["status"] == "failed":
            stages[run["stage"]] = stages.get(run["stage"], 0) + 1
            examples.setdefault(run["stage"], "%s: %s" %
                                (rid, run["message"]))
    for stage in a.expect_stage:
        if stage not in stages:
            findings.append("no run failed at stage %s: the fault did not "
                            "bite" % stage)
    for stage, n in sorted(stages.items()):
        if stage not in a.expect_stage and stage not in a.allow_stage:
            findings.append("%d runs failed at stage %s, which this "
                            "scenario does not explain" % (n, stage))

    recovery = led["recovery_ms"]
    if led["probed"] and recovery is None:
        findings.append("the service did not recover (health ok and a "
                        "create accepted)")
    elif recovery is not None and recovery > a.recovery_bound * 1000:
        findings.append("recovery took %.1f s, over the bound of %.0f s" %
                        (recovery / 1000.0, a.recovery_bound))
    findings.extend(a.fail)

    statuses = {}
    for run in runs.values():
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    result = {"scenario": a.scenario,
              "requests": sum(led["requests"].values()),
              "by_kind": led["requests"], "causes": led["causes"],
              "accepted": len(led["accepted"]), "runs": len(runs),
              "statuses": statuses, "failed_stages": stages,
              "failed_examples": examples,
              "lost": lost, "doubled": doubled, "stuck": len(stuck),
              "stale": len(stale), "recovery_ms": recovery,
              "drain_s": round(drained_s, 1), "health_ms": a.health_ms,
              "findings": findings,
              "ok": not findings}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f)
        f.write("\n")
    for line in findings:
        print("  " + line)
    return 0 if not findings else 1


def causes_text(causes):
    if not causes:
        return "-"
    parts = []
    for cause, per in sorted(causes.items(),
                             key=lambda kv: -sum(kv[1].values())):
        kinds = ", ".join("%s %d" % (k, n) for k, n in sorted(per.items()))
        parts.append("%s: %d (%s)" % (cause, sum(per.values()), kinds))
    return "; ".join(parts)


def table(a):
    rows = []
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            rows.append(json.load(f))
    head = ("scenario", "requests", "non-2xx", "runs", "failed", "lost",
            "doubled", "recovery", "health", "verdict", "non-2xx by cause")
    lines = []
    for r in rows:
        rec = r["recovery_ms"]
        stages = ", ".join("%s %d" % kv for kv in
                           sorted(r["failed_stages"].items()))
        failed = sum(r["failed_stages"].values())
        lines.append((r["scenario"], str(r["requests"]),
                      str(sum(sum(p.values()) for p in r["causes"].values())),
                      str(r["runs"]),
                      "%d (%s)" % (failed, stages) if failed else "0",
                      str(r["lost"]), str(r["doubled"]),
                      "-" if rec is None else "%.1f s" % (rec / 1000.0),
                      "-" if r.get("health_ms") is None
                      else "%.1f s" % (r["health_ms"] / 1000.0),
                      "ok" if r["ok"] else "FAILED",
                      causes_text(r["causes"])))
    widths = [max(len(x[i]) for x in [head] + lines)
              for i in range(len(head) - 1)]
    text = []
    for row in [head] + lines:
        cells = [row[i].ljust(widths[i]) if i in (0, 4, 9)
                 else row[i].rjust(widths[i]) for i in range(len(widths))]
        text.append("  ".join(cells + [row[-1]]).rstrip())
    out = "\n".join(text) + "\n"
    sys.stdout.write(out)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(out)
    return 0 if all(r["ok"] for r in rows) else 1


def main(argv):
    a = parse_args(argv)
    return check(a) if a.cmd == "check" else table(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
