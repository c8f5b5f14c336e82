"""run --split (concurrent sub-groups, as nccl-tests' NCCL_TESTS_SPLIT) and --ranks (growing
sub-communicators in one job, as IMB's -npmin), issue 23 item 15: every split kind on mpi and ucx
at 4 and 6 ranks, exact in every group, rows naming the group layout and computing busbw with
the group's rank count; --ranks lists and ranges giving rows at each k; bad specs refused with one
line and exit code 2. tests/unit/test_groups.cpp covers the spellings and the colour function.
"""

import os
import signal
import sys
import time

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
                # One stage: its communicators (one per group) in the metadata.
                meta = fbtest.load_json(j)["meta"]
                self.assertEqual(meta["stages"], [{"label": f"--split {name}", "nranks": np, "ranks": f"0-{np - 1}",
                                                   "group": name, "ngroups": ngroups, "group_size": size,
                                                   "backends": meta["backend_versions"]}])
                self.assertEqual(len(meta["backend_versions"]), 1)

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

    def test_every_stage_in_the_metadata(self):
        """--ranks makes a communicator per k: every one is in meta.stages (JSON) and the console
        header, each backend once in backend_versions."""
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(4, ["run", "--backend", "ucx", "--op", "allreduce", "--ranks", "1,2,4",
                                        *QUICK, *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        fbtest.check_results(self, c, j)
        meta = fbtest.load_json(j)["meta"]
        self.assertEqual(len(meta["backend_versions"]), 1, meta["backend_versions"])
        self.assertTrue(meta["backend_versions"][0].startswith("ucx: "), meta["backend_versions"])
        ucx = meta["backend_versions"]
        self.assertEqual(meta["stages"], [
            {"label": "--ranks k=1", "nranks": 1, "ranks": "0", "group": "", "ngroups": 1, "group_size": 1,
             "backends": ucx},
            {"label": "--ranks k=2", "nranks": 2, "ranks": "0-1", "group": "", "ngroups": 1, "group_size": 2,
             "backends": ucx},
            {"label": "--ranks k=4", "nranks": 4, "ranks": "0-3", "group": "", "ngroups": 1, "group_size": 4,
             "backends": ucx},
        ])
        header = [l for l in res.stdout.splitlines() if l.startswith("# stage ")]
        self.assertEqual(header, [
            f"# stage 1/3 --ranks k=1: ranks 0, 1 communicator of 1 rank: {ucx[0]}",
            f"# stage 2/3 --ranks k=2: ranks 0-1, 1 communicator of 2 ranks: {ucx[0]}",
            f"# stage 3/3 --ranks k=4: ranks 0-3, 1 communicator of 4 ranks: {ucx[0]}",
        ])
        # A run on all the ranks has no stages.
        c2, j2, out2 = self.outputs("plain")
        self.assertRc(fbtest.run(mpirun_cmd(2, ["run", "-q", *QUICK, *out2])), fbtest.EXIT_OK)
        self.assertNotIn("stages", fbtest.load_json(j2)["meta"])

    def test_split_within_each_rank_count(self):
        """--ranks with --split: each k-prefix cut into groups, all of a prefix's groups at once;
        rows keyed by nranks (the group's size) and ngroups, timed over the k ranks."""
        cases = [("mpi", "2,4,6", "stride:2", [(2, 1), (4, 2), (6, 3)]),
                 ("ucx", "4,6", "div:2", [(4, 2), (6, 2)])]
        cmds, outs = [], []
        for backend, ranks, split, _ in cases:
            c, j, out = self.outputs(f"both-{backend}")
            outs.append((c, j))
            cmds.append(mpirun_cmd(6, ["run", "-q", "--backend", backend, "--op", "allreduce,allgather", "--ranks",
                                       ranks, "--split", split, *QUICK, *out]))
        sizes = fbtest.sweep(8, 24 * 1024, 8)
        for (backend, ranks, split, stages), (c, j), res in zip(cases, outs, fbtest.run_parallel(cmds, jobs=2)):
            with self.subTest(backend=backend, ranks=ranks, split=split):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j)
                self.assertEqual([(len(r["rank_p50_us"]), r["nranks"]) for r in rows],
                                 [st for st in stages for _ in range(2 * len(sizes))])
                for r in rows:
                    k, size = len(r["rank_p50_us"]), r["nranks"]
                    self.assertEqual((r["group"], r["group_size"], r["ngroups"]), (split, size, k // size), r)
                    self.assertEqual(r["wrong"], 0, r)
                    self.assertTrue(0 <= r["slowest_rank"] < k)
                    self.assertEqual(r["bytes"], fbtest.expected_bytes(r["op"], r["dtype"], size,
                                                                       r["requested_bytes"])[0], r)
                    if size > 1:
                        fbtest.check_row_sanity(self, r)
                meta = fbtest.load_json(j)["meta"]
                self.assertEqual([(s["label"], s["nranks"], s["ranks"], s["group"], s["ngroups"], s["group_size"])
                                  for s in meta["stages"]],
                                 [(f"--ranks k={k} --split {split}", k, f"0-{k - 1}", split, k // size, size)
                                  for k, size in stages])
                for s in meta["stages"]:
                    self.assertEqual(s["backends"], meta["backend_versions"])

    def test_hang_in_an_early_stage_is_caught(self):
        """A rank stopped in the first --ranks stage (k=2, while ranks 2-3 wait for it): the
        watchdog ends the job with exit code 3, its one line naming the stage; the rows before stay."""
        lr = fbtest.LongRun(self, 4, ["--ranks", "2,4", "--timeout", "3"])
        lr.wait_rows(fbtest.LONG_PLAN_QUICK_ROWS)
        time.sleep(0.5)  # into the long row's timed samples, on ranks 0-1
        lr.signal_rank(1, signal.SIGSTOP)
        rc = lr.wait(3 + 15)
        err = lr.stderr()
        self.assertEqual(rc, fbtest.EXIT_TIMEOUT, err)
        lines = [l for l in fbtest.fb_lines(err) if "timeout" in l]
        self.assertEqual(len(lines), 1, err)
        self.assertIn("allreduce", lines[0])
        self.assertIn("(--ranks k=2, stage 1/2)", lines[0])
        self.assertRegex(lines[0], r"no answer from rank 1\b", lines[0])
        rows = fbtest.check_results(self, lr.csv_path, lr.json_path, status="timeout")
        self.assertEqual([r["nranks"] for r in rows], [2] * fbtest.LONG_PLAN_QUICK_ROWS)
        self.assertEqual([s["label"] for s in fbtest.load_json(lr.json_path)["meta"]["stages"]],
                         ["--ranks k=2", "--ranks k=4"])
        self.assertEqual(fbtest.wait_no_processes(lr.marker), [], "processes left behind")

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
            (["run", "--split", "stride:4"], "--split stride:4 on 6 ranks: 4 groups of 2, 2, 1 and 1 ranks (in order "
                                             "of their first rank); groups must be of equal size"),
            (["run", "--split", "mask:0x4"], "--split mask:0x4 on 6 ranks: 2 groups of 4 and 2 ranks"),
            (["run", "--split", "mask:0x3"], "--split mask:0x3 on 6 ranks: 4 groups of 2, 2, 1 and 1 ranks"),
            # Each k-prefix is split on its own: 3 ranks by stride 2 give groups of 2 and 1.
            (["run", "--ranks", "3,6", "--split", "stride:2"],
             "--ranks k=3 --split stride:2 on 3 ranks: 2 groups of 2 and 1 ranks"),
            (["run", "--ranks", "2:max", "--split", "stride:4"], "--ranks k=6 --split stride:4 on 6 ranks: 4 groups"),
            (["run", "--ranks", "8"], "8 ranks asked for, the job has 6"),
            (["run", "--ranks", "4,2"], "counts must ascend"),
            (["run", "--ranks", "2:x"], "'x' is not a rank count"),
            (["run", "--split", "node", "--cycles", "2"], "cannot be combined with --cycles"),
        ], np=6)


if __name__ == "__main__":
    fbtest.main()
