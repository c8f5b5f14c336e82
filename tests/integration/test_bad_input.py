#!/usr/bin/env python3
"""Bad input: exit code 2, exactly one "fabricbench: ..." line on stderr (from rank 0 only) that
names the offending value, and no output file created. Under mpirun and without a launcher."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd, mpirun_prefix, run, run_parallel, singleton_cmd  # noqa: E402

SMALL = ["-b", "8", "-e", "64", "-n", "2", "-w", "0"]
# The short and long spellings of the options in SMALL.
SPELLINGS = {"-b": "--minbytes", "-e": "--maxbytes", "-n": "--iters", "-w": "--warmup"}


def with_small(args):
    """`args` plus those of SMALL's options that `args` does not give itself."""
    out = []
    for flag, value in zip(SMALL[::2], SMALL[1::2]):
        if flag not in args and SPELLINGS[flag] not in args:
            out += [flag, value]
    return out + list(args)

# (name, ranks, arguments after "run", texts the error line must contain)
CASES = [
    ("unknown op", 2, ["--op", "allreduce,frobnicate"], ["op", "'frobnicate'"]),
    ("empty op", 2, ["--op", ""], ["op", "''"]),
    ("unknown backend", 2, ["--backend", "carrier-pigeon"], ["'carrier-pigeon'"]),
    ("unknown dtype", 2, ["-d", "float32,float17"], ["dtype", "'float17'"]),
    ("unknown redop", 2, ["-o", "sum,avg"], ["redop", "'avg'"]),
    ("size with a bad unit", 2, ["-b", "12X"], ["minbytes", "'12X'"]),
    ("negative size", 2, ["-e", "-5"], ["maxbytes", "'-5'"]),
    ("empty size", 2, ["-b", ""], ["minbytes", "''"]),
    ("zero size", 2, ["-b", "0"], ["minbytes"]),
    ("fractional bytes", 2, ["-e", "1.5"], ["maxbytes", "'1.5'"]),
    ("lower-case unit", 2, ["-e", "8m"], ["maxbytes", "'8m'"]),
    ("min > max", 2, ["-b", "1M", "-e", "64K"], ["1M", "64K"]),
    ("factor 1", 2, ["-b", "8", "-e", "64", "-f", "1"], ["stepfactor", "1"]),
    ("factor < 1", 2, ["-b", "8", "-e", "64", "-f", "0.5"], ["stepfactor", "0.5"]),
    ("factor not a number", 2, ["-f", "two"], ["stepfactor", "'two'"]),
    ("zero iterations", 2, ["-n", "0"], ["iters", "'0'"]),
    ("iterations not whole", 2, ["--iters", "1e3"], ["iters", "'1e3'"]),
    ("negative warmup", 2, ["-w", "-1"], ["warmup", "'-1'"]),
    ("negative check", 2, ["--check", "-1"], ["check", "'-1'"]),
    ("zero batch", 2, ["--batch", "0"], ["batch", "'0'"]),
    ("bad place", 2, ["--place", "sideways"], ["place", "'sideways'"]),
    ("pingpong on one rank", 1, ["--op", "pingpong"], ["pingpong", "2 ranks"]),
    ("root not a rank", 2, ["--op", "broadcast", "--place", "in", "--root", "2"], ["root 2", "2 ranks"]),
    ("negative root", 2, ["--op", "broadcast", "--root", "-1"], ["root", "'-1'"]),
    ("timeout not a number", 2, ["--timeout", "abc"], ["timeout", "'abc'"]),
    ("negative timeout", 2, ["--timeout", "-1"], ["timeout", "'-1'"]),
    ("huge timeout", 2, ["--timeout", "1e9"], ["timeout", "'1e9'"]),
    ("empty timeout", 2, ["--timeout", ""], ["timeout", "''"]),
    ("unknown flag", 2, ["--frobnicate"], ["--frobnicate"]),
    ("stray positional", 2, ["stray"], ["stray"]),
]

SINGLETON_CASES = {"unknown op", "size with a bad unit", "min > max", "unknown flag", "timeout not a number",
                   "pingpong on one rank", "root not a rank", "empty timeout"}


def missing_backends():
    """Backends `fabricbench --list` shows as not compiled in."""
    out = subprocess.run([CONFIG.binary, "--list"], capture_output=True, text=True, env=fbtest.clean_env())
    return [l.split()[0] for l in out.stdout.splitlines() if "not compiled in" in l]


