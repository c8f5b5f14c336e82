"""moe_dispatch and moe_combine (issue 24 item 2, docs/moe.md): exact on 1-8 ranks over mpi (native
MPI_Alltoallv) and ucx (fabricbench's pairwise and linear), every dtype, at uniform, zipf and hot
routings; the size mapping (-b/-e: bytes each rank sends; --tokens: one size); the MoE columns
(total_bytes, max_rank_bytes, load_imbalance, counts, tokens_per_s); `model --op moe_dispatch`
with the routing and the domain-local what-if; bad values refused with exit code 2.
tests/unit/test_moe.cpp covers the routing arithmetic, combine's reduction and the model's loads
in-process.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbtest  # noqa: E402
from fbtest import mpirun_cmd  # noqa: E402

OPS = "moe_dispatch,moe_combine"
QUICK = ["-n", "2", "-w", "1", "-c", "2", "--batch", "1"]
SHAPE = ["--topk", "3", "--experts-per-rank", "3", "--hidden", "24"]


def uniform_max_rank(np, tokens, topk, experts_per_rank):
    """The most loaded rank's token copies under uniform routing: tokens x topk copies over the
    experts, floor each, the remainder one more to the lowest experts (largest remainders, ties
    to the lower index); every rank sends the same, so a rank receives np x its experts' loads."""
    experts = np * experts_per_rank
    base, extra = divmod(tokens * topk, experts)
    loads = [base + (1 if e < extra else 0) for e in range(experts)]
    per_rank = [sum(loads[r * experts_per_rank:(r + 1) * experts_per_rank]) for r in range(np)]
    return max(tokens * topk, np * max(per_rank))


