"""fabricbench's own collective algorithms over MPI point-to-point (--algo), validated exactly.

Every algorithm x each op it implements x every redop x in/out of place on 1..8 ranks, on each
backend; sizes give counts that are odd and not divisible by the rank count (24 bytes: 3 float64,
12 bfloat16; 57624 B: 7203 float64, past Open MPI's eager limit, so the rendezvous path runs too).
Odd rank counts run with a 1 KiB pipeline chunk, so large steps move in many chunks over real MPI.

The matrix's shape: the full dtype x redop cross product runs at one rank count (FULL_NP, 3 ranks: not a
power of two, so the algorithms' fold steps run, and odd, so the 1 KiB chunk runs too); the other rank
counts (and UCX over TCP at all of them) run two dtypes (SHORT_DTYPES: an 8-byte one whose counts are
odd and smaller than the rank count at 24 B, and a 2-byte float whose reductions round) with every
redop. What a dtype changes is the element size and the reduction kernel, and neither depends on the
rank count; what the rank count changes (the steps, the folds, the block split, empty blocks) every rank
count still runs for every op, algorithm, redop and placement. This cuts the rows from 3 x 13440 to 2 x
4032 + 2688 (CI time), keeping 1 rank, 2..8 ranks and the non-powers of two.
tests/unit/test_algorithms.cpp covers more sizes, chunks and fake node layouts in-process,
tests/unit/test_reduce.cpp every dtype x redop kernel.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

ALGOS = {
    "ring": ["allreduce", "allgather", "reducescatter"],
    "recursive_doubling": ["allreduce", "allgather"],
    "rabenseifner": ["allreduce"],
    "hierarchical": ["allreduce", "allgather"],
    "recursive_halving": ["reducescatter"],
    "pairwise": ["alltoall", "alltoallv"],
    "bruck": ["alltoall", "allgather"],
    "linear": ["alltoall", "gather", "scatter", "alltoallv"],
    "binomial": ["broadcast", "reduce", "gather", "scatter"],
    "chain": ["broadcast"],
}
# Ops an algorithm also runs whose exact checks live in their own test (tests/integration/test_moe.py
# runs the MoE exchanges over pairwise and linear): --list names them after ALGOS' ops.
LISTED_ALSO = {
    "pairwise": ["moe_dispatch", "moe_combine"],
    "linear": ["moe_dispatch", "moe_combine"],
}

FULL_NP = 3  # the one rank count with every dtype (see the docstring)
SHORT_DTYPES = ["float64", "bfloat16"]
NDTYPES = 10  # every dtype (collectives/dtype.hpp)


class Algorithms(fbtest.FbTestCase):
    def test_every_algorithm_every_type_rank_counts_1_to_8(self):
        self.run_every_algorithm("mpi")

    def test_every_algorithm_over_ucx_shared_memory(self):
        if not fbtest.backend_compiled("ucx"):
            self.skipTest("the ucx backend is not compiled in")
        # The shared-memory get at its smallest threshold (4K), so that both it and tag matching
        # carry the algorithms' messages (below 4K, and every 1K chunk, by tag).
        self.run_every_algorithm("ucx", ["-x", "FABRICBENCH_UCX_SHM_GET=4K", "-x", "UCX_TLS=sm,self"])

    def test_every_algorithm_over_ucx_tcp(self):
        if not fbtest.backend_compiled("ucx"):
            self.skipTest("the ucx backend is not compiled in")
        # Every dtype already ran over UCX (shared memory, both its paths) and MPI at FULL_NP; TCP
        # carries bytes, whatever their dtype, so it runs the two dtypes at every rank count.
        self.run_every_algorithm("ucx", ["-x", "UCX_TLS=tcp,self"], full_np=None)

    def run_every_algorithm(self, backend, extra=(), full_np=FULL_NP):
        # One mpirun per rank count, every algorithm a test of one plan (launches dominate otherwise).
        cmds, outs = [], []
        for np in range(1, 9):
            plan = self.path(f"algos-{backend}-{np}.yaml")
            dtypes = "all" if np == full_np else ",".join(SHORT_DTYPES)
            with open(plan, "w") as f:
                # alltoallv at skewed counts (zipf: the most loaded rank gets several times the average).
                f.write(f"defaults: {{backend: {backend}, minbytes: 24, maxbytes: 57624, stepfactor: 2401, iters: 1,"
                        f" warmup: 0, check: 2, dtype: '{dtypes}', redop: all, place: both, counts: 'zipf:1.2'" +
                        (", chunk: 1K" if np % 2 else "") + "}\ntests:\n")
                for algo, ops in ALGOS.items():
                    root = f", root: {np - 1}" if set(ops) & fbtest.ROOTED_OPS else ""
                    f.write(f"  - {{name: {algo}, algo: {algo}, op: '{','.join(ops)}'{root}}}\n")
            c, j, out = self.outputs(f"algos-{backend}-{np}")
            outs.append((np, c, j))
            cmds.append(mpirun_cmd(np, ["run", "--plan", plan, "-q", *out], extra=extra))
        for (np, c, j), res in zip(outs, fbtest.run_parallel(cmds, jobs=2, timeout=540)):
            with self.subTest(np=np):
                self.assertRc(res, fbtest.EXIT_OK)
                rows = fbtest.check_results(self, c, j, nranks=np)
                for algo, ops in ALGOS.items():
                    mine = [r for r in rows if r["algo"] == algo]
                    self.assertEqual({r["op"] for r in mine}, set(ops), algo)
                    # the dtypes x every redop (reducing ops) x both placements (alltoallv: out of place
                    # only) x 2 sizes, per op
                    ndtypes = NDTYPES if np == full_np else len(SHORT_DTYPES)
                    want = sum(ndtypes * (4 if op in fbtest.REDUCING_OPS else 1) * (1 if op == "alltoallv" else 2) * 2
                               for op in ops)
                    self.assertEqual(len(mine), want, algo)
                    if np == full_np:
                        self.assertEqual(len({r["dtype"] for r in mine}), NDTYPES, algo)
                    else:
                        self.assertEqual({r["dtype"] for r in mine}, set(SHORT_DTYPES), algo)
                self.assertEqual(len(rows), sum(1 for r in rows if r["algo"] in ALGOS))
                for r in rows:
                    self.assertEqual(r["wrong"], 0, r)
                    self.assertEqual(r["check_iters"], 2)
                    self.assertEqual(r["backend"], backend)
                    if backend == "ucx" and np > 1:  # what UCX says it used, per the UCX_TLS asked for
                        tls = {t.split("/")[0] for t in r["transport"].split("+")}
                        if "tcp" in extra[-1]:
                            self.assertIn("tcp", tls, r)
                            self.assertFalse(tls & {"posix", "sysv", "cma"}, r)
                        else:
                            self.assertTrue(tls and tls <= {"posix", "sysv", "cma", "self"}, r)

    def test_auto_records_the_algorithm_it_chose(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(4, ["run", "--algo", "auto", "--op", "all", "-b", "1K", "-e", "1M", "-f", "32",
                                        "-n", "1", "-w", "0", "-c", "1", "-q", *out]), timeout=300)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=4)
        chosen = {(r["op"], r["bytes"]): r["algo"] for r in rows}
        for r in rows:
            self.assertEqual(r["wrong"], 0, r)
        # One node here: the rule in collectives/algorithms/registry.cpp (kAutoRule).
        self.assertEqual(chosen[("allreduce", 1024)], "recursive_doubling")
        self.assertEqual(chosen[("allreduce", 32768)], "rabenseifner")
        self.assertEqual(chosen[("allreduce", 1048576)], "ring")
        self.assertEqual(chosen[("allgather", 1024)], "recursive_doubling")
        self.assertEqual(chosen[("allgather", 1048576)], "ring")
        self.assertEqual(chosen[("reducescatter", 1024)], "recursive_halving")
        self.assertEqual(chosen[("reducescatter", 1048576)], "ring")
        self.assertEqual(chosen[("alltoall", 1024)], "bruck")       # 256 B per peer
        self.assertEqual(chosen[("alltoall", 32768)], "linear")     # 8 KiB per peer
        self.assertEqual(chosen[("alltoall", 1048576)], "pairwise")
        self.assertEqual(chosen[("broadcast", 1024)], "binomial")
        self.assertEqual(chosen[("broadcast", 1048576)], "chain")
        for op in ("sendrecv", "unidir", "bidir", "pingpong", "relay"):
            self.assertEqual(chosen[(op, 1024)], "native")
        # auto runs broadcast out of place (the algorithms can; MPI_Bcast cannot)
        self.assertTrue(all(not r["inplace"] for r in rows))

    def test_algorithm_without_the_op_is_skipped_or_refused(self):
        c, j, out = self.outputs()
        for algo, op, others in (("pairwise", "allreduce", "ring, recursive_doubling, rabenseifner, hierarchical"),
                                 ("bruck", "broadcast", "binomial, chain"),
                                 ("chain", "allgather", "ring, recursive_doubling, hierarchical, bruck"),
                                 ("ring", "pingpong", None)):
            with self.subTest(algo=algo, op=op):
                res = fbtest.run(mpirun_cmd(2, ["run", "--algo", algo, "--op", op, "-e", "64", *out]))
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn(f"{algo} does not implement {op}", res.errors()[0])
                if others:
                    self.assertIn(f"algorithms for it: {others}", res.errors()[0])
                self.assertNoOutputs(c, j)
        # Several ops named: the ones the algorithm lacks are skipped with a note.
        res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "ring", "--op", "allreduce,alltoall", "-e", "64", "-n", "2",
                                        *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        self.assertTrue(any("ring does not implement alltoall" in l for l in res.fb_lines()), res.describe())

    def test_unknown_algorithm_and_bad_chunk(self):
        c, j, out = self.outputs()
        res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "quantum", "-e", "64", *out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.errors()), 1, res.describe())
        self.assertIn("unknown algorithm 'quantum'", res.errors()[0])
        self.assertIn("auto", res.errors()[0])
        self.assertIn("rabenseifner", res.errors()[0])
        self.assertNoOutputs(c, j)
        for bad in ("lots", "2G", "-1"):
            with self.subTest(chunk=bad):
                res = fbtest.run(mpirun_cmd(2, ["run", "--algo", "ring", "--chunk", bad, "-e", "64", *out]))
                self.assertRc(res, fbtest.EXIT_USAGE)
                self.assertEqual(len(res.errors()), 1, res.describe())
                self.assertIn("chunk", res.errors()[0])
                self.assertNoOutputs(c, j)

    def test_list_and_help_name_every_algorithm(self):
        res = fbtest.run(fbtest.singleton_cmd(["--list"]))
        self.assertRc(res, fbtest.EXIT_OK)
        lines = res.stdout.splitlines()
        for algo, ops in ALGOS.items():
            ops = ops + LISTED_ALSO.get(algo, [])
            self.assertTrue(any(l.split()[:1] == [algo] and l.split(None, 1)[1] == ", ".join(ops) for l in lines),
                            f"{algo}: {ops}\n{res.stdout}")
        res = fbtest.run(fbtest.singleton_cmd(["run", "--help"]))
        self.assertRc(res, fbtest.EXIT_OK)
        for algo in ALGOS:
            self.assertIn(algo, res.stdout)
        self.assertIn("--chunk", res.stdout)
        self.assertIn("auto picks by op and size", res.stdout)

    def test_plan_keys_algo_and_chunk(self):
        c, j, out = self.outputs()
        plan = self.path("plan.yaml")
        with open(plan, "w") as f:
            f.write("tests:\n"
                    "  - name: chained\n    op: broadcast\n    algo: chain\n    chunk: 64\n"
                    "    minbytes: 1000\n    maxbytes: 1000\n    iters: 1\n    dtype: all\n"
                    "  - name: wrong\n    op: broadcast\n    algo: rabenseifner\n")
        res = fbtest.run(mpirun_cmd(3, ["run", "--plan", plan, "-q", *out]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertEqual(len(res.errors()), 1, res.describe())
        self.assertIn("plan.yaml:", res.errors()[0])
        self.assertIn("rabenseifner does not implement broadcast", res.errors()[0])
        self.assertNoOutputs(c, j)
        with open(plan, "w") as f:
            f.write("tests:\n"
                    "  - name: chained\n    op: broadcast\n    algo: chain\n    chunk: 64\n"
                    "    minbytes: 1000\n    maxbytes: 1000\n    iters: 1\n    dtype: all\n")
        res = fbtest.run(mpirun_cmd(3, ["run", "--plan", plan, "-q", *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=3)
        self.assertEqual(len(rows), 10)
        self.assertTrue(all(r["algo"] == "chain" and r["wrong"] == 0 for r in rows))


if __name__ == "__main__":
    fbtest.main()
