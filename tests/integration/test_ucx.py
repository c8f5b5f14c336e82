"""The UCX backend: tag / put / am point-to-point with windows, validated exactly, over UCX shared
memory and over UCX_TLS=tcp,self; the transport column as UCX reports it; bad input and UCX
failures as clear errors. (The collective algorithms over UCX are in test_algorithms.py.)"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import CONFIG, mpirun_cmd  # noqa: E402

SHM = ["-x", "UCX_TLS=shm,self"]
TCP = ["-x", "UCX_TLS=tcp,self"]
SHM_TRANSPORTS = {"posix", "sysv", "cma", "self", "xpmem", "knem"}


class Ucx(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        if not fbtest.backend_compiled("ucx"):
            self.skipTest("the ucx backend is not compiled in (libucx-dev missing at configure time)")

    def test_point_to_point_apis_windows_and_transports(self):
        cmds, cases = [], []
        for tls_name, tls in (("shm", SHM), ("tcp", TCP)):
            for api in ("tag", "put", "am", "get"):
                for np, window in ((2, 1), (3, 8)):
                    c, j, out = self.outputs(f"{tls_name}-{api}-{np}")
                    cases.append((tls_name, api, np, window, c, j))
                    # 8 B .. 1 MiB crosses UCX's eager/rendezvous thresholds; 3 ranks leave one out.
                    cmds.append(mpirun_cmd(np, ["run", "--backend", "ucx", "--op", "pingpong,sendrecv,unidir,bidir,relay",
                                                "--p2p-api", api, "--window", str(window), "-b", "8", "-e", "1M",
                                                "-f", "32", "-n", "3", "-w", "1", "-c", "2", "-d", "uint8,float64",
                                                "-q", *out], extra=tls))
        for (tls_name, api, np, window, c, j), res in zip(cases, fbtest.run_parallel(cmds, jobs=3, timeout=300)):
            with self.subTest(tls=tls_name, api=api, np=np, window=window):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j, nranks=np)
                self.assertEqual({r["op"] for r in rows}, {"pingpong", "sendrecv", "unidir", "bidir", "relay"})
                self.assertEqual({r["dtype"] for r in rows}, {"uint8", "float64"})
                for r in rows:
                    self.assertEqual(r["wrong"], 0, r)
                    self.assertEqual(r["backend"], "ucx")
                    windowed = window > 1 and r["op"] not in ("pingpong", "relay")
                    self.assertEqual(r["algo"], api + (f"/window{window}" if windowed else ""))
                    names = {t.split("/")[0] for t in r["transport"].split("+")}
                    if tls_name == "shm":
                        self.assertTrue(names and names <= SHM_TRANSPORTS, r["transport"])
                    else:
                        self.assertIn("tcp", names, r["transport"])
                        self.assertFalse(names & (SHM_TRANSPORTS - {"self"}), r["transport"])

    def test_collectives_default_to_an_algorithm(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(3, ["run", "--backend", "ucx", "--op", "allreduce,alltoall,allgather,reducescatter",
                                        "-b", "8", "-e", "64K", "-f", "16", "-n", "2", "-w", "1", "-q", *out],
                                    extra=SHM))
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=3)
        for r in rows:
            self.assertNotIn(r["algo"], ("", "native"), r)
            self.assertEqual(r["wrong"], 0, r)

    def test_no_hang_when_ranks_leave_ucx_with_acknowledgements_queued(self):
        # A rank that completes its last rendezvous receives and goes to MPI (gathering samples)
        # must first send the acknowledgements its peers' sends wait for: 4 oversubscribed ranks of
        # ring all-reduce at 32 MiB hung in half the runs before Backend::quiesce flushed the
        # endpoints. Five runs, each bounded by the watchdog.
        for i in range(5):
            with self.subTest(run=i):
                res = fbtest.run(mpirun_cmd(4, ["run", "--backend", "ucx", "--op", "allreduce", "--algo", "ring",
                                                "-b", "32M", "-e", "32M", "-n", "10", "-w", "2", "-c", "1",
                                                "--timeout", "30", "-q"], extra=SHM), timeout=120)
                self.assertRc(res, fbtest.EXIT_OK)

    def test_shared_memory_get_is_exact_at_large_sizes(self):
        # Messages from 16K (the default threshold) to 4 MiB, each algorithm that sends them, on
        # 2, 3 and 4 ranks; then the same with the get off. Several series free and allocate
        # buffers, so peers drop the keys of freed segments (sent in later descriptors).
        cmds, cases = [], []
        for get in ("", "off"):
            for np in (2, 3, 4):
                c, j, out = self.outputs(f"get{get}-{np}")
                cases.append((get, np, c, j))
                env = ["-x", f"FABRICBENCH_UCX_SHM_GET={get}"] if get else []
                plan = self.path(f"get{get}-{np}.yaml")
                with open(plan, "w") as f:
                    f.write("defaults: {backend: ucx, minbytes: 64K, maxbytes: 4M, stepfactor: 4, iters: 2,"
                            " warmup: 1, check: 2, dtype: 'float32,int8'}\ntests:\n")
                    for algo, op in (("ring", "allreduce,allgather,reducescatter"), ("rabenseifner", "allreduce"),
                                     ("recursive_halving", "reducescatter"), ("pairwise", "alltoall"),
                                     ("linear", "alltoall"), ("bruck", "alltoall"), ("chain", "broadcast"),
                                     ("binomial", "broadcast")):
                        f.write(f"  - {{algo: {algo}, op: '{op}', place: both}}\n")
                cmds.append(mpirun_cmd(np, ["run", "--plan", plan, "-q", *out], extra=[*env, *SHM]))
        for (get, np, c, j), res in zip(cases, fbtest.run_parallel(cmds, jobs=2, timeout=400)):
            with self.subTest(get=get or "16K", np=np):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j, nranks=np)
                self.assertGreater(len(rows), 50)
                for r in rows:
                    self.assertEqual(r["wrong"], 0, r)
                with open(j) as f:
                    versions = json.load(f)["meta"]["backend_versions"]
                self.assertTrue(any(v.endswith("shared-memory get " + ("off" if get else "from 16K"))
                                    for v in versions), versions)

    def test_calibrate_says_when_ucx_rows_are_not_the_algorithms_transfer(self):
        # The algorithms move large messages by shared-memory get; a host calibrated from tag
        # rows describes another transfer, and calibrate says so (a note, not an error).
        for api in ("tag", "get"):
            with self.subTest(api=api):
                c, j, out = self.outputs(f"cal-{api}")
                res = fbtest.run(mpirun_cmd(2, ["run", "--backend", "ucx", "--op", "pingpong,bidir,relay",
                                                "--p2p-api", api, "-b", "64K", "-e", "4M", "-f", "4", "-n", "3",
                                                "-q", *out], extra=SHM))
                self.assertRc(res, fbtest.EXIT_OK)
                cal = fbtest.run([CONFIG.binary, "calibrate", j, "-o", self.path(f"cal-{api}.yaml")])
                self.assertRc(cal, fbtest.EXIT_OK)
                noted = "ran over --p2p-api tag; ucx's algorithms move large messages" in cal.stderr
                self.assertEqual(noted, api == "tag", cal.describe())

    def test_bad_input_is_refused_on_every_rank(self):
        ucx = ["run", "--backend", "ucx", "--op", "sendrecv", "-e", "64"]
        self.assertRefused([
            ([*ucx, "--window", "0"], "window: '0' is out of range"),
            ([*ucx, "--p2p-api", "rdma"], "p2p_api: unknown point-to-point API 'rdma'"),
            ([*ucx, "--mem", "cuda"], "has no CUDA support"),
            ([*ucx, "--mem", "hbm"], "mem: unknown memory type 'hbm'"),
            (["run", "--backend", "mpi", "--op", "pingpong", "--p2p-api", "put", "-e", "64"],
             "p2p_api: mpi runs the pairwise ops over tag only, not 'put'"),
        ])
        for bad in ("1K", "fast", "-1"):
            with self.subTest(FABRICBENCH_UCX_SHM_GET=bad):
                c, j, out = self.outputs(f"badget{bad}")
                res = fbtest.run(mpirun_cmd(2, [*ucx, *out], extra=["-x", f"FABRICBENCH_UCX_SHM_GET={bad}"]),
                                 timeout=60)
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn(f"FABRICBENCH_UCX_SHM_GET='{bad}': give a size of at least 4K", res.errors()[0])
                self.assertNoOutputs(c, j)

    def test_ucx_tls_without_a_usable_transport(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--backend", "ucx", "-e", "64", "--timeout", "20", *out],
                                    extra=["-x", "UCX_TLS=nonexistent_tl"]), timeout=60)
        self.assertNotEqual(res.rc, 0)
        self.assertEqual(len(res.errors()), 1, res.describe())
        # UCX's own status string, quoted.
        self.assertIn("ucp_init: No such device", res.errors()[0])
        self.assertNoOutputs(c, j)


if __name__ == "__main__":
    fbtest.main()
