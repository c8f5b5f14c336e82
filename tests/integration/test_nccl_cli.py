"""The nccl backend where no GPU is usable (one line, exit 2, no files, on every launch shape) or
where it is not compiled in, and the device-mode keys (--cuda-graph, --blocking, --cpu-time,
--nccl-algo, --nccl-proto) as bad input on any machine. The GPU runs are in test_nccl.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

_STATUS = []


def status():
    if not _STATUS:
        _STATUS.append(fbtest.nccl_status())
    return _STATUS[0]


class NcclWithoutGpu(fbtest.FbTestCase):
    def test_no_gpu_is_one_line_and_exit_2(self):
        state, why = status()
        if state == "ok":
            self.skipTest("a GPU is usable here (test_nccl.py runs the backend)")
        cmds, outs = [], []
        for np in (1, 2, 3):
            c, j, out = self.outputs(f"np{np}")
            outs.append((c, j))
            cmds.append(mpirun_cmd(np, ["run", "--backend", "nccl", "--op", "allreduce,alltoall", "-e", "1K",
                                        "--timeout", "30", *out]))
        for np, (c, j), res in zip((1, 2, 3), outs, fbtest.run_parallel(cmds, jobs=3, timeout=120)):
            with self.subTest(np=np):
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                if state == "no-gpu":
                    self.assertRegex(res.errors()[0],
                                     r"^fabricbench: nccl: no usable GPU on \S+ \(cudaGetDeviceCount: .+\)$")
                else:
                    self.assertIn("nccl: not compiled in (", res.errors()[0])
                self.assertEqual(res.stdout.strip(), "", res.describe())
                self.assertNoOutputs(c, j)

    def test_list_says_whether_nccl_is_compiled_in(self):
        out = fbtest.subprocess.run([fbtest.CONFIG.binary, "--list"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        line = next(l for l in out.stdout.splitlines() if l.strip().startswith("nccl "))
        state, _ = status()
        if state == "not-compiled":
            self.assertIn("not compiled in (", line)
        else:
            self.assertIn("NCCL collectives", line)


class DeviceModeKeys(fbtest.FbTestCase):
    def test_bad_values_and_host_backends_are_refused(self):
        cases = [
            (["--cuda-graph", "-1"], "cuda_graph: '-1' is out of range"),
            (["--cuda-graph", "two"], "cuda_graph: expected a whole number, got 'two'"),
            (["--nccl-algo", "ring,spiral"], "nccl_algo: unknown NCCL name 'spiral'"),
            (["--nccl-proto", "LL256"], "nccl_proto: unknown NCCL name 'LL256'"),
            (["--blocking", "--cuda-graph", "4"], "blocking: cannot be combined with cuda_graph"),
            (["--cuda-graph", "4"], "mpi has no CUDA graphs"),
            (["--blocking"], "mpi runs every op to completion already"),
            (["--nccl-algo", "Ring"], "mpi does not run NCCL"),
            (["--nccl-proto", "simple"], "mpi does not run NCCL"),
            (["--mem", "cuda"], "mpi runs on host memory only"),
        ]
        mpi = ["run", "--backend", "mpi", "-e", "64", "-n", "1"]
        self.assertRefused([([*mpi, *args], want) for args, want in cases])

    def test_plan_keys_and_cpu_time_on_a_host_backend(self):
        # The keys in a plan file, with the nccl names in any case; --cpu-time is how host
        # backends time anyway, so it runs.
        plan = self.path("plan.yaml")
        with open(plan, "w") as f:
            f.write("tests:\n  - op: allreduce\n    backend: mpi\n    maxbytes: 64\n    iters: 2\n"
                    "    cpu_time: true\n")
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--plan", plan, "-q", *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=2)
        self.assertTrue(rows)
        self.assertTrue(all(r["mem"] == "host" for r in rows))
        with open(plan, "w") as f:
            f.write("tests:\n  - op: allreduce\n    backend: mpi\n    maxbytes: 64\n    blocking: maybe\n")
        res = fbtest.run(mpirun_cmd(2, ["run", "--plan", plan, "-q"]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("blocking: expected true or false, got 'maybe'", res.errors()[0])


if __name__ == "__main__":
    fbtest.main()
