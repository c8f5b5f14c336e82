#!/usr/bin/env python3
"""A rank killed (SIGKILL) mid-run: the job ends non-zero soon, no process is left, and the CSV and
the JSON both parse and hold every completed row exactly once."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import LONG_PLAN_QUICK_ROWS, LongRun  # noqa: E402

END_WITHIN_S = 20


class Kill(fbtest.FbTestCase):
    def kill_and_check(self, rank, extra=()):
        lr = LongRun(self, 4, extra)
        lr.wait_rows(LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)  # into the long row
        t_kill = lr.signal_rank(rank, signal.SIGKILL)
        rc = lr.wait(END_WITHIN_S)
        elapsed = time.monotonic() - t_kill
        err = lr.stderr()
        csv_rows, doc = lr.check_ended(rc, f"rank {rank} was killed", END_WITHIN_S)
        json_rows = doc["rows"]
        print(f"\n    [rank {rank} killed{' with ' + ' '.join(extra) if extra else ''}: exit {rc} after "
              f"{elapsed:.1f} s; CSV {len(csv_rows)} rows, JSON {len(json_rows)} rows, status "
              f"{doc['status']!r}; temporary files: {[n for n in os.listdir(self.tmp) if '.tmp.' in n]}]")
        return rc, err, doc

    def test_kill_rank2(self):
        """No watchdog: mpirun notices the dead rank and ends the job, SIGTERM to the survivors: rank 0
        closes the JSON as interrupted (or, killed before it could, leaves it "running")."""
        _, _, doc = self.kill_and_check(2)
        self.assertIn(doc["status"], ("interrupted (SIGTERM)", "running"))

    def test_kill_rank2_with_watchdog(self):
        """With --timeout, rank 0's watchdog sees rank 2's side channel close: a peer failure,
        reported by rank and recorded as status "error" (results/SCHEMA.md: `timeout` is for the
        watchdog ending a hung run, `error` for a rank that failed)."""
        _, err, doc = self.kill_and_check(2, ["--timeout", "30"])
        lines = [l for l in fbtest.fb_lines(err) if "peer failure" in l]
        if not lines:
            # mpirun ended the job before rank 0's watchdog noticed: nothing more to check.
            self.assertIn(doc["status"], ("interrupted (SIGTERM)", "running"), err)
            return
        self.assertIn("rank 2", lines[0])
        self.assertIn(doc["status"], ("error", "running", "interrupted (SIGTERM)"), "a killed rank is an error, not a timeout")

    def test_kill_rank0(self):
        self.kill_and_check(0)


if __name__ == "__main__":
    fbtest.main()
