#!/usr/bin/env python3
"""Wrong data end to end, with no test hook in fabricbench: a PMPI shim (LD_PRELOAD, the MPI
standard's profiling interface) flips one byte of what MPI_Allreduce / MPI_Alltoall deliver to one
rank. fabricbench must count exactly the corrupted elements, keep writing rows, record status
"wrong-data" and exit with code 1. Skipped (77) when no C compiler (mpicc or cc) is found."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, check_results, mpirun_cmd, run  # noqa: E402

# Only float32 results are touched: fabricbench's own bookkeeping reductions (times as doubles,
# wrong counts as 64-bit integers) go through MPI_Allreduce too and must stay intact.
SHIM_C = r"""
#include <mpi.h>
#include <stdlib.h>

static void corrupt(void* buf, int count, MPI_Datatype type) {
  const char* who = getenv("FBTEST_CORRUPT_RANK");
  int rank = -1;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (who == NULL || rank != atoi(who) || type != MPI_FLOAT || count <= 0) return;
  ((unsigned char*)buf)[1] ^= 0x5a; /* bits in the middle of the first element */
}

int MPI_Allreduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
  int rc = PMPI_Allreduce(s, r, n, t, op, c);
  if (rc == MPI_SUCCESS) corrupt(r, n, t);
  return rc;
}

int MPI_Alltoall(const void* s, int sn, MPI_Datatype st, void* r, int rn, MPI_Datatype rt, MPI_Comm c) {
  int rc = PMPI_Alltoall(s, sn, st, r, rn, rt, c);
  if (rc == MPI_SUCCESS) corrupt(r, rn, rt);
  return rc;
}
"""


class WrongData(fbtest.FbTestCase):
    shim = None
    shim_dir = None

    @classmethod
    def setUpClass(cls):
        mpicc = os.path.join(os.path.dirname(CONFIG.mpirun), "mpicc")
        compiler = mpicc if os.access(mpicc, os.X_OK) else shutil.which("mpicc")
        if not compiler:
            raise unittest.SkipTest("no mpicc to build the PMPI shim")
        cls.shim_dir = tempfile.mkdtemp(prefix="fbtest-shim-")
        src = os.path.join(cls.shim_dir, "corrupt.c")
        with open(src, "w") as f:
            f.write(SHIM_C)
        cls.shim = os.path.join(cls.shim_dir, "libfbcorrupt.so")
        out = subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", cls.shim, src], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise unittest.SkipTest(f"cannot build the PMPI shim: {out.stderr.strip()[:500]}")

    @classmethod
    def tearDownClass(cls):
        if cls.shim_dir:
            shutil.rmtree(cls.shim_dir, ignore_errors=True)

    def run_corrupted(self, args, corrupt_rank="1", np=2):
        csv_path, json_path, files = self.outputs()
        extra = ["-x", f"LD_PRELOAD={self.shim}", "-x", f"FBTEST_CORRUPT_RANK={corrupt_rank}"]
        res = run(mpirun_cmd(np, ["run", "-q", *args, *files], extra=extra))
        return res, csv_path, json_path

    def test_corruption_is_counted_and_exits_1(self):
        check = 2
        res, csv_path, json_path = self.run_corrupted(
            ["--op", "allreduce,alltoall,allgather", "-b", "64", "-e", "4K", "-f", "8", "-n", "3", "-w", "1",
             "-c", str(check)])
        self.assertRc(res, fbtest.EXIT_WRONG_DATA)
        rows = check_results(self, csv_path, json_path, status="wrong-data", nranks=2)
        sizes = fbtest.sweep(64, 4096, 8)
        self.assertEqual(len(rows), 3 * len(sizes), "every row is still written")
        for r in rows:
            # One element on one rank per validated op; allgather is not touched by the shim.
            expected = check if r["op"] in ("allreduce", "alltoall") else 0
            self.assertEqual(r["wrong"], expected, f"{r['op']} {r['bytes']} B")
        total = sum(r["wrong"] for r in rows)
        lines = [l for l in res.fb_lines() if "validation failed" in l]
        self.assertEqual(len(lines), 1, res.describe())
        self.assertIn(f"{total} wrong", lines[0])

    def test_corruption_on_rank0(self):
        res, csv_path, json_path = self.run_corrupted(["--op", "allreduce", "-b", "1K", "-e", "1K", "-n", "2"],
                                                      corrupt_rank="0", np=4)
        self.assertRc(res, fbtest.EXIT_WRONG_DATA)
        rows = check_results(self, csv_path, json_path, status="wrong-data", nranks=4)
        self.assertEqual([r["wrong"] for r in rows], [1])

    def test_no_check_no_verdict(self):
        """-c 0 skips validation: the same corruption goes unseen, exit 0 (and wrong stays 0)."""
        res, csv_path, json_path = self.run_corrupted(["--op", "allreduce", "-b", "64", "-e", "256", "-n", "2",
                                                       "-c", "0"])
        self.assertRc(res, fbtest.EXIT_OK)
        rows = check_results(self, csv_path, json_path, status="ok", nranks=2)
        self.assertTrue(all(r["wrong"] == 0 and r["check_iters"] == 0 for r in rows))

    def test_shim_is_inert_elsewhere(self):
        """The control: the shim loaded but no rank selected, the run is clean."""
        res, csv_path, json_path = self.run_corrupted(["--op", "allreduce,alltoall", "-b", "64", "-e", "256",
                                                       "-n", "2"], corrupt_rank="-1")
        self.assertRc(res, fbtest.EXIT_OK)
        check_results(self, csv_path, json_path, status="ok", nranks=2)


if __name__ == "__main__":
    fbtest.main()