class BadInput(fbtest.FbTestCase):
    def check_cases(self, launcher, cases, cmd_for):
        prepared = []
        for i, (name, np, args, needles) in enumerate(cases):
            csv_path, json_path, files = self.outputs(f"case{i}")
            prepared.append((name, needles, csv_path, json_path, cmd_for(np, ["run", *with_small(args), *files])))
        results = run_parallel([p[-1] for p in prepared])
        for (name, needles, csv_path, json_path, _), res in zip(prepared, results):
            with self.subTest(case=name, launcher=launcher):
                self.assertRc(res, fbtest.EXIT_USAGE)
                fb = res.fb_lines()
                self.assertEqual(len(fb), 1, f"exactly one line from fabricbench\n{res.describe()}")
                for n in needles:
                    self.assertIn(n, fb[0], f"the error names {n!r}")
                self.assertNoOutputs(csv_path, json_path)

    def test_mpirun_np2(self):
        self.check_cases("mpirun", CASES, lambda np, a: mpirun_cmd(np, a))

    def test_singleton(self):
        cases = [c for c in CASES if c[0] in SINGLETON_CASES]
        # Without a launcher there is one rank: the broadcast root 2 case still fails (1 rank).
        cases = [(n, 1, a, ["root 2", "1 ranks"] if n == "root not a rank" else nd) for n, _, a, nd in cases]
        self.check_cases("no launcher", cases, lambda np, a: singleton_cmd(a))

    def test_backend_not_compiled_in(self):
        missing = missing_backends()
        if not missing:
            self.skipTest("every backend is compiled in")
        cases = [(f"backend {b}", 2, ["--backend", b], [b, "not compiled in"]) for b in missing]
        self.check_cases("mpirun", cases, lambda np, a: mpirun_cmd(np, a))
        self.check_cases("no launcher", cases[:1], lambda np, a: singleton_cmd(a))

    def test_unknown_subcommand(self):
        res = run(singleton_cmd(["walk"]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.fb_lines()), 1, res.describe())
        self.assertIn("walk", res.fb_lines()[0])

    # ---- ranks that disagree ----------------------------------------------------------------

    def mpmd(self, args0, args1):
        """mpirun -np 1 fabricbench run ARGS0 : -np 1 fabricbench run ARGS1."""
        cmd = mpirun_prefix(1) + [CONFIG.binary, "run", *args0, ":", "-np", "1", CONFIG.binary, "run", *args1]
        return run(cmd)

    def test_different_arguments(self):
        csv_path, json_path, files = self.outputs()
        res = self.mpmd(["--iters", "5", *SMALL[:4], *files], ["--iters", "6", *SMALL[:4], *files])
        self.assertRc(res, fbtest.EXIT_USAGE)
        fb = res.fb_lines()
        self.assertEqual(len(fb), 1, res.describe())
        self.assertIn("different arguments", fb[0])
        self.assertIn("rank 1", fb[0])
        self.assertIn("iters=6", fb[0])
        self.assertNoOutputs(csv_path, json_path)

    def test_different_output_paths(self):
        """Only rank 0 writes files, but a rank launched with another --csv is still a mistake."""
        csv_path, json_path, files = self.outputs()
        other = self.path("other.csv")
        res = self.mpmd([*SMALL, *files], [*SMALL, "--csv", other, "--json", json_path])
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.fb_lines()), 1, res.describe())
        self.assertIn("different arguments", res.fb_lines()[0])
        self.assertNoOutputs(csv_path, json_path, other)

    def test_error_on_one_rank_only(self):
        """A bad value on rank 1 alone: rank 0 reports it once, naming rank 1."""
        csv_path, json_path, files = self.outputs()
        res = self.mpmd([*SMALL, *files], [*SMALL, "--op", "frobnicate", *files])
        self.assertRc(res, fbtest.EXIT_USAGE)
        fb = res.fb_lines()
        self.assertEqual(len(fb), 1, res.describe())
        self.assertIn("rank 1", fb[0])
        self.assertIn("'frobnicate'", fb[0])
        self.assertNoOutputs(csv_path, json_path)

    # ---- outputs that cannot be written --------------------------------------------------------

    def test_csv_and_json_same_path(self):
        """--csv and --json naming one file would leave only one of them: refused up front."""
        same = self.path("results.out")
        for launcher, cmd in (("mpirun", mpirun_cmd(2, ["run", *SMALL, "--csv", same, "--json", same])),
                              ("no launcher", singleton_cmd(["run", *SMALL, "--csv", same, "--json", same]))):
            with self.subTest(launcher=launcher):
                res = run(cmd)
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.fb_lines()), 1, res.describe())
                self.assertIn(same, res.fb_lines()[0])
                self.assertNoOutputs(same)

    def test_unwritable_outputs(self):
        csv_path, json_path, _ = self.outputs()
        missing_dir = "/nonexistent-fabricbench-dir"
        self.assertFalse(os.path.exists(missing_dir))
        cases = [
            ("csv in a missing directory", ["--csv", f"{missing_dir}/x.csv", "--json", json_path], f"{missing_dir}/x.csv"),
            ("json in a missing directory", ["--csv", csv_path, "--json", f"{missing_dir}/x.json"], f"{missing_dir}/x.json"),
            ("csv is a directory", ["--csv", self.tmp, "--json", json_path], self.tmp),
            ("json is a directory", ["--csv", csv_path, "--json", self.tmp], self.tmp),
        ]
        for launcher, cmd_for in (("mpirun", lambda a: mpirun_cmd(2, a)), ("no launcher", singleton_cmd)):
            results = run_parallel([cmd_for(["run", *SMALL, *args]) for _, args, _ in cases])
            for (name, _, needle), res in zip(cases, results):
                with self.subTest(case=name, launcher=launcher):
                    self.assertRc(res, fbtest.EXIT_USAGE)
                    fb = res.fb_lines()
                    self.assertEqual(len(fb), 1, res.describe())
                    self.assertIn(needle, fb[0])
                    # The other, writable, output is not left behind either.
                    self.assertNoOutputs(csv_path, json_path)
                    self.assertTrue(os.path.isdir(self.tmp))


if __name__ == "__main__":
    fbtest.main()
