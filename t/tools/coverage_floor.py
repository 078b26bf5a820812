#!/usr/bin/env python3
"""Checks gcovr's JSON summary against the project's coverage floor.

    coverage_floor.py SUMMARY.json LINES FUNCTIONS BRANCHES

Prints the three figures and exits 1 when any is below its floor (in
percent), 2 when the summary cannot be read.  gcovr 5 has no floor for
functions of its own, hence this script.
"""

import json
import sys


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            summary = json.load(f)
        floors = [float(a) for a in argv[2:5]]
    except (OSError, ValueError) as e:
        print("coverage_floor: %s" % e, file=sys.stderr)
        return 2

    below = 0
    kinds = (("line", "lines"), ("function", "functions"),
             ("branch", "branches"))
    for ((kind, label), floor) in zip(kinds, floors):
        covered = summary["%s_covered" % kind]
        total = summary["%s_total" % kind]
        percent = 100.0 * covered / total if total else 100.0
        verdict = "ok" if percent >= floor else "BELOW THE FLOOR"
        print("coverage: %-9s %6.2f %% (%d of %d; floor %g %%) %s"
              % (label, percent, covered, total, floor, verdict))
        below += percent < floor
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
