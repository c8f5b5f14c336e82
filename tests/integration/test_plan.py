#!/usr/bin/env python3
"""`fabricbench run --plan`: plan files run under mpirun, command-line options override every
test, and a bad plan is one "FILE:LINE: ..." line with exit code 2 and no output files."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, check_meta, check_results, check_row_sanity, mpirun_cmd, run, singleton_cmd, sweep  # noqa: E402


def fixture_plan():
    return os.path.join(CONFIG.source, "tests", "integration", "fixtures", "quick-shape.yaml")


def bad_fixture(name):
    return os.path.join(CONFIG.source, "tests", "integration", "fixtures", name)


def expected_fixture_rows(iters=None, dtype=None):
    """[(op, dtype, redop, root, inplace, requested_bytes, iters)] that tests/integration/fixtures/quick-shape.yaml
    produces, in order (`iters`, `dtype`: command-line overrides)."""
    rows = []
    for op in ("allreduce", "reducescatter", "allgather", "alltoall"):
        for dt in ([dtype] if dtype else ["float32", "bfloat16"]):
            for b in sweep(64, 4096, 8):
                rows.append((op, dt, "max" if op in ("allreduce", "reducescatter") else "", -1, False, b, iters or 2))
    rows.append(("broadcast", dtype or "float32", "", 1, True, 1024, iters or 2))
    for op in ("unidir", "pingpong"):
        for b in sweep(8, 1024, 4):
            rows.append((op, dtype or "uint8", "", -1, False, b, iters or 4))
    return rows


def row_tuple(r):
    return (r["op"], r["dtype"], r["redop"], r["root"], r["inplace"], r["requested_bytes"], r["iters"])


class PlanRuns(fbtest.FbTestCase):
    def run_plan(self, np, plan, extra=()):
        csv_path, json_path, files = self.outputs()
        res = run(mpirun_cmd(np, ["run", "--plan", plan, "-q", *extra, *files]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.errors(), [])
        rows = check_results(self, csv_path, json_path, status="ok", nranks=np)
        return rows, fbtest.load_json(json_path)

    def test_fixture_plan_np8(self):
        rows, doc = self.run_plan(8, fixture_plan())
        self.assertEqual(sweep(64, 4096, 8), [64, 512, 4096])
        # defaults (iters 2) < the test entry (pairs: iters 4); each test's own sizes and keys.
        self.assertEqual([row_tuple(r) for r in rows], expected_fixture_rows())
        for r in rows:
            check_row_sanity(self, r)
            self.assertEqual((r["warmup"], r["check_iters"]), (1, 1))
        check_meta(self, doc, 8, command_fragment="--plan")

    def test_command_line_overrides_every_test(self):
        rows, _ = self.run_plan(2, fixture_plan(), ["--iters", "3"])
        self.assertEqual([row_tuple(r) for r in rows], expected_fixture_rows(iters=3))
        self.assertTrue(all(r["iters"] == 3 and len(r["samples_us"]) == 3 for r in rows))

    def test_command_line_overrides_lists(self):
        """--dtype and --warmup given on the command line replace the plan's in every test."""
        rows, _ = self.run_plan(2, fixture_plan(), ["--dtype", "int32", "-w", "0"])
        self.assertEqual([row_tuple(r) for r in rows], expected_fixture_rows(dtype="int32"))
        for r in rows:
            self.assertEqual((r["dtype"], r["warmup"]), ("int32", 0), r["op"])
            check_row_sanity(self, r)

    def test_quick_yaml(self):
        """The shipped configs/plans/quick.yaml runs clean on 8 ranks."""
        plan = os.path.join(CONFIG.source, "configs", "plans", "quick.yaml")
        if not os.path.isfile(plan):
            self.skipTest("configs/plans/quick.yaml does not exist")
        csv_path, json_path, files = self.outputs()
        res = run(mpirun_cmd(8, ["run", "--plan", plan, "-q", *files]), timeout=300)
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertEqual(res.errors(), [])
        rows = check_results(self, csv_path, json_path, status="ok", nranks=8)
        self.assertGreater(len(rows), 0)
        for r in rows:
            check_row_sanity(self, r)
        self.assertEqual(len({fbtest.row_key(r) for r in rows}), len(rows), "a row repeated")

    def test_every_shipped_plan_parses(self):
        """Every configs/plans/*.yaml is a valid plan on 2 ranks: with an unwritable --csv the run
        gets as far as opening its outputs (every test parsed and expanded) and no further."""
        plans_dir = os.path.join(CONFIG.source, "configs", "plans")
        plans = sorted(f for f in os.listdir(plans_dir) if f.endswith(".yaml"))
        self.assertIn("quick.yaml", plans)
        bad_csv = "/nonexistent-fabricbench-dir/x.csv"
        results = fbtest.run_parallel([mpirun_cmd(2, ["run", "--plan", os.path.join(plans_dir, name), "-q",
                                                      "--csv", bad_csv]) for name in plans])
        for name, res in zip(plans, results):
            with self.subTest(plan=name):
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn("cannot write results", res.errors()[0], f"{name} itself is not accepted")


