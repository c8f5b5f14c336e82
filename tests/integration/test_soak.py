"""run --cycles / --duration (soak, docs/ci-gate.md) on 2 ranks, a few seconds each: every cycle
runs the whole plan, rows carry their cycle, the JSON's soak object and the console summary agree with
the drift lines on stderr, --fail-on-drift decides the exit code, SIGTERM leaves parseable files,
bad values are refused."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

# Two series of four sizes: 8 rows a cycle, well under a second each on 2 ranks.
PLAN = ["--op", "allreduce,alltoall", "-b", "8", "-e", "64", "-w", "2"]
ROWS_PER_CYCLE = 8
DRIFT_PREFIX = "fabricbench: drift: "


class Soak(fbtest.FbTestCase):
    def soak_run(self, *extra, stem="soak"):
        csv_path, json_path, files = self.outputs(stem)
        iters = [] if "-n" in extra else ["-n", "10"]
        res = fbtest.run(mpirun_cmd(2, ["run", *PLAN, *iters, *extra, *files]), timeout=120)
        return res, csv_path, json_path

    def check_cycles(self, csv_path, json_path, cycles):
        """Both files hold `cycles` complete cycles of the same rows, in order; returns the JSON."""
        header, csv_rows = fbtest.load_csv(csv_path)
        self.assertEqual(header, fbtest.CSV_COLUMNS)
        doc = fbtest.load_json(json_path)
        self.assertEqual(list(doc), ["schema_version", "meta", "rows", "soak", "status"])
        rows = doc["rows"]
        self.assertEqual(len(rows), cycles * ROWS_PER_CYCLE)
        self.assertEqual([int(r["cycle"]) for r in csv_rows], [r["cycle"] for r in rows])
        self.assertEqual([r["cycle"] for r in rows], [c for c in range(1, cycles + 1) for _ in range(ROWS_PER_CYCLE)])
        first = [fbtest.row_key(r) for r in rows[:ROWS_PER_CYCLE]]
        for c in range(cycles):
            self.assertEqual([fbtest.row_key(r) for r in rows[c * ROWS_PER_CYCLE:(c + 1) * ROWS_PER_CYCLE]], first)
        self.assertEqual(doc["soak"]["cycles_done"], cycles)
        return doc

    def test_cycles(self):
        res, csv_path, json_path = self.soak_run("-N", "3")
        self.assertRc(res, fbtest.EXIT_OK)  # drift alone does not fail the run without --fail-on-drift
        doc = self.check_cycles(csv_path, json_path, 3)
        self.assertEqual(doc["status"], "ok")
        soak = doc["soak"]
        self.assertEqual(soak["cycles_requested"], 3)
        self.assertIsNone(soak["duration_s"])
        self.assertEqual(soak["drift_threshold_pct"], 10)
        drift_lines = [l for l in res.stderr.splitlines() if l.startswith(DRIFT_PREFIX)]
        self.assertEqual(len(drift_lines), len(soak["drifts"]), res.describe())
        for d in soak["drifts"]:
            self.assertIn(d["cycle"], (2, 3))
            self.assertGreater(abs(d["change_pct"]), 10)
        for c in (1, 2, 3):
            self.assertIn(f"\n# cycle {c}\n", res.stdout)
        self.assertIn("# soak: 3 cycles in ", res.stdout)
        self.assertLess(res.stdout.index("# soak: 3 cycles"), res.stdout.index("# status: ok"))

    def test_duration(self):
        t0 = time.monotonic()
        res, csv_path, json_path = self.soak_run("--duration", "3s", "--cycles", "1000")
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertGreaterEqual(time.monotonic() - t0, 3)
        doc = fbtest.load_json(json_path)
        cycles = doc["soak"]["cycles_done"]
        self.assertGreaterEqual(cycles, 1)
        self.assertLess(cycles, 1000)
        self.assertGreaterEqual(doc["soak"]["elapsed_s"], 3)
        self.assertEqual(doc["soak"]["duration_s"], 3)
        self.check_cycles(csv_path, json_path, cycles)

    def test_fail_on_drift(self):
        # A threshold no change can pass: no drift, exit 0.
        res, _, json_path = self.soak_run("-N", "2", "--drift", "1e9%", "--fail-on-drift", stem="none")
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(fbtest.load_json(json_path)["soak"]["drifts"], [])
        self.assertIn("# drift: none", res.stdout)
        # Threshold 0 with 3 samples a row (no U test): any move of a p50 is a drift, and the exit
        # code follows what was found.
        res, _, json_path = self.soak_run("-N", "2", "-n", "3", "--drift", "0", "--fail-on-drift", stem="any")
        drifts = fbtest.load_json(json_path)["soak"]["drifts"]
        self.assertEqual(len([l for l in res.stderr.splitlines() if l.startswith(DRIFT_PREFIX)]), len(drifts))
        self.assertRc(res, 1 if drifts else fbtest.EXIT_OK)
        if drifts:
            self.assertIn(f"fabricbench: soak: {len(drifts)} drifts against cycle 1 (--fail-on-drift)", res.stderr)
            self.assertIn("# drift: ", res.stdout)

    def test_sigterm_leaves_parseable_files(self):
        csv_path, json_path, files = self.outputs("term")
        err = open(self.path("stderr.txt"), "w")
        # -N 0: cycles until stopped (nccl-tests' -N 0); the signal is what ends it.
        p = subprocess.Popen(mpirun_cmd(2, ["run", *PLAN, "-N", "0", "-q", *files]),
                             stdout=subprocess.DEVNULL, stderr=err, env=fbtest.clean_env(), start_new_session=True)
        self.addCleanup(fbtest.kill_leftovers, csv_path, p)
        self.addCleanup(err.close)
        deadline = time.monotonic() + 60
        rows = 0
        while time.monotonic() < deadline and rows <= ROWS_PER_CYCLE + 1:  # into cycle 2
            time.sleep(0.05)
            try:
                rows = len(fbtest.load_csv(csv_path)[1])
            except (OSError, AssertionError):
                pass
        self.assertGreater(rows, ROWS_PER_CYCLE + 1, "the soak did not reach its second cycle")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        self.assertNotEqual(rc, 0)
        self.assertEqual(fbtest.wait_no_processes(csv_path), [], "processes left behind")
        header, csv_rows = fbtest.load_csv(csv_path)
        doc = fbtest.load_json(json_path)
        self.assertTrue(doc["status"].startswith("interrupted"), doc["status"])
        self.assertGreaterEqual(doc["soak"]["cycles_done"], 1)
        self.assertIn(len(csv_rows) - len(doc["rows"]), (0, 1))
        # The cycle under way when the signal came (or the next one, had it just started).
        self.assertIn(doc["rows"][-1]["cycle"] - doc["soak"]["cycles_done"], (0, 1))
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [], "temporary files left behind")

    def test_timeout_leaves_parseable_files(self):
        # A rank stopped during a soak: the watchdog ends it (exit 3), the files parse, the JSON says
        # timeout and still holds the soak object.
        lr = fbtest.LongRun(self, 2, ["--timeout", "3", "-N", "0"])
        lr.wait_rows(fbtest.LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)  # into the long row
        lr.signal_rank(1, signal.SIGSTOP)
        rc = lr.wait(30)
        self.assertEqual(rc, fbtest.EXIT_TIMEOUT, lr.stderr())
        self.assertEqual(fbtest.wait_no_processes(lr.marker), [], "processes left behind")
        header, csv_rows = fbtest.load_csv(lr.csv_path)
        doc = fbtest.load_json(lr.json_path)
        self.assertEqual(doc["status"], "timeout")
        self.assertEqual(list(doc), ["schema_version", "meta", "rows", "soak", "status"])
        self.assertEqual(doc["soak"]["cycles_done"], 0)
        self.assertEqual(len(csv_rows), fbtest.LONG_PLAN_QUICK_ROWS)
        self.assertEqual([r["cycle"] for r in doc["rows"]], [1] * len(doc["rows"]))

    def test_bad_values_are_refused(self):
        self.assertRefused([
            (["run", "--cycles", "-1"], "cycles: expected a number of cycles >= 0"),
            (["run", "--duration", "5x"], "duration: expected a time > 0 such as 90s, 30m or 2h, got '5x'"),
            (["run", "--duration", "0s"], "duration"),
            (["run", "-N", "2", "--drift", "lots"], "drift: expected a percentage"),
            (["run", "--drift", "5%"], "--drift and --fail-on-drift need --cycles or --duration"),
            (["run", "--fail-on-drift"], "need --cycles or --duration"),
        ])


if __name__ == "__main__":
    fbtest.main()
