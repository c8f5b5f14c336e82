"""The nccl backend on GPUs: every op x dtype x mode validated on the device at one rank, both
placements, the transport and algo columns read from NCCL, --nccl-algo/--nccl-proto, CUDA graphs,
and a hung op ended by the watchdog with the communicator aborted. Needs the backend compiled in
and a usable GPU (two for the multi-rank tests): otherwise every test is skipped with the reason,
and ctest reports the script as skipped (exit 77), never as passed."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

ALL_DTYPES = "int8,uint8,int32,uint32,int64,uint64,float16,bfloat16,float32,float64"
_STATUS = []


def status():
    if not _STATUS:
        _STATUS.append(fbtest.nccl_status())
    return _STATUS[0]


def gpu_count():
    """GPUs visible to this host, as nvidia-smi lists them (0 when it is missing)."""
    try:
        out = fbtest.subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, fbtest.subprocess.SubprocessError):
        return 0
    return sum(1 for l in out.splitlines() if l.startswith("GPU "))


class NcclOnGpu(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        state, why = status()
        if state == "not-compiled":
            self.skipTest(f"the nccl backend is not compiled in: {why}")
        if state == "no-gpu":
            self.skipTest(f"no GPU: {why}")

    def run_rows(self, np, args, stem="out", timeout=900):
        c, j, out = self.outputs(stem)
        res = fbtest.run(mpirun_cmd(np, ["run", "--backend", "nccl", "-q", "--timeout", "120", *args, *out]),
                         timeout=timeout)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=np)
        for r in rows:
            self.assertEqual(r["backend"], "nccl")
            self.assertEqual(r["mem"], "cuda")
            self.assertEqual(r["wrong"], 0, r)
        return rows

    def test_every_op_dtype_and_mode_on_one_rank(self):
        ops = "allreduce,allgather,reducescatter,broadcast,alltoall"
        modes = [("stream", []), ("blocking", ["--blocking"]), ("graph", ["--cuda-graph", "4"]),
                 ("cpu-time", ["--cpu-time"])]
        for name, extra in modes:
            with self.subTest(mode=name):
                rows = self.run_rows(1, ["--op", ops, "-d", ALL_DTYPES, "-o", "all", "--place", "both",
                                         "-b", "8", "-e", "1M", "-f", "64", "-n", "3", "-w", "1", "-c", "2",
                                         *extra], stem=name)
                self.assertEqual({r["op"] for r in rows}, set(ops.split(",")))
                self.assertEqual({r["dtype"] for r in rows}, set(ALL_DTYPES.split(",")))
                # alltoall runs out of place only (grouped send/recv).
                self.assertEqual({r["inplace"] for r in rows if r["op"] == "allreduce"}, {True, False})
                self.assertEqual({r["inplace"] for r in rows if r["op"] == "alltoall"}, {False})
                if name == "graph":
                    self.assertTrue(all(r["ops_per_sample"] == 4 for r in rows))
                    self.assertTrue(all(r["algo"].endswith("/graph4") for r in rows))

    def test_nccl_tests_timing_and_flags_on_one_rank(self):
        # nccl-tests' method and flags (docs/nccl.md), validated: -G replays a graph of all
        # iterations, -m groups ops, -C reports the enqueue time.
        cases = [("nccl-tests", ["--timing", "nccl-tests"], "nccl-tests/avg", ""),
                 ("graph-launches", ["--timing", "nccl-tests", "-G", "3", "-a", "max"], "nccl-tests/max", "/graph5"),
                 ("group-enqueue", ["-m", "4", "-C", "1"], "samples", "/group4"),
                 ("blocking-z", ["-z", "1"], "samples", "")]
        for name, extra, timing, suffix in cases:
            with self.subTest(mode=name):
                rows = self.run_rows(1, ["--op", "allreduce,allgather,broadcast", "-d", "float32,bfloat16",
                                         "--place", "both", "-b", "8", "-e", "4M", "-f", "64", "-n", "5", "-w", "1",
                                         *extra], stem=name)
                for r in rows:
                    self.assertEqual(r["timing"], timing, r)
                    self.assertTrue(r["algo"].endswith(suffix), r)
                    self.assertGreater(r["time_us"], 0, r)

    def test_validate_defaults_run_native_on_two_gpus(self):
        if gpu_count() < 2:
            self.skipTest("fewer than 2 GPUs")
        res = fbtest.run(mpirun_cmd(2, ["validate", "--backend", "nccl", "--timeout", "120"]), timeout=600)
        self.assertNotEqual(res.rc, fbtest.EXIT_USAGE, res.describe())
        self.assertNotEqual(res.rc, fbtest.EXIT_TIMEOUT, res.describe())

    def test_pairwise_ops_and_transports_on_two_gpus(self):
        if gpu_count() < 2:
            self.skipTest("fewer than 2 GPUs")
        rows = self.run_rows(2, ["--op", "all", "-d", "float16,bfloat16,float32", "-b", "8", "-e", "4M", "-f", "16",
                                 "-n", "3", "-w", "1", "--window", "4"])
        self.assertEqual({r["op"] for r in rows}, set(fbtest.ALL_OPS))
        for r in rows:
            # nccl-tests' sizes: 16-byte blocks per rank (docs/nccl.md).
            self.assertEqual((r["bytes"], r["count"]),
                             fbtest.expected_bytes(r["op"], r["dtype"], 2, r["requested_bytes"], block_align=16), r)
            # What NCCL connected, from its own log: P2P (NVLink or PCIe) or SHM between two GPUs.
            self.assertRegex(r["transport"], r"^(P2P/|SHM|NET/)", r)
            if r["op"] == "allreduce":
                self.assertRegex(r["algo"], r"^[A-Z_]+/(LL|LL128|SIMPLE)", r)

    def test_nccl_algo_and_proto_reach_nccl(self):
        if gpu_count() < 2:
            self.skipTest("fewer than 2 GPUs")
        rows = self.run_rows(2, ["--op", "allreduce", "--nccl-algo", "ring", "--nccl-proto", "ll", "-b", "1K",
                                 "-e", "1M", "-f", "32", "-n", "3"])
        for r in rows:
            self.assertEqual(r["algo"], "RING/LL", r)

    def test_a_hung_op_ends_with_exit_3_naming_the_op_and_ranks(self):
        if gpu_count() < 2:
            self.skipTest("fewer than 2 GPUs")
        long = fbtest.LongRun(self, 2, extra=["--backend", "nccl", "--timeout", "10"])
        try:
            long.wait_rows(1)
            long.signal_rank(1, signal.SIGSTOP)
            rc = long.wait(120)
        finally:
            long.cleanup()
        self.assertEqual(rc, fbtest.EXIT_TIMEOUT, long.stderr())
        self.assertIn("allreduce", long.stderr())
        self.assertRegex(long.stderr(), r"rank.*1")
        # The rows completed before the hang are kept.
        self.assertGreaterEqual(len(long.csv_rows()), 1)


if __name__ == "__main__":
    fbtest.main()
