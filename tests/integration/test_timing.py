"""--timing samples|nccl-tests and nccl-tests' flags (-z -C -G -a -m) on the mpi backend: rows say
which timing made them, nccl-tests' timing is one time per rank combined by -a, and the flags that
are for the nccl backend or for nccl-tests' timing only are refused with one line and exit 2."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402


class Timing(fbtest.FbTestCase):
    def run_rows(self, args, stem, np=3):
        c, j, out = self.outputs(stem)
        res = fbtest.run(mpirun_cmd(np, ["run", "--backend", "mpi", "-b", "1K", "-e", "4K", "-n", "4", "-q",
                                         *args, *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        return fbtest.load_csv(c)[1], fbtest.load_json(j)

    def test_rows_say_which_timing(self):
        rows, doc = self.run_rows([], "samples")
        self.assertTrue(rows)
        self.assertTrue(all(r["timing"] == "samples" for r in rows), rows)
        rows, doc = self.run_rows(["--timing", "nccl-tests"], "nccl-tests")
        self.assertTrue(all(r["timing"] == "nccl-tests/avg" for r in rows), rows)
        self.assertTrue(all(r["timing"] == "nccl-tests/avg" for r in doc["rows"]))
        # One time per rank (samples_us), the headline their average, min/max over ranks.
        for r in doc["rows"]:
            with self.subTest(bytes=r["bytes"]):
                per_rank = r["samples_us"]
                self.assertEqual(len(per_rank), 3)
                self.assertAlmostEqual(r["time_us"], sum(per_rank) / 3, delta=1e-9 * max(per_rank))
                self.assertAlmostEqual(r["time_min_us"], min(per_rank))
                self.assertAlmostEqual(r["time_max_us"], max(per_rank))
                self.assertEqual(r["wrong"], 0)

    def test_average_picks_the_combination(self):
        for flag, name, pick in (("0", "rank0", lambda v: v[0]), ("2", "min", min), ("max", "max", max)):
            with self.subTest(a=flag):
                _, doc = self.run_rows(["--timing", "nccl-tests", "-a", flag], "a" + name)
                for r in doc["rows"]:
                    self.assertEqual(r["timing"], "nccl-tests/" + name)
                    self.assertAlmostEqual(r["time_us"], pick(r["samples_us"]))

    def test_flags_refused_where_they_mean_nothing(self):
        mpi = ["run", "--backend", "mpi", "-e", "64", "-n", "1"]
        self.assertRefused([
            ([*mpi, "--timing", "median"], "timing: expected samples or nccl-tests, got 'median'"),
            ([*mpi, "-G", "2"], "graph_launches: -G launches a graph of all iterations in nccl-tests' timing"),
            ([*mpi, "-a", "3"], "average: -a combines ranks in nccl-tests' timing"),
            ([*mpi, "--timing", "nccl-tests", "-a", "5"], "average: expected 0/rank0, 1/avg, 2/min or 3/max"),
            ([*mpi, "--timing", "nccl-tests", "-G", "2", "--cuda-graph", "4"],
             "graph_launches: cannot be combined with cuda_graph"),
            ([*mpi, "--timing", "nccl-tests", "-G", "2"], "mpi has no CUDA graphs"),
            ([*mpi, "-C", "1"], "mpi completes every op as it enqueues it"),
            ([*mpi, "-m", "4"], "mpi has no op groups"),
            ([*mpi, "-m", "0"], "group: '0' is out of range"),
            ([*mpi, "-z", "1"], "mpi runs every op to completion already"),
            ([*mpi, "-z", "2"], "blocking: expected true or false, got '2'"),
        ])


if __name__ == "__main__":
    fbtest.main()
