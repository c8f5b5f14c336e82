#!/usr/bin/env python3
"""SIGINT/SIGTERM during a run (Ctrl-C reaches the whole foreground group; scancel and mpirun's
own forwarding send SIGTERM): the job ends non-zero soon, no process is left, both files parse,
every completed row is in each exactly once, and the JSON's status says the run was interrupted."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import LONG_PLAN_QUICK_ROWS, LongRun  # noqa: E402

END_WITHIN_S = 20


class Interrupt(fbtest.FbTestCase):
    def interrupt_and_check(self, sig, whole_group):
        lr = LongRun(self, 2)
        lr.wait_rows(LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)  # into the long row
        t0 = time.monotonic()
        if whole_group:
            os.killpg(lr.popen.pid, sig)  # what a terminal's Ctrl-C does
        else:
            lr.popen.send_signal(sig)  # mpirun alone; it forwards SIGTERM to the ranks
        rc = lr.wait(END_WITHIN_S)
        elapsed = time.monotonic() - t0
        csv_rows, doc = lr.check_ended(rc, sig.name, END_WITHIN_S, json_lag=(0,))
        self.assertTrue(doc["status"].startswith("interrupted"), doc["status"])
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [], "temporary files left behind")
        print(f"\n    [{sig.name} to {'the group' if whole_group else 'mpirun'}: exit {rc} after {elapsed:.1f} s; "
              f"CSV {len(csv_rows)} rows, JSON status {doc['status']!r}]")

    def test_ctrl_c(self):
        self.interrupt_and_check(signal.SIGINT, whole_group=True)

    def test_sigterm_to_mpirun(self):
        self.interrupt_and_check(signal.SIGTERM, whole_group=False)


if __name__ == "__main__":
    fbtest.main()
