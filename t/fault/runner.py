#!/usr/bin/env python3
"""runner.py: the runner of the fault-injection suite (t/fault/run.sh).

The dispatcher starts it as it starts the real runner: argv[1] is the
payload, the environment holds only the contract's variables.  What it
does is chosen by the first word of the run's instruction:

  work MS TAG   append the run id to $HOME/starts.log, sleep MS
                milliseconds, write result.json, exit 0.  TAG only makes
                the instruction unique to the request that asked for it.
  forkbomb      fork for ever: every process forks again, and a fork the
                kernel refuses is tried again 50 ms later.  Only
                RLIMIT_NPROC bounds it, and only the run's timeout ends it.
  eat-memory    allocate and touch memory, 1 MiB at a time, until it is
                refused: only RLIMIT_AS stops it, and the MemoryError that
                follows ends the process with status 1.

"work" never forks, so that a run beside a fork bomb, which shares its
user's process count, still does its work.  The two hostile instructions
refuse to start (exit 70) when the limit that bounds them is missing, or
when run as root (RLIMIT_NPROC does not bind root): the suite must never
take the host down because it was set up wrongly.
"""

import json
import os
import resource
import sys
import time

REFUSED = 70


def instruction(payload_path):
    with open(payload_path, encoding="utf-8") as f:
        return json.load(f)["instruction"]


def work(ms):
    fd = os.open(os.path.join(os.environ["HOME"], "starts.log"),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (os.environ["GITTINKERER_RUN_ID"] + "\n").encode())
    finally:
        os.close(fd)
    time.sleep(ms / 1000.0)
    path = os.path.join(os.environ["GITTINKERER_ARTIFACTS_DIR"],
                        "result.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"summary": "worked %d ms"}' % ms)
    return 0


def bounded(limit, what):
    soft, _ = resource.getrlimit(limit)
    if soft == resource.RLIM_INFINITY or os.getuid() == 0:
        print("fault runner: refusing %s: no limit would bound it" % what,
              file=sys.stderr)
        return False
    return True


def forkbomb():
    if not bounded(resource.RLIMIT_NPROC, "a fork bomb"):
        return REFUSED
    print("fault runner: forking for ever", flush=True)
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.05)


def eat_memory():
    if not bounded(resource.RLIMIT_AS, "eating memory"):
        return REFUSED
    print("fault runner: eating memory", flush=True)
    chunks = []
    while True:
        chunks.append(b"x" * (1 << 20))


def main():
    words = instruction(sys.argv[1]).split()
    what = words[0] if words else ""
    print("fault runner: run %s: %s" % (os.environ["GITTINKERER_RUN_ID"],
                                        " ".join(words)), flush=True)
    if what == "work" and len(words) >= 2 and words[1].isdigit():
        return work(int(words[1]))
    if what == "forkbomb":
        return forkbomb()
    if what == "eat-memory":
        return eat_memory()
    print("fault runner: unknown instruction", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
