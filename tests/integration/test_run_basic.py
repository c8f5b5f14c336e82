#!/usr/bin/env python3
"""`fabricbench run` end to end under mpirun: every op, dtypes, redops, placements, size sweeps,
CSV and JSON agreeing with each other and the schema, every row validated."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import (ALL_OPS, BLOCK_OPS, DTYPE_SIZE, PAIR_OPS, REDUCING_OPS, check_meta,  # noqa: E402
                    check_results, check_row_sanity, expected_bytes, mpirun_cmd, run, sweep)

QUICK = ["-n", "3", "-w", "1", "-c", "1"]


def expected_series(ops, dtypes, redops, place, nranks):
    """{(op, dtype, redop, inplace)} the mpi backend runs for these options."""
    out = set()
    for op in ops:
        if op in PAIR_OPS and nranks < 2:
            continue
        if op in PAIR_OPS or op in ("alltoallv", "moe_dispatch", "moe_combine"):  # no in-place variant
            places = [False] if place != "in" else []
        elif op == "broadcast":
            places = [True] if place != "out" else []  # MPI_Bcast: in place only
        else:
            places = {"out": [False], "in": [True], "both": [False, True]}[place]
        for dt in dtypes:
            for ro in (redops if op in REDUCING_OPS else [""]):
                for ip in places:
                    out.add((op, dt, ro, ip))
    return out


class RunBasic(fbtest.FbTestCase):
    def run_ok(self, np, args, stem="out"):
        csv_path, json_path, files = self.outputs(stem)
        res = run(mpirun_cmd(np, ["run", *args, *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.errors(), [], "no error lines on stderr")
        rows = check_results(self, csv_path, json_path, status="ok", nranks=np)
        return res, rows, fbtest.load_json(json_path)

    def check_matrix(self, np):
        dtypes = ["float32", "float16", "bfloat16", "int8"]
        redops = ["sum", "prod", "min", "max"]
        args = ["--backend", "mpi", "--op", "all", "-d", ",".join(dtypes), "-o", ",".join(redops),
                "--place", "both", "-b", "12", "-e", "1200", "-f", "100", "--batch", "1", *QUICK]
        res, rows, doc = self.run_ok(np, args)
        # Two sizes, neither a multiple of 4 ranks' blocks for every dtype (the JSON sink rewrites
        # and fsyncs the whole file per row, so rows are kept few: ~200 here).
        sizes = sweep(12, 1200, 100)
        self.assertEqual(sizes, [12, 1200])
        series = expected_series(ALL_OPS, dtypes, redops, "both", np)
        self.assertEqual(len(rows), len(series) * len(sizes), "rows = series x sizes")

        got = {}
        for r in rows:
            got.setdefault((r["op"], r["dtype"], r["redop"], r["inplace"]), []).append(r["requested_bytes"])
        self.assertEqual(set(got), series)
        for key, reqs in got.items():
            self.assertEqual(reqs, sizes, f"{key}: the sweep in order, each size once")

        for r in rows:
            check_row_sanity(self, r)
            op, dt = r["op"], r["dtype"]
            self.assertEqual(r["backend"], "mpi")
            self.assertEqual(r["mem"], "host")
            self.assertEqual((r["iters"], r["warmup"], r["check_iters"]), (3, 1, 1))
            self.assertEqual(r["root"], 0 if op in fbtest.ROOTED_OPS else -1)
            if op not in REDUCING_OPS:
                self.assertEqual(r["redop"], "")
            b, count = expected_bytes(op, dt, np, r["requested_bytes"])
            self.assertEqual((r["bytes"], r["count"]), (b, count), f"{op} {dt} {r['requested_bytes']} B rounding")
        for op in ("pingpong", "sendrecv", "unidir", "bidir", "relay"):
            self.assertTrue(any(r["op"] == op for r in rows), f"no {op} rows")

        check_meta(self, doc, np, command_fragment="--op all")
        env = doc["meta"]["environment"]
        if "OMPI_COMM_WORLD_SIZE" in env:
            self.assertEqual(env["OMPI_COMM_WORLD_SIZE"], str(np))
        # The out-of-place broadcast that the mpi backend cannot run is announced, not silent.
        notes = [l for l in res.fb_lines() if l.startswith("fabricbench: note:")]
        self.assertTrue(any("broadcast" in l for l in notes), f"no note about broadcast in {notes}")

    def test_all_ops_np2(self):
        self.check_matrix(2)

    def test_all_ops_np4(self):
        self.check_matrix(4)

    def test_block_rounding(self):
        """requested_bytes vs bytes for the ops that split the buffer into per-rank blocks."""
        np = 4
        _, rows, _ = self.run_ok(np, ["--op", "alltoall,allgather,reducescatter,allreduce",
                                      "-d", "float32,float64,int8", "-b", "100", "-e", "100", *QUICK])
        self.assertEqual(len(rows), 4 * 3)
        by = {(r["op"], r["dtype"]): r for r in rows}
        for op in ("alltoall", "allgather", "reducescatter"):
            # 100 B of float32 = 25 elements -> 6 per rank -> 24 elements = 96 B.
            self.assertEqual((by[op, "float32"]["requested_bytes"], by[op, "float32"]["bytes"],
                              by[op, "float32"]["count"]), (100, 96, 6), op)
            self.assertEqual((by[op, "float64"]["bytes"], by[op, "float64"]["count"]), (96, 3), op)
            self.assertEqual((by[op, "int8"]["bytes"], by[op, "int8"]["count"]), (100, 25), op)
        self.assertEqual((by["allreduce", "float32"]["bytes"], by["allreduce", "float32"]["count"]), (100, 25))
        self.assertEqual((by["allreduce", "float64"]["bytes"], by["allreduce", "float64"]["count"]), (96, 12))
        for r in rows:
            check_row_sanity(self, r)
            if r["op"] in BLOCK_OPS:
                self.assertEqual(r["bytes"] % (np * DTYPE_SIZE[r["dtype"]]), 0)
                self.assertLess(r["requested_bytes"] - r["bytes"], np * DTYPE_SIZE[r["dtype"]])

    def test_too_small_for_a_block(self):
        """8 B of float32 over 4 ranks is less than one element per rank: a 0-byte row, not an error."""
        _, rows, _ = self.run_ok(4, ["--op", "alltoall,allgather", "-b", "8", "-e", "32", *QUICK])
        self.assertEqual([(r["op"], r["requested_bytes"], r["bytes"]) for r in rows],
                         [("alltoall", 8, 0), ("alltoall", 16, 16), ("alltoall", 32, 32),
                          ("allgather", 8, 0), ("allgather", 16, 16), ("allgather", 32, 32)])
        for r in rows:
            check_row_sanity(self, r)

    def test_step_bytes(self):
        """-i: arithmetic steps instead of the factor; the last step may fall short of -e."""
        _, rows, _ = self.run_ok(2, ["--op", "allreduce,sendrecv", "-b", "100", "-e", "1100", "-i", "300", *QUICK])
        self.assertEqual(sweep(100, 1100, step=300), [100, 400, 700, 1000])
        for op in ("allreduce", "sendrecv"):
            self.assertEqual([r["requested_bytes"] for r in rows if r["op"] == op], [100, 400, 700, 1000])
        for r in rows:
            check_row_sanity(self, r)

    def test_fractional_factor(self):
        _, rows, _ = self.run_ok(2, ["--op", "allgather", "-b", "8", "-e", "64", "-f", "1.5", *QUICK])
        self.assertEqual([r["requested_bytes"] for r in rows], sweep(8, 64, 1.5))
        self.assertEqual(sweep(8, 64, 1.5), [8, 12, 18, 27, 40, 60])

    def test_batch(self):
        _, rows, _ = self.run_ok(2, ["--op", "allreduce,pingpong", "-b", "8", "-e", "1K", "-f", "8",
                                     "--batch", "3", "-n", "4", "-w", "1"])
        self.assertEqual(len(rows), 2 * len(sweep(8, 1024, 8)))
        for r in rows:
            self.assertEqual(r["ops_per_sample"], 3)
            self.assertEqual(len(r["samples_us"]), 4)
            check_row_sanity(self, r)

    def test_odd_rank_count_pair_ops(self):
        """With 3 ranks the pair ops run on (0, 1) and rank 2 sits out; the collectives and sendrecv's
        ring shift (0 -> 1 -> 2 -> 0, checked: wrong 0) use all 3."""
        _, rows, doc = self.run_ok(3, ["--op", "unidir,bidir,pingpong,sendrecv,allreduce,allgather",
                                       "-b", "8", "-e", "4K", "-f", "8", *QUICK])
        self.assertEqual(len(rows), 6 * len(sweep(8, 4096, 8)))
        self.assertEqual(doc["meta"]["nranks"], 3)
        for r in rows:
            self.assertEqual(r["nranks"], 3)
            check_row_sanity(self, r)

    def test_in_place_only(self):
        _, rows, _ = self.run_ok(2, ["--op", "allreduce,allgather,reducescatter,alltoall,broadcast",
                                     "--place", "in", "-b", "64", "-e", "256", "-f", "4", "-o", "max",
                                     *QUICK])
        self.assertEqual(len(rows), 5 * 2)
        for r in rows:
            self.assertTrue(r["inplace"], r["op"])
            check_row_sanity(self, r)

    def test_root_and_all_dtypes(self):
        """broadcast from the last rank, every dtype."""
        _, rows, _ = self.run_ok(4, ["--op", "broadcast", "--place", "in", "--root", "3", "-d", "all", "-b", "64", "-e", "64",
                                     *QUICK])
        self.assertEqual(sorted(r["dtype"] for r in rows), sorted(DTYPE_SIZE))
        for r in rows:
            self.assertEqual(r["root"], 3)
            self.assertTrue(r["inplace"])
            check_row_sanity(self, r)

    def test_stale_outputs_replaced_with_force(self):
        # Without --force they are refused (test_outputs.py).
        csv_path, json_path, _ = self.outputs()
        for p in (csv_path, json_path):
            with open(p, "w") as f:
                f.write("stale, not results\n{")
        _, rows, _ = self.run_ok(2, ["-b", "8", "-e", "16", "-q", "--force", *QUICK])
        self.assertEqual(len(rows), 2)

    def test_quiet_console(self):
        """-q: no console table on stdout, files still written."""
        res, rows, _ = self.run_ok(2, ["-q", "-b", "8", "-e", "8", *QUICK])
        self.assertEqual(res.stdout.strip(), "")
        self.assertEqual(len(rows), 1)

    def test_help_and_list_under_mpirun(self):
        """--help and --list print once (rank 0), exit 0, and create nothing."""
        res = run(mpirun_cmd(2, ["run", "--help"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.stdout.count("--timeout"), 1, res.stdout)
        res = run(mpirun_cmd(2, ["--list"]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.stdout.count("backends:"), 1, res.stdout)
        for name in ALL_OPS + ["mpi", "ucx", "nccl", "bfloat16", "prod"]:
            self.assertIn(name, res.stdout)


if __name__ == "__main__":
    fbtest.main()