# (fixture, expected "FILE:LINE" line numbers (any of), text the message must name)
BAD_PLANS = [
    ("bad-unknown-key.yaml", [6], "colour"),
    ("bad-value-type.yaml", [5], "iters"),
    ("bad-value-number.yaml", [6], "'lots'"),
    ("bad-yaml.yaml", [5, 6], "invalid YAML"),
    ("bad-empty-tests.yaml", [4], "no tests"),
    ("bad-no-tests.yaml", [1], "no tests"),
    ("bad-unknown-op.yaml", [7], "frobnicate"),
    ("bad-min-max.yaml", [3, 5, 6], "minbytes"),
    ("bad-test-not-mapping.yaml", [4], "mapping"),
    ("bad-defaults-dtype.yaml", [4], "float17"),
    ("bad-unknown-top-key.yaml", [2], "'test'"),
]


class BadPlans(fbtest.FbTestCase):
    def check_bad(self, launcher, cmd_for):
        cases = []
        for i, (name, lines, needle) in enumerate(BAD_PLANS):
            csv_path, json_path, files = self.outputs(f"case{i}")
            plan = bad_fixture(name)
            cases.append((name, plan, lines, needle, csv_path, json_path, cmd_for(["run", "--plan", plan, *files])))
        results = fbtest.run_parallel([c[-1] for c in cases])
        for (name, plan, lines, needle, csv_path, json_path, _), res in zip(cases, results):
            with self.subTest(plan=name, launcher=launcher):
                self.assertRc(res, fbtest.EXIT_USAGE)
                fb = res.fb_lines()
                self.assertEqual(len(fb), 1, f"exactly one line from fabricbench\n{res.describe()}")
                line = fb[0]
                m = re.search(re.escape(plan) + r":(\d+):", line)
                self.assertIsNotNone(m, f"'{plan}:LINE:' not in: {line}")
                self.assertIn(int(m.group(1)), lines, f"line number (fixture {name}) in: {line}")
                self.assertIn(needle, line)
                self.assertNoOutputs(csv_path, json_path)

    def test_bad_plans_mpirun(self):
        self.check_bad("mpirun -np 2", lambda a: mpirun_cmd(2, a))

    def test_bad_plans_singleton(self):
        self.check_bad("no launcher", singleton_cmd)

    def test_missing_plan(self):
        csv_path, json_path, files = self.outputs()
        missing = self.path("no-such-plan.yaml")
        res = run(mpirun_cmd(2, ["run", "--plan", missing, *files]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.fb_lines()), 1, res.describe())
        self.assertIn(missing, res.fb_lines()[0])
        self.assertIn("cannot read plan", res.fb_lines()[0])
        self.assertNoOutputs(csv_path, json_path)

    def test_bad_override(self):
        """A bad command-line option with a good plan names the command line, not the plan."""
        csv_path, json_path, files = self.outputs()
        res = run(mpirun_cmd(2, ["run", "--plan", fixture_plan(), "--dtype", "float17", *files]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.fb_lines()), 1, res.describe())
        self.assertIn("command line: dtype", res.fb_lines()[0])
        self.assertIn("float17", res.fb_lines()[0])
        self.assertNoOutputs(csv_path, json_path)


if __name__ == "__main__":
    fbtest.main()
