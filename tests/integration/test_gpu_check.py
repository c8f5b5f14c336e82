"""scripts/gpu-check --dry-run on a machine without a GPU: it lists every step of the first GPU
session (issue 22) with its command, writes nothing, and refuses an unknown argument."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402

STEPS = ["build", "device-unit-tests", "sweep-stream", "sweep-blocking", "sweep-graph", "sweep-cpu-time",
         "sweep-nccl-tests", "sweep-nccl-tests-graph", "sweep-group-enqueue", "large-buffers",
         "refuse-too-much-memory", "refuse-no-device", "block-alignment-16B", "timing-vs-bare-loop",
         "columns-two-gpus",
         "validate-two-gpus"]


class GpuCheckDryRun(fbtest.FbTestCase):
    def script(self):
        return os.path.join(fbtest.CONFIG.source, "scripts", "gpu-check")

    def test_lists_every_step_in_order(self):
        env = dict(os.environ, OUT=self.tmp)
        res = subprocess.run([self.script(), "--dry-run"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        listed = re.findall(r"^ ?\d+\. (\S+) +\((always|needs a GPU|needs 2 GPUs)\)$", res.stdout, re.M)
        self.assertEqual([name for name, _ in listed], STEPS, res.stdout)
        needs = dict(listed)
        self.assertEqual(needs["build"], "always")
        self.assertEqual(needs["validate-two-gpus"], "needs 2 GPUs")
        self.assertIn(f"summary: {self.tmp}/gpu-check.txt", res.stdout)
        # Each step's command follows it; the sweep covers every dtype and redop, both placements.
        self.assertRegex(res.stdout, r"sweep-stream .*\n .*--dtype all --redop all --place both")
        self.assertRegex(res.stdout, r"large-buffers .*\n .*-b 2200000000")
        self.assertRegex(res.stdout, r"timing-vs-bare-loop .*\n .*bench-nccl-overhead")
        # Every op that runs on one rank is swept; the point-to-point ops run on two GPUs.
        self.assertRegex(res.stdout, r"sweep-stream .*\n .*--op allreduce,allgather,reducescatter,broadcast,alltoall,"
                                     r"reduce,gather,scatter,alltoallv ")
        self.assertRegex(res.stdout, r"columns-two-gpus .*\n .*--op [a-z,]*sendrecv,unidir,bidir,pingpong ")
        self.assertRegex(res.stdout, r"block-alignment-16B .*\n .*-b 1000 -e 1000")
        # Nothing ran: no summary written.
        self.assertEqual(os.listdir(self.tmp), [])

    def test_unknown_argument_is_refused(self):
        res = subprocess.run([self.script(), "--bogus"], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 2)
        self.assertIn("gpu-check: unknown argument '--bogus'", res.stderr)


if __name__ == "__main__":
    fbtest.main(needs_mpirun=False)
