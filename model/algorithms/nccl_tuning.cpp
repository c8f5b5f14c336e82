// NCCL's per-generation protocol refinements (model/algorithms/nccl_tuning.hpp).
//
// Source: NVIDIA/nccl src/graph/tuning.cc, the tables ncclTopoTuneModel reads by compute
// capability (VOLTA/AMPERE/HOPPER/BLACKWELL_COMPCAP_IDX) and node count (N1 / N2 / N4: 1 node, 2
// nodes, more), in GB/s:
//   llMaxBws              Ampere {87.7, 22.5, 19.0}  Hopper {141, 45, 35}       Blackwell 2 x Hopper
//   perChMaxRingLL128Bws  Ampere {20, 20, 20}        Hopper {36.7, 36.7, 36.7}  Blackwell 2 x Hopper
//   perChMaxTreeLL128Bws  Ampere {20, 20, 20}        Hopper {36.7, 36.7, 29.0}  Blackwell 2 x Hopper
//   perChMaxTreeBws       Ampere {24.0, 23.6, 17.8}  Hopper {38.7, 41.4, 36.0}  Blackwell 2 x Hopper
//   perChMaxNVLSTreeBws   Hopper {-, 57.7, 45.5}                               Blackwell 2 x Hopper
// The Hopper row is the one shared/reference/nccl-cost-model.md quotes (v2.30); the Blackwell row,
// present in the releases that support Blackwell (2.25 on), is twice Hopper's. The Ampere and
// Blackwell rows are as read in NCCL's source, not yet checked against that reference file. Ampere
// has no NVLS, so its NVLSTree row is never read. The same file's refinements, applied to busBw:
//   Ring + LL:    min(llMaxBw, busBw x (nNodes > 1 || all-reduce || reduce ? 1/4 : 1/3))
//   Ring + LL128: min(busBw x 0.92, nChannels x perChMaxRingLL128Bw)
//   Tree + LL:    min(busBw / 3.8, llMaxBw)
//   Tree + LL128: min(busBw x (1 node ? 7/9 : 120/128), nChannels x perChMaxTreeLL128Bw)
// Check against the calibration set (configs/reference/published.csv, row 46: 4 GB200 GPUs, NCCL
// 2.25.1, Ring, 1 MiB all-reduce, 80.48 GB/s busbw): Ring LL at busBw x 1/4 gives 80.4 GB/s.
#include "model/algorithms/nccl_tuning.hpp"

#include "model/rates.hpp"

namespace fb::model::detail {

namespace {

constexpr NcclCaps kAmpere{{87.7, 22.5, 19.0}, {20, 20, 20}, {20, 20, 20}, {24.0, 23.6, 17.8}, {0, 0, 0}};
constexpr NcclCaps kHopperCaps{
    {141, 45, 35}, {36.7, 36.7, 36.7}, {36.7, 36.7, 29.0}, {38.7, 41.4, 36.0}, {0, 57.7, 45.5}};
constexpr NcclCaps kBlackwell{{2 * 141.0, 2 * 45.0, 2 * 35.0},
                              {2 * 36.7, 2 * 36.7, 2 * 36.7},
                              {2 * 36.7, 2 * 36.7, 2 * 29.0},
                              {2 * 38.7, 2 * 41.4, 2 * 36.0},
                              {0, 2 * 57.7, 2 * 45.5}};

}  // namespace

const NcclCaps* nccl_caps(const Fabric& f) {
  switch (generation_of(f)) {
    case Generation::ampere:
      return &kAmpere;
    case Generation::hopper:
      return &kHopperCaps;
    case Generation::blackwell:
      return &kBlackwell;
    case Generation::other:
      break;
  }
  return nullptr;
}

double nccl_ring_ll_share(const Fabric& f, Op op, double domains) {
  const double payload = proto_efficiency(f, Proto::ll);
  if (!nccl_caps(f)) return payload;
  const bool quarter = domains > 1 || op == Op::allreduce || op == Op::reduce;
  return payload * (quarter ? 0.5 : 2.0 / 3.0);
}

}  // namespace fb::model::detail