class Moe(fbtest.FbTestCase):
    def run_rows(self, np, args, stem="out", extra=()):
        c, j, out = self.outputs(stem)
        res = fbtest.run(mpirun_cmd(np, ["run", "-q", *args, *out], extra=extra), timeout=300)
        self.assertRc(res, fbtest.EXIT_OK)
        rows = fbtest.check_results(self, c, j, nranks=np)
        for r in rows:
            if np > 1:  # one rank: busbw's (n-1)/n is 0
                fbtest.check_row_sanity(self, r)
        return rows

    def check_moe_row(self, r, np, tokens, counts):
        where = f"{r['op']} {r['dtype']} np={np}"
        es = fbtest.DTYPE_SIZE[r["dtype"]]
        self.assertEqual(r["wrong"], 0, where)
        self.assertEqual(r["bytes"], tokens * 3 * 24 * es, where)  # every rank sends tokens x topk x hidden
        self.assertEqual(r["total_bytes"], r["bytes"] * np, where)
        self.assertGreaterEqual(r["max_rank_bytes"], r["bytes"], where)
        self.assertAlmostEqual(r["load_imbalance"], r["max_rank_bytes"] / r["bytes"], delta=1e-9, msg=where)
        self.assertEqual(r["counts"], counts + " topk=3 experts_per_rank=3 hidden=24", where)
        self.assertAlmostEqual(r["tokens_per_s"], tokens * np / (r["time_us"] * 1e-6),
                               delta=1e-6 * r["tokens_per_s"], msg=where)

    def test_exact_over_mpi_on_1_to_8_ranks(self):
        """Native MPI_Alltoallv (and combine's sum) on every dtype, 1-8 ranks, three routings."""
        for np, counts in ((1, "uniform"), (2, "zipf:1.2"), (3, "hot:1:0.5"), (5, "zipf:1.2"), (8, "uniform")):
            with self.subTest(np=np, counts=counts):
                rows = self.run_rows(np, ["--op", OPS, "-d", "all", "--counts", counts, "--seed", "4", *SHAPE,
                                          "--tokens", "11", *QUICK], stem=f"mpi-{np}")
                self.assertEqual(len(rows), 2 * 10)  # one size (--tokens), 10 dtypes, 2 ops
                label = counts + (" seed=4" if counts != "uniform" else "")
                for r in rows:
                    self.check_moe_row(r, np, 11, label)
                    if counts == "uniform":
                        self.assertEqual(r["max_rank_bytes"],
                                         uniform_max_rank(np, 11, 3, 3) * 24 * fbtest.DTYPE_SIZE[r["dtype"]], r)
                    if counts == "hot:1:0.5" or (counts == "zipf:1.2" and np == 5):
                        self.assertGreater(r["load_imbalance"], 1.2, r)

    def test_exact_over_ucx_algorithms(self):
        if not fbtest.backend_compiled("ucx"):
            self.skipTest("the ucx backend is not compiled in")
        for np, algo in ((2, "pairwise"), (4, "linear"), (7, "pairwise")):
            with self.subTest(np=np, algo=algo):
                rows = self.run_rows(np, ["--backend", "ucx", "--algo", algo, "--op", OPS, "-d",
                                          "bfloat16,int8,float64", "--counts", "zipf:1.2", *SHAPE, "--tokens", "13",
                                          *QUICK], stem=f"ucx-{np}", extra=["-x", "UCX_TLS=sm,self"])
                self.assertEqual(len(rows), 2 * 3)
                for r in rows:
                    self.assertEqual(r["algo"], algo)
                    self.check_moe_row(r, np, 13, "zipf:1.2 seed=1")

    def test_the_size_sweep_sets_the_bytes_each_rank_sends(self):
        rows = self.run_rows(4, ["--op", OPS, "-d", "float32", *SHAPE, "-b", "1000", "-e", "1M", "-f", "32",
                                 *QUICK], stem="sweep")
        self.assertEqual(sorted({r["requested_bytes"] for r in rows}), [1000, 32000, 1024000])
        for r in rows:
            tokens = r["requested_bytes"] // (3 * 24 * 4)
            self.check_moe_row(r, 4, tokens, "uniform")
            self.assertEqual((r["bytes"], r["count"]),
                             fbtest.expected_bytes(r["op"], "float32", 4, r["requested_bytes"], topk=3, hidden=24))

    def test_the_model_predicts_the_routing(self):
        c, j, out = self.outputs("model")
        res = fbtest.run(fbtest.singleton_cmd(["model", "--fabric", "hgx-h100", "--op", OPS, "--bytes", "16M",
                                               "--gpus", "64", "--counts", "zipf:1.2", "--topk", "8",
                                               "--experts-per-rank", "4", "--hidden", "7168", "--algo", "nccl_p2p",
                                               *out]))
        self.assertRc(res, fbtest.EXIT_OK)
        spread = fbtest.load_json(j)["rows"]
        c2, j2, out2 = self.outputs("model-local")
        res = fbtest.run(fbtest.singleton_cmd(["model", "--fabric", "hgx-h100", "--op", "moe_dispatch", "--bytes",
                                               "16M", "--gpus", "64", "--counts", "zipf:1.2", "--topk", "8",
                                               "--experts-per-rank", "4", "--hidden", "7168", "--algo", "nccl_p2p",
                                               "--expert-placement", "domain-local", *out2]))
        self.assertRc(res, fbtest.EXIT_OK)
        local = fbtest.load_json(j2)["rows"]
        self.assertEqual([r["op"] for r in spread], ["moe_dispatch", "moe_combine"])
        for r in spread:
            self.assertGreater(r["load_imbalance"], 1.0, r)
            self.assertEqual(r["max_rank_bytes"], round(r["load_imbalance"] * r["bytes"]), r)
            self.assertEqual(r["counts"], "zipf:1.2 seed=1 topk=8 experts_per_rank=4 hidden=7168")
            self.assertGreater(r["tokens_per_s"], 0)
        self.assertEqual(spread[0]["model_bottleneck"], "nic")
        self.assertEqual(local[0]["model_bottleneck"], "scale-up")
        self.assertLess(local[0]["time_us"], spread[0]["time_us"])
        self.assertTrue(local[0]["counts"].endswith("placement=domain-local"))

    def test_bad_values_are_refused(self):
        self.assertRefused([
            (["run", "--op", "moe_dispatch", "--topk", "0"], "topk"),
            (["run", "--op", "moe_dispatch", "--topk", "40"], "topk"),
            (["run", "--op", "moe_combine", "--topk", "9", "--experts-per-rank", "4"], "topk 9 is more than the 8 experts"),
            (["run", "--op", "moe_dispatch", "--hidden", "x"], "hidden"),
            (["run", "--op", "moe_dispatch", "--counts", "zipf:x"], "counts: bad exponent 'x'"),
        ])
        res = fbtest.run(fbtest.singleton_cmd(["model", "--fabric", "hgx-h100", "--op", "moe_dispatch",
                                               "--expert-placement", "near"]))
        self.assertRc(res, fbtest.EXIT_USAGE)
        self.assertIn("expert-placement: expected spread or domain-local", res.stderr)


if __name__ == "__main__":
    fbtest.main()
