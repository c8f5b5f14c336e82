"""reduce, gather, scatter and alltoallv (issue 23 item 14, issue 24 item 2): exact on every dtype x
redop x placement and on roots other than 0 with the library's own collectives (mpi native) and with
fabricbench's algorithms; alltoallv's --counts distributions, its max_rank_bytes / load_imbalance
columns and busbw over the most loaded rank; bad --counts values refused with exit code 2.
tests/unit/test_counts.cpp and test_algorithms.cpp cover the distributions and the algorithms
in-process; tests/integration/test_algorithms.py runs the algorithms at every rank count 1-8.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd, mpirun_prefix  # noqa: E402

NEW_OPS = ["reduce", "gather", "scatter", "alltoallv"]
QUICK = ["-n", "2", "-w", "1", "-c", "2"]


class NewOps(fbtest.FbTestCase):
    def run_rows(self, np, args, stem="out", extra=()):
        c, j, out = self.outputs(stem)
        res = fbtest.run(mpirun_cmd(np, ["run", "-q", *args, *out], extra=extra), timeout=300)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=np)
        for r in rows:
            fbtest.check_row_sanity(self, r)
        return rows

    def test_native_every_type_and_root(self):
        """MPI_Reduce/Gather/Scatter/Alltoallv: every dtype x redop, in and out of place, root 0 and the
        last rank, sizes that leave odd blocks; every element checked."""
        for np in (3, 4):
            for root in (0, np - 1):
                with self.subTest(np=np, root=root):
                    rows = self.run_rows(np, ["--op", ",".join(NEW_OPS), "-d", "all", "-o", "all", "--place", "both",
                                              "--root", str(root), "-b", "24", "-e", "57624", "-f", "2401",
                                              "--batch", "1", *QUICK], stem=f"native-{np}-{root}")
                    by_op = {}
                    for r in rows:
                        by_op.setdefault(r["op"], []).append(r)
                        self.assertEqual(r["wrong"], 0, r)
                        self.assertEqual(r["algo"], "native")
                        self.assertEqual(r["root"], root if r["op"] != "alltoallv" else -1)
                    # 10 dtypes x redops (reduce) x placements (alltoallv: out of place only) x 2 sizes
                    self.assertEqual(len(by_op["reduce"]), 10 * 4 * 2 * 2)
                    self.assertEqual(len(by_op["gather"]), 10 * 2 * 2)
                    self.assertEqual(len(by_op["scatter"]), 10 * 2 * 2)
                    self.assertEqual(len(by_op["alltoallv"]), 10 * 2)
                    for r in by_op["alltoallv"]:  # uniform counts: alltoall's blocks, no imbalance
                        self.assertEqual(r["max_rank_bytes"], r["bytes"], r)
                        self.assertEqual(r["load_imbalance"], 1.0, r)
                    for op in ("reduce", "gather", "scatter"):
                        for r in by_op[op]:
                            self.assertEqual(r["max_rank_bytes"], 0, r)
                            self.assertIsNone(r["load_imbalance"], r)

    def test_alltoallv_distributions_on_every_algorithm(self):
        """zipf and hot counts, native and the algorithms: exact, and the most loaded rank's share as
        the distribution says (busbw over its bytes: check_row_sanity)."""
        plan = self.path("a2av.yaml")
        tests = [(algo, counts) for algo in ("native", "pairwise", "linear", "auto")
                 for counts in ("zipf:1.2", "hot:1:0.6")]
        with open(plan, "w") as f:
            f.write("defaults: {op: alltoallv, minbytes: 1000, maxbytes: 1M, stepfactor: 32, iters: 2, warmup: 1,"
                    " check: 2, dtype: 'int8,float64'}\ntests:\n")
            for algo, counts in tests:
                f.write(f"  - {{name: {algo}-{counts}, algo: {algo}, counts: '{counts}', seed: 11}}\n")
        rows = self.run_rows(5, ["--plan", plan], stem="a2av")
        sizes = fbtest.sweep(1000, 1 << 20, 32)
        per_test = 2 * len(sizes)
        self.assertEqual(len(rows), len(tests) * per_test)
        # The most loaded rank receives the top destination's share of all traffic: hot:1:0.6 0.6,
        # zipf:1.2 on 5 ranks 1 / H(5, 1.2); load_imbalance is that share x 5 (up to the flooring).
        share = {"zipf:1.2": 1 / sum(k ** -1.2 for k in range(1, 6)), "hot:1:0.6": 0.6}
        figures = {}
        for i, (algo, counts) in enumerate(tests):
            for r in rows[i * per_test:(i + 1) * per_test]:
                with self.subTest(algo=algo, counts=counts, bytes=r["requested_bytes"], dtype=r["dtype"]):
                    self.assertEqual(r["wrong"], 0, r)
                    if algo != "auto":
                        self.assertEqual(r["algo"], algo)
                    # (flooring: within 0.1 at the 125-element size, 0.01 from 32 KB on)
                    self.assertAlmostEqual(r["load_imbalance"], 5 * share[counts],
                                           delta=0.1 if r["requested_bytes"] < 10000 else 0.01)
                    self.assertGreater(r["max_rank_bytes"], r["bytes"])
                    # The same spec and seed give the same matrix whatever runs it.
                    key = (counts, r["requested_bytes"], r["dtype"])
                    figures.setdefault(key, set()).add((r["bytes"], r["max_rank_bytes"], r["load_imbalance"]))
        for key, v in figures.items():
            self.assertEqual(len(v), 1, (key, v))

    def test_alltoallv_matrix_file(self):
        """matrix:FILE: relative weights scaled to the average; the figures follow exactly."""
        m = self.path("m.txt")
        with open(m, "w") as f:
            f.write("# 3 ranks\n1 2 1\n0, 0, 4  # rank 1 sends to rank 2 only\n1 1 2\n")
        rows = self.run_rows(3, ["--op", "alltoallv", "--counts", f"matrix:{m}", "-d", "int32", "-b", "4800",
                                 "-e", "4800", *QUICK], stem="matrix")
        self.assertEqual(len(rows), 1)
        r = rows[0]
        # 1200 elements per rank on average, 3600 over weights summing to 12: rank 2 receives
        # 300 + 1200 + 600 = 2100 elements = 8400 B, 1.75 times the mean.
        self.assertEqual((r["bytes"], r["max_rank_bytes"], r["load_imbalance"], r["wrong"]), (4800, 8400, 1.75, 0))
        self.assertAlmostEqual(r["algbw_GBps"], 8400 / r["time_us"] / 1e3, delta=1e-9 * r["algbw_GBps"])

    def test_rooted_algorithms_and_alltoallv_over_ucx(self):
        if not fbtest.backend_compiled("ucx"):
            self.skipTest("the ucx backend is not compiled in")
        rows = self.run_rows(4, ["--backend", "ucx", "--op", ",".join(NEW_OPS), "--root", "3", "--counts", "zipf:1.5",
                                 "-d", "float32,int64", "-o", "all", "--place", "both", "-b", "1000", "-e", "1M",
                                 "-f", "32", *QUICK], stem="ucx", extra=["-x", "UCX_TLS=sm,self"])
        self.assertEqual({r["op"] for r in rows}, set(NEW_OPS))
        for r in rows:
            self.assertEqual(r["wrong"], 0, r)
            self.assertNotEqual(r["algo"], "native")  # ucx runs fabricbench's algorithms

    def test_bad_counts_are_refused(self):
        m = self.path("ragged.txt")
        with open(m, "w") as f:
            f.write("1 2\n3\n")
        two = self.path("two.txt")
        with open(two, "w") as f:
            f.write("1 1\n1 1\n")
        self.assertRefused([
            (["run", "--op", "alltoallv", "--counts", "zipf:x"], "counts: bad exponent 'x'"),
            (["run", "--op", "alltoallv", "--counts", "hot:2:1.5"], "F must be a fraction in [0, 1]"),
            (["run", "--op", "alltoallv", "--counts", "poisson"], "unknown counts distribution ('poisson'"),
            (["run", "--op", "alltoallv", "--counts", f"matrix:{m}"], "row 2 has 1 weights"),
            (["run", "--op", "alltoallv", "--counts", "matrix:/nonexistent/m.txt"], "cannot read the matrix file"),
            (["run", "--op", "alltoallv", "--counts", "hot:5:0.5"], "5 hot destinations on 3 ranks"),
            (["run", "--op", "alltoallv", "--counts", f"matrix:{two}"], "the matrix is 2 x 2, the job has 3 ranks"),
            (["run", "--op", "alltoallv", "--seed", "-1"], "seed: '-1' is out of range"),
        ], np=3)

    def test_matrix_file_that_differs_between_ranks_is_refused(self):
        """The same matrix:FILE text reading different files (another working directory per rank):
        the ranks' configurations differ before any test runs, exit code 2, no output."""
        dirs = []
        for k, text in enumerate(("1 1\n1 1\n", "1 2\n1 1\n")):
            d = self.path(f"host{k}")
            os.makedirs(d)
            with open(os.path.join(d, "m.txt"), "w") as f:
                f.write(text)
            dirs.append(d)
        c, j, out = self.outputs()
        args = ["run", "--op", "alltoallv", "--counts", "matrix:m.txt", "-e", "64", *out]
        cmd = mpirun_prefix(1, ["-wdir", dirs[0]]) + [CONFIG.binary, *args, ":", "-np", "1", "-wdir", dirs[1],
                                                      CONFIG.binary, *args]
        res = fbtest.run(cmd)
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.fb_lines()), 1, res.describe())
        self.assertIn("counts=matrix:m.txt (weights", res.fb_lines()[0])
        self.assertNoOutputs(c, j)


if __name__ == "__main__":
    fbtest.main()
