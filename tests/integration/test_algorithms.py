"""fabricbench's own collective algorithms over MPI point-to-point (--algo), validated exactly."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

ALGOS = {
    "ring": ["allreduce", "allgather", "reducescatter"],
    "recursive_doubling": ["allreduce"],
    "pairwise": ["alltoall"],
}


class Algorithms(fbtest.FbTestCase):
    def test_every_algorithm_every_type_rank_counts_1_to_8(self):
        cmds, outs = [], []
        for algo, ops in ALGOS.items():
            for np in (1, 2, 3, 4, 5, 6, 7, 8):
                c, j, out = self.outputs(f"{algo}-{np}")
                outs.append((algo, ops, np, c, j))
                cmds.append(mpirun_cmd(np, ["run", "--algo", algo, "--op", ",".join(ops), "-b", "8", "-e", "64K",
                                            "-f", "64", "-n", "2", "-w", "1", "-c", "2", "-d", "all", "-o", "all",
                                            "--place", "both", "-q", *out]))
        for (algo, ops, np, c, j), res in zip(outs, fbtest.run_parallel(cmds, jobs=3, timeout=300)):
            with self.subTest(algo=algo, np=np):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j, nranks=np)
                self.assertEqual({r["op"] for r in rows}, set(ops))
                for r in rows:
                    self.assertEqual(r["algo"], algo)
                    self.assertEqual(r["wrong"], 0, r)
                    self.assertEqual(r["check_iters"], 2)

    def test_algorithm_without_the_op_is_skipped_or_refused(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "pairwise", "--op", "allreduce", "-e", "64", *out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("pairwise does not implement allreduce", res.errors()[0])
        self.assertNoOutputs(c, j)
        res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "ring", "--op", "allreduce,alltoall", "-e", "64", "-n", "2",
                                        *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertTrue(any("ring does not implement alltoall" in l for l in res.fb_lines()), res.describe())

    def test_unknown_algorithm(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "quantum", "-e", "64", *out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("unknown algorithm 'quantum'", res.errors()[0])
        self.assertNoOutputs(c, j)


if __name__ == "__main__":
    fbtest.main()
