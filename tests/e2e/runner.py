"""Runs one e2e test module with the stdlib unittest runner and writes its counts for run.sh.

usage: python3 runner.py MODULE RESULTS_JSON LABEL

The counts go to a file instead of being scraped from unittest's text output, so run.sh's summary does
not depend on how a given Python version words its report.
"""

import json
import os
import sys
import unittest


def main():
    module, results_path, label = sys.argv[1:4]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # A failing subTest is reported against its parent test; an error in setUpModule/setUpClass against a
    # placeholder that is not a test. Count distinct units, so one test never counts as passed and failed.
    bad = {getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors}
    bad.update(t.id() for t in result.unexpectedSuccesses)
    ran_bad = {i for i in bad if not i.startswith(("setUp", "tearDown"))}
    skipped = len(result.skipped)
    counts = {"suite": label, "run": result.testsRun, "failed": len(bad), "skipped": skipped,
              "passed": max(0, result.testsRun - len(ran_bad) - skipped)}
    failed = len(bad)
    with open(results_path, "w") as f:
        json.dump(counts, f)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
