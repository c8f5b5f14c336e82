#!/usr/bin/env python3
"""The JSON says what the run ran on and how each rank and host timed: meta.mpi_thread_level (MPI
started with plain MPI_Init: "single"), meta.inventory (one entry per host with its ranks' binding,
the MPI library's selected pml), the mpi rows' transport column, per-rank and per-host times in
every row; the console ends with one summary line per op; compare warns when the inventories of
base and candidate differ."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd, singleton_cmd  # noqa: E402

RUN = ["run", "--op", "allreduce,pingpong", "-b", "8", "-e", "64", "-n", "4", "-w", "1"]


class Inventory(fbtest.FbTestCase):
    def run_json(self, name, np=2, extra=()):
        path = self.path(name)
        res = fbtest.run(mpirun_cmd(np, [*RUN, "--json", path, *extra]))
        self.assertRc(res, fbtest.EXIT_OK)
        return res, fbtest.load_json(path), path

    def test_meta_holds_thread_level_and_inventory(self):
        res, doc, _ = self.run_json("inv.json", np=3)
        meta = doc["meta"]
        self.assertEqual(meta["mpi_thread_level"], "single")
        inv = meta["inventory"]
        self.assertEqual(inv["mpi"]["thread_level"], "single")
        self.assertIn(inv["mpi"]["pml"], ("ob1", "ucx", "cm"))
        self.assertEqual(len(inv["hosts"]), 1, inv)  # one entry per host
        host = inv["hosts"][0]
        self.assertEqual(host["host"], meta["hosts"][0])
        self.assertEqual([r["rank"] for r in host["ranks"]], [0, 1, 2])
        self.assertEqual(host["cpus"], os.cpu_count())
        for r in host["ranks"]:
            self.assertTrue(r["cpus"], r)  # sched_getaffinity as a cpulist
        self.assertIn("kernel", host)
        self.assertEqual(host["kernel"], os.uname().release)
        for nic in host["nics"]:
            self.assertNotEqual(nic["name"], "lo")

    def test_rows_hold_per_rank_and_per_host_times_and_mpi_transport(self):
        _, doc, _ = self.run_json("rows.json", np=2)
        self.assertEqual(len(doc["rows"]), 8)
        for row in doc["rows"]:
            self.assertEqual(len(row["rank_p50_us"]), 2, row)
            self.assertEqual(len(row["rank_mean_us"]), 2, row)
            self.assertEqual(len(row["host_p50_us"]), 1, row)
            # The host's figure is its slowest rank's median; the row's time is a max over ranks.
            self.assertEqual(row["host_p50_us"][0], max(row["rank_p50_us"]))
            self.assertGreater(min(row["rank_p50_us"]), 0)
            if row["op"] == "allreduce":
                self.assertLessEqual(max(row["rank_p50_us"]), row["time_max_us"] * (1 + 1e-9))
            self.assertTrue(row["transport"], "mpi's transport column is empty")

    def test_console_ends_with_a_summary_line_per_op(self):
        res = fbtest.run(mpirun_cmd(2, RUN))
        self.assertRc(res, fbtest.EXIT_OK)
        lines = [l for l in res.stdout.splitlines() if l.startswith("# summary ")]
        self.assertEqual(len(lines), 2, res.stdout)
        self.assertTrue(lines[0].startswith("# summary mpi allreduce: PASS  4 rows, 0 wrong"), lines[0])
        self.assertTrue(lines[1].startswith("# summary mpi pingpong: PASS  4 rows, 0 wrong"), lines[1])
        # One host: the localhost fabric predicts every row.
        self.assertIn("worst time/model", lines[0])
        self.assertEqual(res.stdout.rstrip().splitlines()[-1], lines[1])
        res = fbtest.run(mpirun_cmd(2, [*RUN, "-c", "0"]))
        self.assertIn("# summary mpi allreduce: UNCHECKED  4 rows, N/A wrong", res.stdout)

    def test_compare_warns_when_inventories_differ(self):
        _, doc, base = self.run_json("base.json", np=2)
        same = fbtest.run(singleton_cmd(["compare", base, base]))
        self.assertNotIn("different systems", same.stderr)
        doc["meta"]["inventory"]["hosts"][0]["cpu_model"] = "Other CPU 9000"
        doc["meta"]["inventory"]["hosts"][0]["host"] = "another-name"  # names are not compared
        cand = self.path("cand.json")
        with open(cand, "w") as f:
            json.dump(doc, f)
        res = fbtest.run(singleton_cmd(["compare", base, cand]))
        self.assertIn(res.rc, (fbtest.EXIT_OK, 1), res.describe())
        warn = [l for l in res.stderr.splitlines() if "inventory" in l or l.startswith("fabricbench:   ")]
        self.assertEqual(len(warn), 2, res.stderr)
        self.assertIn("different systems (meta.inventory, 1 difference)", warn[0])
        self.assertIn("hosts[0].cpu_model: ", warn[1])
        self.assertIn("-> 'Other CPU 9000'", warn[1])


if __name__ == "__main__":
    fbtest.main()
