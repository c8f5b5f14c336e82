"""fabricbench validate on one host under plain mpirun (no namespaces): exit codes and the pair
matrix with thresholds that decide the verdict deterministically, a fabric that does not fit the
job (exit 2, one line naming the mismatch), and a rank killed during validation (the job ends
naming it, the matrix rows so far stay parseable). The emulated fabric's checks are in
test_validate_emulated.py."""

import csv
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402

NP = 4
MATRIX_COLUMNS = ["round", "rank_a", "rank_b", "host_a", "host_b", "tier", "transport", "transport_ok", "bw_bytes",
                  "bw_time_us", "bw_GBps", "model_bw_GBps", "bw_ratio", "bw_verdict", "lat_bytes", "lat_us",
                  "model_lat_us", "lat_ratio", "lat_verdict", "bottleneck", "wrong", "verdict"]
QUICK = ["--bw-bytes", "64K", "-n", "2", "--no-collectives", "--backend", "ucx"]


def read_matrix(path):
    with open(path, newline="") as f:
        text = f.read()
    assert text.endswith("\n"), f"{path}: the last line is incomplete"
    rows = list(csv.reader(text.splitlines()))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def has_ucx(binary):
    return "ucx    not compiled in" not in fbtest.run([binary, "--list"]).stdout


