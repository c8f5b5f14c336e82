#!/usr/bin/env python3
"""What `run` prints and writes about its rows: the model columns on the console with --fabric,
model_basis in the files (a library's own choice is held against the best modelled algorithm, a
bound), placement spelled one way, --algo auto as one table, --batch auto deciding from a timed
op after the warm-up."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd, run  # noqa: E402

SMALL = ["-b", "8", "-e", "64K", "-f", "8", "-n", "3", "-w", "1"]


def tables(stdout):
    """The console's sweep title lines."""
    return [l for l in stdout.splitlines() if l.startswith("# ") and " dtype=" in l]


def header(stdout):
    return [l for l in stdout.splitlines() if l.startswith("#  ") and " size " in l]


class Console(fbtest.FbTestCase):
    def test_model_columns_with_fabric_only(self):
        c, j, files = self.outputs()
        res = run(mpirun_cmd(2, ["run", *SMALL, "--fabric", "localhost", *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertTrue(header(res.stdout) and "ratio" in header(res.stdout)[0], res.stdout)
        _, rows = fbtest.load_csv(c)
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["model_basis"], "best-modelled-bound", r)
        # On one host the rows are held against localhost anyway, but the console says nothing.
        res = run(mpirun_cmd(2, ["run", *SMALL]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertNotIn("ratio", res.stdout)

    def test_named_algorithm_basis(self):
        c, j, files = self.outputs()
        res = run(mpirun_cmd(2, ["run", *SMALL, "--algo", "ring", *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        _, rows = fbtest.load_csv(c)
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["model_basis"], "algorithm", r)
            self.assertTrue(r["model_algo"].startswith("ring"), r)

    def test_auto_sweep_is_one_table(self):
        res = run(mpirun_cmd(4, ["run", "-b", "8", "-e", "1M", "-f", "16", "-n", "2", "-w", "1",
                                 "--algo", "auto", "--backend", "mpi"]))
        if res.rc == fbtest.EXIT_USAGE and "native" in res.stderr:
            self.skipTest("mpi runs no fabricbench algorithms here")
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(len(tables(res.stdout)), 1, res.stdout)
        self.assertIn(" algo=auto ", tables(res.stdout)[0])
        self.assertIn("  algo", header(res.stdout)[0])

    def test_placement_spelled_one_way(self):
        for place in ("both", "in", "in-place", "out-of-place", "oop"):
            with self.subTest(place=place):
                res = run(mpirun_cmd(2, ["run", *SMALL, "--place", place]))
                self.assertRc(res, fbtest.EXIT_OK)
                rows = [l for l in res.stdout.splitlines() if l and not l.startswith("#")]
                self.assertTrue(rows)
                for l in rows:
                    self.assertTrue(" in-place " in l or " out-of-place " in l, l)
                for bad in (" oop ", " ip ", "inplace="):
                    self.assertNotIn(bad, res.stdout)

    def test_bad_placement_names_the_spellings(self):
        res = run(mpirun_cmd(2, ["run", *SMALL, "--place", "sideways"]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(res.errors(), [
            "fabricbench: command line: place: expected out-of-place, in-place or both, got 'sideways'"])

    def test_auto_batch_is_a_power_of_two(self):
        """--batch auto batches by powers of two (auto_batch, unit-tested), so rows of nearly
        equal time get one factor; the timing itself is not asserted here (a loaded machine)."""
        c, j, files = self.outputs()
        res = run(mpirun_cmd(2, ["run", "--op", "allreduce,allgather,alltoall", "-b", "64", "-e", "64",
                                 "-n", "5", "-w", "2", *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        _, rows = fbtest.load_csv(c)
        self.assertEqual(len(rows), 3)
        for r in rows:
            n = int(r["ops_per_sample"])
            self.assertEqual(n & (n - 1), 0, f"a power of two: {r}")
            self.assertLessEqual(n, 1024, r)


if __name__ == "__main__":
    fbtest.main()
