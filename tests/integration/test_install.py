"""Data found from any build and from an install tree (issue 23, items 2, 7 and 8).

* `cmake --install BUILD --prefix TMP` gives a tree whose binary finds its plans by name, its
  fabrics and reference data from any working directory, and installs the scripts and the Slurm
  example; the installed sbatch file resolves its default plan through the installed data.
* The binary copied alone into an empty directory (a build directory outside the source tree, as
  the lookup sees it) names every place it looked when a name is not found, and `run` says on
  stderr, once, when its default fabric is missing instead of leaving model_* empty silently.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_prefix  # noqa: E402

# The per-test options that keep a run to a few rows.
SMALL = ["-n", "1", "-w", "0", "-e", "64"]


def run_env(cmd, env=None, cwd=None, timeout=180):
    """fbtest.run with extra environment variables (and FABRICBENCH_* from outside removed)."""
    full = fbtest.clean_env()
    for k in list(full):
        if k.startswith("FABRICBENCH_"):
            del full[k]
    full.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, errors="replace",
                       timeout=timeout)
    return fbtest.Result(cmd, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


class Installed(fbtest.FbTestCase):
    """One `cmake --install` into a temporary prefix, shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        cls.cmake = shutil.which("cmake")
        if not cls.cmake:
            raise unittest.SkipTest("cmake not found")
        cls.build = os.path.dirname(CONFIG.binary)
        if not os.path.isfile(os.path.join(cls.build, "cmake_install.cmake")):
            raise unittest.SkipTest(f"{cls.build} is not a CMake build directory")
        cls.prefix = tempfile.mkdtemp(prefix="fbtest-install-")
        p = subprocess.run([cls.cmake, "--install", cls.build, "--prefix", cls.prefix], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise AssertionError(f"cmake --install failed:\n{p.stdout}\n{p.stderr}")
        cls.bin = os.path.join(cls.prefix, "bin", "fabricbench")
        cls.data = os.path.join(cls.prefix, "share", "fabricbench")
        # A fabric and a plan that exist only in the install tree: found, they prove the binary
        # looked beside itself and not in the source tree it was built from.
        shutil.copy(os.path.join(cls.data, "configs", "fabrics", "hgx-h100.yaml"),
                    os.path.join(cls.data, "configs", "fabrics", "only-installed.yaml"))
        shutil.copy(os.path.join(cls.data, "configs", "plans", "quick.yaml"),
                    os.path.join(cls.data, "configs", "plans", "only-installed.yaml"))

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("FBTEST_KEEP"):
            print(f"  (kept {cls.prefix})")
        else:
            shutil.rmtree(cls.prefix, ignore_errors=True)

    def test_tree_has_plans_scripts_slurm_fabrics_reference(self):
        for rel in ["bin/fabricbench", "share/fabricbench/configs/plans/quick.yaml",
                    "share/fabricbench/configs/fabrics/hgx-h100.yaml",
                    "share/fabricbench/configs/reference/published.csv",
                    "share/fabricbench/scripts/fabricbench-plot.py", "share/fabricbench/scripts/ci-compare",
                    "share/fabricbench/scripts/emufab", "share/fabricbench/scripts/emufab-rsh",
                    "share/fabricbench/scripts/slurm/fabricbench.sbatch",
                    "share/fabricbench/results/baselines/ci-2core.json"]:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, rel)), rel)
        for rel in ["scripts/ci-compare", "scripts/emufab", "scripts/emufab-rsh", "scripts/fabricbench-plot.py"]:
            self.assertTrue(os.access(os.path.join(self.data, rel), os.X_OK), f"{rel} is not executable")
        for name in ["ci-compare", "emufab"]:
            link = os.path.join(self.prefix, "bin", "fabricbench-" + name)
            self.assertTrue(os.path.islink(link), link)
            self.assertEqual(os.path.realpath(link), os.path.realpath(os.path.join(self.data, "scripts", name)))

    def test_model_finds_fabrics_from_another_directory(self):
        for fabric in ["hgx-h100", "only-installed"]:
            with self.subTest(fabric=fabric):
                res = run_env([self.bin, "model", "--fabric", fabric, "--gpus", "8"], cwd=self.tmp)
                self.assertRc(res, fbtest.EXIT_OK)
                self.assertIn("allreduce", res.stdout)

    def test_model_against_reference_data_by_name(self):
        res = run_env([self.bin, "model", "--against", "published", "--trust", "A", "-q"], cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertRegex(res.stdout, r"rows")

    def test_run_finds_plans_by_name(self):
        for plan in ["quick", "only-installed.yaml"]:
            with self.subTest(plan=plan):
                c, j, files = self.outputs(plan)
                res = run_env(mpirun_prefix(2) + [self.bin, "run", "--plan", plan, *SMALL, "-q", *files], cwd=self.tmp)
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j, status="ok", nranks=2)
                self.assertEqual({r["op"] for r in rows},
                                 {"allreduce", "reducescatter", "alltoall", "allgather", "broadcast", "pingpong",
                                  "unidir", "bidir"})

    def test_unknown_plan_names_the_install_tree(self):
        res = run_env([self.bin, "run", "--plan", "no-such-plan"], cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.errors()), 1, res.describe())
        self.assertIn("plan: 'no-such-plan' is neither a file nor a plan in " +
                      os.path.join(self.data, "configs", "plans"), res.errors()[0])

    def test_ci_compare_runs_installed(self):
        res = run_env([os.path.join(self.prefix, "bin", "fabricbench-ci-compare"), "--help"], cwd=self.tmp)
        self.assertRc(res, 0)
        self.assertIn("--baseline FILE", res.stdout)
        # Installed, it compares with the installed baseline and defaults to the installed binary.
        res = run_env([os.path.join(self.prefix, "bin", "fabricbench-ci-compare"), "--candidate",
                       self.path("none.json")], cwd=self.tmp)
        self.assertRc(res, 2)
        self.assertIn("candidate not found", res.stderr)

    def test_sbatch_requests_one_gpu_per_rank(self):
        """The batch file asks Slurm for GPUs, as many per host as ranks per host."""
        with open(os.path.join(self.data, "scripts", "slurm", "fabricbench.sbatch")) as f:
            directives = dict(re.findall(r"^#SBATCH --([a-z-]+)=(\S+)", f.read(), re.M))
        self.assertIn("gpus-per-node", directives)
        self.assertEqual(directives["gpus-per-node"], directives["ntasks-per-node"])

    def test_sbatch_plan_resolves_through_installed_data(self):
        """The installed batch file under a stand-in srun that records its arguments and environment
        and runs the command under mpirun -np 2: PLAN's default (quick) is found from a submit
        directory holding no configs/, cpus-per-task reaches srun, BACKEND reaches fabricbench."""
        fake = self.path("fakebin")
        os.makedirs(fake)
        record = self.path("srun-args")
        with open(os.path.join(fake, "srun"), "w") as f:
            f.write("#!/bin/bash\n"
                    f"printf '%s\\n' \"SRUN_CPUS_PER_TASK=$SRUN_CPUS_PER_TASK\" \"$@\" > {record}\n"
                    "while [ \"${1#--}\" != \"$1\" ]; do shift; done\n"
                    f"exec {' '.join(mpirun_prefix(2))} \"$@\" {' '.join(SMALL)} -q\n")
        os.chmod(os.path.join(fake, "srun"), 0o755)
        submit = self.path("submit")
        os.makedirs(submit)
        env = {"PATH": f"{fake}:{os.path.join(self.prefix, 'bin')}:{os.environ.get('PATH', '')}",
               "SLURM_SUBMIT_DIR": submit, "SLURM_JOB_ID": "42", "SLURM_CPUS_PER_TASK": "3", "BACKEND": "mpi"}
        res = run_env(["bash", os.path.join(self.data, "scripts", "slurm", "fabricbench.sbatch")], env=env,
                      cwd=submit)
        self.assertRc(res, 0)
        with open(record) as f:
            args = f.read().split("\n")
        self.assertIn("SRUN_CPUS_PER_TASK=3", args)
        self.assertIn("--cpus-per-task=3", args)
        self.assertEqual(args[args.index("--plan") + 1], "quick")
        self.assertEqual(args[args.index("--backend") + 1], "mpi")
        self.assertEqual(os.path.realpath(args[args.index("run") - 1]), os.path.realpath(self.bin))
        out = os.path.join(submit, "results", "runs", "42")
        rows = fbtest.check_results(self, os.path.join(out, "results.csv"), os.path.join(out, "results.json"),
                                    status="ok", nranks=2)
        self.assertIn("pingpong", {r["op"] for r in rows})


