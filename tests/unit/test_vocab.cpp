// The one vocabulary (vocab/): the model and `run` know the same ops and the same algorithms.
// The checks read the real registries — the model's cost table (model::algorithms(), and a
// prediction for each (algorithm, op)) and the collectives' (collective_algorithms()) — not the
// vocabulary they are both built from.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "collectives/op.hpp"
#include "collectives/p2p.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "vocab/algorithm.hpp"
#include "vocab/op.hpp"

namespace fb {
namespace {

bool model_implements(const model::Algorithm& a, std::string_view op) {
  return std::find(a.ops.begin(), a.ops.end(), op) != a.ops.end();
}

// Every algorithm the model can recommend for an op (what "auto" and "native" choose among: the
// p2p family) is one `run --algo` accepts for that op: a collectives algorithm that implements
// it, or, for the pairwise ops, the backend's own protocols (run --algo native; no collectives
// algorithm implements them).
// Where the model prices an op on 4 ranks of one domain: the MoE ops with a uniform routing's
// traffic (each rank sends `bytes`, a quarter to each rank).
model::Placement four_ranks(const std::string& op, double bytes) {
  model::Placement p{4, 4};
  if (op.rfind("moe_", 0) == 0) {
    auto t = std::make_shared<model::Traffic>();
    t->bytes.assign(4, bytes / 4);
    p.traffic = t;
  }
  return p;
}

TEST(Vocab, EveryAlgorithmTheModelRecommendsRuns) {
  const model::Fabric f =
      model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml", {});
  int checked = 0;
  for (const model::Algorithm& a : model::algorithms()) {
    if (a.family != "p2p") continue;
    for (const std::string& op_name : a.ops) {
      SCOPED_TRACE(a.name + " " + op_name);
      const OpDescriptor* op = find_op(op_name);
      ASSERT_NE(op, nullptr);
      // The model prices it (its cost function does implement the op).
      const model::Prediction pr = model::predict(f, op_name, a.name, four_ranks(op_name, 1 << 20), 1 << 20);
      EXPECT_GT(pr.time_us, 0);
      const CollectiveAlgorithm* c = find_collective_algorithm(a.name);
      if (c) {
        EXPECT_TRUE(algorithm_supports(*c, op->kind));
      } else {
        EXPECT_TRUE(op->pairwise);
        EXPECT_FALSE(any_algorithm_supports(op->kind));
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 18);
}

// And the reverse: every (algorithm, op) `run --algo` runs is one the model prices under that name.
TEST(Vocab, EveryAlgorithmRunRunsIsModelled) {
  for (const CollectiveAlgorithm* c : collective_algorithms())
    for (OpKind k : c->ops.kinds()) {
      SCOPED_TRACE(std::string(c->name) + " " + std::string(vocab::op_name(k)));
      const model::Algorithm* a = model::find_algorithm(std::string(c->name));
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->family, "p2p");
      EXPECT_TRUE(model_implements(*a, vocab::op_name(k)));
    }
}

// The model's "auto" for allgather on one host picks hierarchical, and run runs it (issue 20).
TEST(Vocab, ModelsAllgatherChoiceRuns) {
  const model::Fabric f =
      model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml", {});
  for (double bytes : {8.0, 1024.0 * 1024, 1024.0 * 1024 * 1024}) {
    const model::Prediction pr = model::predict(f, "allgather", "auto", model::Placement{4, 4}, bytes);
    const CollectiveAlgorithm* c = find_collective_algorithm(pr.algo);
    ASSERT_NE(c, nullptr) << pr.algo;
    EXPECT_TRUE(algorithm_supports(*c, OpKind::allgather)) << pr.algo;
  }
}

// One list of ops: the model's and the collectives' are the vocabulary's, in the same order.
TEST(Vocab, OneListOfOps) {
  ASSERT_EQ(model::model_ops().size(), all_ops().size());
  for (std::size_t i = 0; i < all_ops().size(); ++i) {
    EXPECT_EQ(model::model_ops()[i], all_ops()[i]->name);
    EXPECT_EQ(vocab::parse_op(all_ops()[i]->name), all_ops()[i]->kind);
    for (int n : {1, 2, 3, 8})
      EXPECT_DOUBLE_EQ(model::busbw_factor(model::model_ops()[i], n), all_ops()[i]->busbw_factor(n));
  }
  EXPECT_EQ(vocab::parse_op("all_reduce"), std::nullopt);  // spellings are the CLI's (find_op)
  EXPECT_EQ(find_op("all_reduce"), &op_descriptor(OpKind::allreduce));
}

// Every vocabulary algorithm is registered where its runner says: the model prices all of them,
// collectives runs those marked as its own.
TEST(Vocab, RegistriesHoldTheVocabulary) {
  for (const vocab::Algorithm* v : vocab::algorithms()) {
    SCOPED_TRACE(std::string(v->name));
    EXPECT_NE(model::find_algorithm(std::string(v->name)), nullptr);
    EXPECT_EQ(find_collective_algorithm(v->name) != nullptr, v->runner == vocab::Runner::collectives);
  }
  EXPECT_EQ(model::algorithms().size(), vocab::algorithms().size());
}

// Every collective op (issue 23 item 14: reduce, gather, scatter, alltoallv too) has an algorithm
// `run` runs over point-to-point, the model's best p2p choice for it is one of those, and the model
// prices it for NCCL as well.
TEST(Vocab, EveryCollectiveOpRunsAndIsModelledOnEveryFamily) {
  const model::Fabric f =
      model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml", {});
  for (const OpDescriptor* op : all_ops()) {
    if (op->pairwise) continue;
    SCOPED_TRACE(std::string(op->name));
    EXPECT_TRUE(any_algorithm_supports(op->kind));
    for (double bytes : {8.0, 1e6}) {
      const model::Prediction p2p =
          model::predict(f, std::string(op->name), "auto", four_ranks(std::string(op->name), bytes), bytes);
      const CollectiveAlgorithm* c = find_collective_algorithm(p2p.algo);
      ASSERT_NE(c, nullptr) << p2p.algo;
      EXPECT_TRUE(algorithm_supports(*c, op->kind)) << p2p.algo;
      const model::Prediction nccl = model::predict(f, std::string(op->name), "nccl_auto",
                                                    four_ranks(std::string(op->name), bytes), bytes);
      EXPECT_GT(nccl.time_us, 0);
    }
  }
}

}  // namespace
}  // namespace fb