class Validate(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        if not has_ucx(fbtest.CONFIG.binary):
            self.skipTest("the ucx backend is not compiled in")

    def validate(self, args, np=NP):
        return fbtest.run(fbtest.mpirun_cmd(np, ["validate", *args]), timeout=240)

    def test_pass_and_fail_decide_the_exit_code(self):
        m = self.path("m.csv")
        # Thresholds of 0: nothing can fail; every pair of 4 ranks once, in 3 rounds of 2.
        c = self.path("rows.csv")
        res = self.validate(["--fabric", "localhost", "--matrix-csv", m, "--csv", c, *QUICK, "--bw-pass", "0",
                             "--bw-warn", "0", "--lat-pass", "0", "--lat-warn", "0"])
        self.assertRc(res, 0)
        self.assertIn("validate: PASS", res.stdout)
        # Every row says what its prediction is: the pair rounds' flows are the point-to-point
        # model of what ran (model_basis algorithm), as the collectives' rows say theirs.
        _, result_rows = fbtest.load_csv(c)
        self.assertTrue(any(r["model_algo"].startswith("flows/") for r in result_rows))
        for r in result_rows:
            self.assertIn(r["model_basis"], ("algorithm", "best-modelled-bound"), r)
            if r["model_algo"].startswith("flows/"):
                self.assertEqual(r["model_basis"], "algorithm", r)
        header, rows = read_matrix(m)
        self.assertEqual(header, MATRIX_COLUMNS)
        self.assertEqual(sorted((int(r["rank_a"]), int(r["rank_b"])) for r in rows),
                         [(a, b) for a in range(NP) for b in range(a + 1, NP)], "every pair exactly once")
        self.assertEqual(sorted({int(r["round"]) for r in rows}), [0, 1, 2], "n-1 rounds")
        for r in rows:
            self.assertEqual(r["tier"], "0", "one host: every pair inside it")
            self.assertEqual(r["transport_ok"], "1", r)
            self.assertTrue(set(r["transport"].split("+")) <= {"posix", "sysv", "cma", "xpmem", "knem", "self"}, r)
            self.assertGreater(float(r["bw_GBps"]), 0)
            self.assertEqual(r["wrong"], "0")
        # An impossible pass bar: every pair fails, exit 1, the worst link named as host:rank.
        res = self.validate(["--fabric", "localhost", "--matrix-csv", m, "--force", *QUICK, "--pairs-alone",
                             "--bw-pass", "9", "--bw-warn", "9"])
        self.assertRc(res, 1)
        verdict = [l for l in res.stdout.splitlines() if l.startswith("validate: ")]
        self.assertEqual(len(verdict), 1, res.stdout)
        self.assertRegex(verdict[0], r"^validate: FAIL: 6 of 6 pairs fail.*worst link \S+:\d <-> \S+:\d")
        _, rows = read_matrix(m)
        self.assertEqual(len(rows), 6)
        self.assertEqual(len({r["round"] for r in rows}), 6, "--pairs-alone: one pair per round")
        self.assertEqual({r["verdict"] for r in rows}, {"fail"})

    def test_console_one_pair_table_one_collectives_table_one_verdict(self):
        """Issue 23 item 4: one table of pairs naming ranks and hosts, one table of collectives, one
        verdict line; no per-round tables, no "# status" line; the matrix CSV keeps its fields."""
        m = self.path("m.csv")
        res = self.validate(["--fabric", "localhost", "--matrix-csv", m, "--bw-bytes", "64K", "-n", "2",
                             "--backend", "ucx", "--mem", "host", "--bw-pass", "0", "--bw-warn", "0",
                             "--lat-pass", "0", "--lat-warn", "0", "--max-ratio", "0"])
        self.assertRc(res, 0)
        lines = res.stdout.splitlines()
        self.assertEqual([l for l in lines if l.startswith("validate: ")], [lines[-1]], res.stdout)
        self.assertRegex(lines[-1], r"^validate: PASS: 6 pairs and 4 collective rows within the pass thresholds$")
        self.assertEqual([l for l in lines if "# status" in l or "algbw" in l], [],
                         "no per-round console tables, no status line")
        heads = [l for l in lines if l.startswith("#") and "round" in l and "hosts" in l]
        self.assertEqual(len(heads), 1, res.stdout)
        for col in ("pair", "transport", "bandwidth", "model", "ratio", "latency", "verdict"):
            self.assertIn(col, heads[0])
        pair_lines = [l for l in lines if re.match(r"^\s+\d+ \d+ <-> \d+ ", l)]
        self.assertEqual(len(pair_lines), 6, res.stdout)
        for l in pair_lines:
            self.assertRegex(l, r"\d+ <-> \d+\s+\S+ <-> \S+\s", l)
            self.assertRegex(l, r" (GB|MB|kB)/s ", "inside one host: GB/s scaled")
            self.assertRegex(l, r" (ns|us|ms) ", l)
            self.assertTrue(l.rstrip().endswith("pass"), l)
        self.assertEqual(len({l.split()[4] for l in pair_lines}), 1, "one host")
        coll_heads = [l for l in lines if l.startswith("# ") and "op/algo" in l]
        self.assertEqual(len(coll_heads), 1, res.stdout)
        coll = [l for l in lines if re.match(r"^\s+(allreduce/ring|alltoall/pairwise)\s", l)]
        self.assertEqual(len(coll), 4, res.stdout)
        _, rows = read_matrix(m)
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(float(r["bw_GBps"]) > 0 for r in rows), "the CSV keeps GB/s numbers")

    def test_faster_than_the_model_warns(self):
        """Issue 23 item 5: a model 10000x too slow: every measurement is above --max-ratio; WARN lines
        name the pairs and each collective, the verdict is WARN, the exit code stays 0."""
        # 1 MB/s: even a pair slowed down 100x by a loaded machine beats it by more than 1.25x.
        slow = ["--set", "scale_up.bandwidth_GBps=0.001", "--set", "endpoint.memory_bandwidth_GBps=0.002"]
        args = ["--fabric", "localhost", *slow, "--bw-bytes", "64K", "-n", "2", "--backend", "ucx",
                "--lat-pass", "0", "--lat-warn", "0"]
        res = self.validate(args)
        self.assertRc(res, 0)
        lines = res.stdout.splitlines()
        warns = [l for l in lines if l.startswith("WARN: ")]
        self.assertRegex(warns[0], r"^WARN: 6 of 6 pairs measured faster than the model by more than --max-ratio 1.25 ")
        self.assertEqual(sorted(l.split()[1] for l in warns[1:]), ["allreduce/ring", "allreduce/ring",
                                                                   "alltoall/pairwise", "alltoall/pairwise"])
        for l in warns:
            self.assertIn("the model may be wrong", l)
        self.assertRegex(lines[-1], r"^validate: WARN: .*10 measurements faster than the model by more than "
                                    r"--max-ratio")
        # Off: the same run passes.
        res = self.validate([*args, "--max-ratio", "0", "--no-collectives", "--bw-pass", "0", "--bw-warn", "0"])
        self.assertRc(res, 0)
        self.assertRegex(res.stdout.splitlines()[-1], r"^validate: PASS: ")
        self.assertNotIn("WARN", res.stdout)

    def test_help_and_bad_options(self):
        res = fbtest.run([fbtest.CONFIG.binary, "validate", "--help"])
        self.assertRc(res, 0)
        self.assertIn("mpi, ucx or nccl", res.stdout)
        self.assertNotIn("ucx (default when compiled in) or mpi", res.stdout)
        self.assertRegex(res.stdout, r"--mem KIND\s+buffer memory: host or cuda")
        self.assertIn("--max-ratio", res.stdout)
        for bad, needle in ((["--mem", "gpu"], "mem"), (["--max-ratio", "0.5"], "--max-ratio 0.5")):
            with self.subTest(bad=bad):
                res = self.validate(["--fabric", "localhost", *QUICK, *bad], np=2)
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn(needle, res.errors()[0])

    def test_mem_reaches_the_pair_tests(self):
        """--mem cuda goes to the pair tests too: where the backend has no CUDA memory (this UCX, no
        GPU) it is refused before anything runs, in one line naming the pair tests; else it runs."""
        res = self.validate(["--fabric", "localhost", *QUICK, "--mem", "cuda", "--bw-pass", "0", "--bw-warn", "0",
                             "--lat-pass", "0", "--lat-warn", "0"], np=2)
        if res.rc == fbtest.EXIT_USAGE:
            self.assertEqual(len(res.errors()), 1, res.describe())
            self.assertRegex(res.errors()[0], r"^fabricbench: validate: the pair tests: mem: ")
        else:
            self.assertRc(res, 0)

    def test_fabric_that_does_not_fit(self):
        m = self.path("m.csv")
        cases = [
            # 4 ranks on one host, 2 endpoints per domain in the fabric file.
            (["--fabric", "emulated-2leaf"], ["emulated-2leaf", "4 ranks on host", "domain_size is 2"]),
            (["--fabric", "no-such-fabric"], ["no-such-fabric"]),
            (["--fabric", "localhost", "--set", "scale_up.domain_size=3"], ["4 ranks on host", "domain_size is 3"]),
        ]
        for args, needles in cases:
            with self.subTest(args=args):
                res = self.validate([*args, "--matrix-csv", m, *QUICK])
                self.assertRc(res, fbtest.EXIT_USAGE)
                lines = res.errors()
                self.assertEqual(len(lines), 1, res.describe())
                for n in needles:
                    self.assertIn(n, lines[0])
                self.assertNoOutputs(m)

    def test_rank_killed_during_validation(self):
        m = self.path("m.csv")
        cmd = fbtest.mpirun_cmd(NP, ["validate", "--fabric", "localhost", "--matrix-csv", m, "--pairs-alone",
                                     "--bw-bytes", "4M", "-n", "400", "--no-collectives", "--backend", "ucx",
                                     "--timeout", "10"])
        with open(self.path("err.txt"), "w") as err:
            p = fbtest.subprocess.Popen(cmd, stdout=fbtest.subprocess.DEVNULL, stderr=err, env=fbtest.clean_env(),
                                        start_new_session=True)
        self.addCleanup(fbtest.kill_leftovers, m, p)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # a completed pair first
            if os.path.exists(m) and len(open(m).read().splitlines()) >= 2:
                break
            self.assertIsNone(p.poll(), "validate ended before the first pair completed")
            time.sleep(0.1)
        ranks = fbtest.wait_for_ranks(m, NP)
        os.kill(ranks[2], signal.SIGKILL)
        try:
            rc = p.wait(timeout=60)
        except fbtest.subprocess.TimeoutExpired:
            self.fail("validate still running 60 s after rank 2 was killed")
        self.assertNotIn(rc, (0, 1, 2), "a dead rank is neither a verdict nor bad input")
        with open(self.path("err.txt"), errors="replace") as f:
            err = f.read()
        # The error names the dead rank. One exception, in about 1 run in 20 (measured with the
        # shared-memory get on and off alike): a rank that was reading the killed rank's memory
        # through the kernel (UCX's cma rendezvous) at that moment gets ESRCH, and UCX without
        # peer error handling (which would drop the sysv/posix transports) aborts it first. Only
        # that exact report is accepted instead; the job must still end, leave nothing, keep rows.
        if not re.search(r"rank 2\b", err):
            self.assertRegex(err, r"cma_ep\.c.*process_vm_readv\(pid=\d+ .*No such process",
                             "the error names the dead rank")
        self.assertEqual(fbtest.wait_no_processes(m), [], "processes left behind")
        header, rows = read_matrix(m)
        self.assertEqual(header, MATRIX_COLUMNS)
        self.assertGreaterEqual(len(rows), 1, "the pairs measured before the kill are kept")
        self.assertLess(len(rows), 6)


if __name__ == "__main__":
    fbtest.main()