class CopiedBinary(fbtest.FbTestCase):
    """The binary alone in an empty directory: no data beside it."""

    def setUp(self):
        super().setUp()
        os.makedirs(self.path("bin"))
        self.bin = self.path("bin/fabricbench")
        shutil.copy(CONFIG.binary, self.bin)

    def test_not_found_names_every_place_looked(self):
        res = run_env([self.bin, "model", "--fabric", "no-such-fabric"], cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.errors()), 1, res.describe())
        err = res.errors()[0]
        for d in [os.path.join(self.tmp, "share", "fabricbench", "configs", "fabrics"),
                  os.path.join(self.tmp, "configs", "fabrics"),
                  os.path.join(CONFIG.source, "configs", "fabrics")]:
            self.assertIn(d, err)

    def test_finds_the_source_tree_it_was_built_from(self):
        res = run_env([self.bin, "model", "--fabric", "hgx-h100", "--gpus", "8"], cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_OK)
        c, j, files = self.outputs()
        res = run_env(mpirun_prefix(2) + [self.bin, "run", "--plan", "quick", *SMALL, "-q", *files], cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, status="ok", nranks=2)
        self.assertTrue(all(r["model_fabric"] == "localhost" for r in rows), rows[0])

    def test_data_path_layout_as_install_tree(self):
        """FABRICBENCH_DATA_PATH names a tree laid out as share/fabricbench and replaces the rest."""
        data = self.path("data")
        os.makedirs(os.path.join(data, "configs", "fabrics"))
        shutil.copy(os.path.join(CONFIG.source, "configs", "fabrics", "hgx-h100.yaml"),
                    os.path.join(data, "configs", "fabrics", "mine.yaml"))
        res = run_env([self.bin, "model", "--fabric", "mine", "--gpus", "8"], env={"FABRICBENCH_DATA_PATH": data},
                      cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_OK)
        res = run_env([self.bin, "model", "--fabric", "hgx-h100"], env={"FABRICBENCH_DATA_PATH": data}, cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertNotIn(CONFIG.source, res.errors()[0])

    def test_run_says_once_when_the_default_fabric_is_missing(self):
        c, j, files = self.outputs()
        res = run_env(mpirun_prefix(2) + [self.bin, "run", *SMALL, "-q", *files],
                      env={"FABRICBENCH_DATA_PATH": self.path("empty")}, cwd=self.tmp)
        self.assertRc(res, fbtest.EXIT_OK)
        warnings = [l for l in res.errors() if "default fabric" in l]
        self.assertEqual(len(warnings), 1, res.describe())
        self.assertIn("no model_* columns", warnings[0])
        self.assertIn("'localhost' is neither a file nor a fabric in " + self.path("empty/configs/fabrics"),
                      warnings[0])
        rows = fbtest.check_results(self, c, j, status="ok", nranks=2)
        self.assertTrue(rows)
        self.assertTrue(all(r["model_fabric"] == "" and r["model_time_us"] is None for r in rows), rows[0])


if __name__ == "__main__":
    fbtest.main()
