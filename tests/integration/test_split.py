"""run --split (concurrent sub-groups, as nccl-tests' NCCL_TESTS_SPLIT) and --ranks (growing
sub-communicators in one job, as IMB's -npmin), issue 23 item 15: every split kind on mpi and ucx
at 4 and 6 ranks, exact in every group, rows naming the group layout and computing busbw with
the group's rank count; --ranks lists and ranges giving rows at each k; bad specs refused with one
line and exit code 2. tests/unit/test_groups.cpp covers the spellings and the colour function.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

QUICK = ["-b", "8", "-e", "24K", "-f", "8", "-n", "3", "-w", "1", "-c", "2", "--batch", "1"]
OPS = "allreduce,allgather,alltoall,broadcast"

# (ranks, --split as given, the name rows carry, group size, groups): one host, so node is one
# group of all ranks and rail one group per rank.
SPLITS = [
    (4, "node", "node", 4, 1),
    (4, "rail", "rail", 1, 4),
    (4, "stride:2", "stride:2", 2, 2),
    (4, "mask:0x2", "mask:0x2", 2, 2),
    (6, "node", "node", 6, 1),
    (6, "rail", "rail", 1, 6),
    (6, "stride:3", "stride:3", 2, 3),
    (6, "&0x1", "mask:0x1", 3, 2),
    (6, "DIV 3", "div:3", 3, 2),
    (6, "%2", "stride:2", 3, 2),
]


class Split(fbtest.FbTestCase):
    def test_every_split_kind_on_mpi_and_ucx(self):
        cases, cmds = [], []
        for backend in ("mpi", "ucx"):
            for np, spec, name, size, ngroups in SPLITS:
                c, j, out = self.outputs(f"{backend}-{np}-{len(cases)}")
                cases.append((backend, np, spec, name, size, ngroups, c, j))
                cmds.append(mpirun_cmd(np, ["run", "-q", "--backend", backend, "--op", OPS, "--split", spec,
                                            *QUICK, *out]))
        for (backend, np, spec, name, size, ngroups, c, j), res in zip(cases, fbtest.run_parallel(cmds, jobs=3)):
            with self.subTest(backend=backend, np=np, split=spec):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j)
                ops = {r["op"] for r in rows}
                # One rank alone has no all-to-all partner but still runs the rest.
                self.assertTrue({"allreduce", "allgather", "broadcast"} <= ops, ops)
                for r in rows:
                    if size > 1:
                        fbtest.check_row_sanity(self, r)  # wrong == 0; busbw with r["nranks"]
                    else:  # a rank alone: exact, and no bus traffic but for a broadcast's factor of 1
                        self.assertEqual(r["wrong"], 0, r)
                        self.assertEqual(r["busbw_GBps"], r["algbw_GBps"] if r["op"] == "broadcast" else 0.0, r)
                    self.assertEqual((r["group"], r["group_size"], r["ngroups"], r["nranks"]),
                                     (name, size, ngroups, size), r)
                    self.assertEqual(r["bytes"], fbtest.expected_bytes(r["op"], r["dtype"], size,
                                                                       r["requested_bytes"])[0], r)
                    if size > 1 and r["op"] == "allreduce":
                        self.assertAlmostEqual(r["busbw_GBps"], r["algbw_GBps"] * 2 * (size - 1) / size,
                                               delta=1e-9 * max(1.0, r["busbw_GBps"]))
                    # Every rank of every group is timed: the samples are the slowest of them all.
                    self.assertEqual(len(r["rank_p50_us"]), np)
                    self.assertTrue(0 <= r["slowest_rank"] < np)

    def test_rows_without_split_name_no_group(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "-q", *QUICK, *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        for r in fbtest.check_results(self, c, j, nranks=2):
            self.assertEqual((r["group"], r["group_size"], r["ngroups"]), ("", 2, 1))

    def test_ranks_lists_and_ranges(self):
        cases = [("mpi", "2:4", [2, 4]), ("ucx", "2:max", [2, 4]), ("mpi", "2,3", [2, 3]), ("ucx", "2,3", [2, 3])]
        cmds, outs = [], []
        for backend, spec, _ in cases:
            c, j, out = self.outputs(f"ranks-{backend}-{len(outs)}")
            outs.append((c, j))
            cmds.append(mpirun_cmd(4, ["run", "-q", "--backend", backend, "--op", "allreduce,allgather", "--ranks",
                                       spec, *QUICK, *out]))
        for (backend, spec, ks), (c, j), res in zip(cases, outs, fbtest.run_parallel(cmds, jobs=3)):
            with self.subTest(backend=backend, ranks=spec):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j)
                sizes = fbtest.sweep(8, 24 * 1024, 8)
                # Each k in turn: every op and size on k ranks, then the next k.
                self.assertEqual([r["nranks"] for r in rows], [k for k in ks for _ in range(2 * len(sizes))])
                for r in rows:
                    fbtest.check_row_sanity(self, r)
                    self.assertEqual((r["group"], r["group_size"], r["ngroups"]), ("", r["nranks"], 1))
                    self.assertEqual(len(r["rank_p50_us"]), r["nranks"])
                    self.assertEqual(r["bytes"], fbtest.expected_bytes(r["op"], r["dtype"], r["nranks"],
                                                                       r["requested_bytes"])[0], r)
                # The model predicts for the k ranks that ran: a larger ring all-reduce takes longer.
                big = {r["nranks"]: r for r in rows if r["op"] == "allreduce" and r["requested_bytes"] == sizes[-1]}
                self.assertIsNotNone(big[ks[0]]["model_time_us"])
                self.assertLess(big[ks[0]]["model_time_us"], big[ks[-1]]["model_time_us"])

    def test_help_names_both_options(self):
        res = fbtest.run(fbtest.singleton_cmd(["run", "--help"]))
        self.assertRc(res, fbtest.EXIT_OK)
        text = " ".join(res.stdout.split())
        self.assertIn("--split SPLIT", text)
        self.assertIn("NCCL_TESTS_SPLIT", text)
        self.assertIn("--ranks LIST", text)
        self.assertIn("IMB's -npmin", text)

    def test_bad_specs_refused(self):
        self.assertRefused([
            (["run", "--split", "nodes"], "--split: unknown split in 'nodes'"),
            (["run", "--split", "stride:0"], "K must be at least 1"),
            (["run", "--split", "mask:0xg"], "not a whole number"),
            (["run", "--split", "stride:4"], "groups must be of equal size"),
            (["run", "--ranks", "8"], "8 ranks asked for, the job has 6"),
            (["run", "--ranks", "4,2"], "counts must ascend"),
            (["run", "--ranks", "2:x"], "'x' is not a rank count"),
            (["run", "--ranks", "2:4", "--split", "node"], "--split and --ranks cannot be combined"),
            (["run", "--split", "node", "--cycles", "2"], "cannot be combined with --cycles"),
        ], np=6)


if __name__ == "__main__":
    fbtest.main()
