#!/usr/bin/env python3
"""The watchdog (--timeout): a stopped rank ends the job with exit code 3 and one line that says
where it hung; the rows completed before stay in the CSV and the JSON (status "timeout")."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import LONG_PLAN_QUICK_ROWS, LongRun, check_results, check_row_sanity, mpirun_cmd, run  # noqa: E402

TIMEOUT_S = 3


def expand_ranks(text):
    """"0-1,3" -> {0, 1, 3}"""
    out = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out


class Timeout(fbtest.FbTestCase):
    def check_kept_rows(self, lr, status):
        rows = check_results(self, lr.csv_path, lr.json_path, status=status, nranks=lr.np)
        self.assertEqual(len(rows), LONG_PLAN_QUICK_ROWS, "every row completed before the hang, once")
        self.assertEqual([r["requested_bytes"] for r in rows], fbtest.sweep(8, 1024, 2))
        for r in rows:
            check_row_sanity(self, r)
        return rows

    def test_stopped_rank(self):
        lr = LongRun(self, 4, ["--timeout", str(TIMEOUT_S)])
        lr.wait_rows(LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)  # into the long row's timed samples
        t_stop = lr.signal_rank(2, signal.SIGSTOP)
        rc = lr.wait(TIMEOUT_S + 15)
        elapsed = time.monotonic() - t_stop
        err = lr.stderr()
        self.assertIsNotNone(rc, f"mpirun still running {TIMEOUT_S + 15} s after rank 2 was stopped\n{err}")
        self.assertEqual(rc, fbtest.EXIT_TIMEOUT, f"exit code after {elapsed:.1f} s\n{err}")
        self.assertGreaterEqual(elapsed, TIMEOUT_S - 0.5, "the watchdog fired before the timeout")

        lines = [l for l in fbtest.fb_lines(err) if "timeout" in l]
        self.assertEqual(len(lines), 1, f"one timeout line\n{err}")
        line = lines[0]
        self.assertIn("allreduce", line)
        self.assertRegex(line, r"\b1(M|MiB|048576)\b", "the size that hung")
        m = re.search(r"no answer from ranks? ([0-9,\- ]+)", line)
        self.assertIsNotNone(m, f"the stopped rank is named as not answering: {line}")
        self.assertIn(2, expand_ranks(m.group(1)), line)
        self.assertIn("stopped or dead", line)

        self.check_kept_rows(lr, "timeout")
        self.assertEqual(fbtest.wait_no_processes(lr.marker), [], "processes left behind")
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [], "temporary files left behind")

    def test_stopped_rank0(self):
        """Rank 0 stopped: the other ranks cannot reach it and end the job themselves."""
        lr = LongRun(self, 4, ["--timeout", str(TIMEOUT_S)])
        lr.wait_rows(LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)
        t_stop = lr.signal_rank(0, signal.SIGSTOP)
        limit = 2 * TIMEOUT_S + 10 + 15  # the alarm, rank 0's grace of timeout + 10 s, slack
        rc = lr.wait(limit)
        elapsed = time.monotonic() - t_stop
        err = lr.stderr()
        self.assertIsNotNone(rc, f"mpirun still running {limit} s after rank 0 was stopped\n{err}")
        self.assertEqual(rc, fbtest.EXIT_TIMEOUT, f"exit code after {elapsed:.1f} s\n{err}")
        self.assertTrue(any("rank 0 unreachable" in l and "allreduce" in l for l in fbtest.fb_lines(err)), err)
        # Rank 0 never ended its sinks: the rows are kept, the status stays "running".
        rows = check_results(self, lr.csv_path, lr.json_path, status=None, nranks=4)
        self.assertEqual(len(rows), LONG_PLAN_QUICK_ROWS)
        self.assertIn(fbtest.load_json(lr.json_path)["status"], ("running", "timeout", "error", "interrupted (SIGTERM)"))
        self.assertEqual(fbtest.wait_no_processes(lr.marker), [], "processes left behind")

    def test_generous_timeout_completes(self):
        csv_path, json_path, files = self.outputs()
        res = run(mpirun_cmd(4, ["run", "--op", "allreduce,alltoall", "-b", "8", "-e", "256K", "-f", "8",
                                 "-n", "5", "-w", "1", "--timeout", "60", "-q", *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.errors(), [])
        rows = check_results(self, csv_path, json_path, status="ok", nranks=4)
        self.assertEqual(len(rows), 2 * len(fbtest.sweep(8, 256 * 1024, 8)))
        for r in rows:
            check_row_sanity(self, r)

    def test_short_timeout_busy_run(self):
        """A timeout shorter than the whole run but longer than any op never fires."""
        csv_path, json_path, files = self.outputs()
        res = run(mpirun_cmd(2, ["run", "--op", "allreduce,allgather,pingpong", "-b", "8", "-e", "64K", "-f", "2",
                                 "-n", "20", "-w", "2", "--timeout", "1", "-q", *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        rows = check_results(self, csv_path, json_path, status="ok", nranks=2)
        self.assertEqual(len(rows), 3 * len(fbtest.sweep(8, 64 * 1024, 2)))


if __name__ == "__main__":
    fbtest.main()
