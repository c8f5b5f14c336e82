#!/usr/bin/env python3
"""A rank killed (SIGKILL) mid-run: the job ends non-zero soon, no process is left, and the CSV and
the JSON both parse and hold every completed row exactly once."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import LONG_PLAN_QUICK_ROWS, LongRun, check_row_sanity, load_csv, load_json, row_key, typed_csv_row  # noqa: E402

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
        self.assertIsNotNone(rc, f"mpirun still running {END_WITHIN_S} s after rank {rank} was killed\n{err}")
        self.assertNotEqual(rc, 0, err)
        self.assertEqual(fbtest.wait_no_processes(lr.marker), [], "processes left behind")

        # Both files parse; the CSV has every completed row once, the JSON the same or one fewer
        # (the CSV row is written first).
        header, csv_rows = load_csv(lr.csv_path)
        self.assertEqual(header, fbtest.CSV_COLUMNS)
        doc = load_json(lr.json_path)
        self.assertEqual(list(doc), ["schema_version", "meta", "rows", "status"])
        self.assertNotEqual(doc["status"], "ok", "a killed run does not claim success")
        json_rows = doc["rows"]
        self.assertEqual(len(csv_rows), LONG_PLAN_QUICK_ROWS, "the CSV holds the completed rows")
        self.assertIn(len(json_rows), (len(csv_rows), len(csv_rows) - 1), "the JSON is at most one row behind")
        typed = [typed_csv_row(r) for r in csv_rows]
        self.assertEqual(len({row_key(r) for r in typed}), len(typed), "a row repeated in the CSV")
        for c, j in zip(typed, json_rows):
            self.assertEqual(c, {k: v for k, v in j.items() if k != "samples_us"})
        for r in json_rows:
            check_row_sanity(self, r)
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
