// NCCL's per-generation protocol refinements (src/graph/tuning.cc, ncclTopoTuneModel): the caps
// and factors NCCL applies to a (algorithm, protocol)'s bus bandwidth, by GPU generation and by
// node count (1 node, 2 nodes, more). They decide which protocol wins at small and mid sizes (LL's
// and LL128's throughput against their lower latency), so the model applies them on every GPU
// generation NCCL tunes (Ampere, Hopper, Blackwell); a fabric of generation "other" gets the
// protocols' line-format efficiencies (Fabric::protocols) only. The values and their source are in
// nccl_tuning.cpp; docs/model-latency.md describes how they enter each algorithm.
#pragma once

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

// GB/s, indexed by nccl_nodes_index (1 node, 2 nodes, 3 or more).
struct NcclCaps {
  double ll_max[3];             // llMaxBws: LL's bus bandwidth, Ring and Tree
  double per_ch_ring_ll128[3];  // perChMaxRingLL128Bws: Ring LL128, per channel
  double per_ch_tree_ll128[3];  // perChMaxTreeLL128Bws: Tree LL128, per channel
  double per_ch_tree[3];        // perChMaxTreeBws: Tree, per channel
  double per_ch_nvlstree[3];    // perChMaxNVLSTreeBws: NVLSTree, per channel
};

// The fabric's generation's caps; nullptr for a generation NCCL's tables do not cover ("other").
const NcclCaps* nccl_caps(const Fabric& f);

// Ring LL's bus bandwidth as a share of the link's: the LL line format's payload
// (Fabric::protocols.ll, 8 data bytes in 16) times the further half (all-reduce, reduce, or any
// op across nodes) or two thirds (all-gather, reduce-scatter, broadcast in one node) NCCL's tuning
// keeps (busBw x 1/4 or 1/3 with the 0.5 line format): LL's 8-byte stores and flag polling.
double nccl_ring_ll_share(const Fabric& f, Op op, double domains);

// Tree LL's bus bandwidth divisor (NCCL: busBw / 3.8), in place of the line format's 0.5.
constexpr double kNcclTreeLlDivisor = 3.8;

}  // namespace fb::model::detail
