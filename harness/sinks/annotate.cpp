// Rows held against the model (harness/sinks/annotate.hpp).
#include "harness/sinks/annotate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

#include "collectives/op.hpp"
#include "model/cost.hpp"
#include "model/moe_traffic.hpp"

namespace fb {

std::pair<std::string, std::string> model_algorithm_for(const Record& r) {
  // The algorithm proper: the part before a /windowN or /graphN suffix.
  std::string algo = r.algo;
  for (const char* suffix : {"/window", "/graph"}) {
    const auto at = algo.find(suffix);
    if (at != std::string::npos) algo.erase(at);
  }
  const OpDescriptor* d = find_op(r.op);
  const bool pairwise = d && d->pairwise;
  if (r.backend != "nccl") {
    if (pairwise || algo.empty()) return {"native", "auto"};
    return {algo, "auto"};
  }
  if (pairwise || (d && (d->kind == OpKind::alltoall || vocab::is_moe(d->kind)))) return {"nccl_p2p", "auto"};
  // NCCL's tuner line, ALGO/PROTO (transports/nccl/nccl_log.cpp); several choices: nccl_auto.
  const auto slash = algo.find('/');
  if (algo.find('+') != std::string::npos || slash == std::string::npos) return {"nccl_auto", "auto"};
  std::string name = algo.substr(0, slash), proto = algo.substr(slash + 1);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  std::transform(proto.begin(), proto.end(), proto.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  name.erase(std::remove(name.begin(), name.end(), '_'), name.end());
  static const std::map<std::string, std::string> kNames = {{"ring", "nccl_ring"},
                                                            {"tree", "nccl_tree"},
                                                            {"nvls", "nccl_nvls"},
                                                            {"nvlstree", "nccl_nvlstree"},
                                                            {"collnetdirect", "nccl_collnet_direct"},
                                                            {"collnetchain", "nccl_collnet_chain"},
                                                            {"pat", "nccl_pat"}};
  const auto it = kNames.find(name);
  if (it == kNames.end()) return {"nccl_auto", "auto"};
  return {it->second, proto};
}

std::string model_basis_for(const std::string& op, const std::string& algo) {
  const OpDescriptor* d = find_op(op);
  if (d && d->pairwise) return kBasisAlgorithm;
  return algo == "native" || algo == "auto" || algo == "nccl_auto" ? kBasisBound : kBasisAlgorithm;
}

void annotate_with_model(Record& r, const model::Fabric& f) {
  // A zero-byte op moves nothing and MPI, UCX and NCCL return from it at once (ns): the model's
  // latency is not what it measures, and its time/model would read as the run's worst row.
  if (r.bytes == 0) return;
  model::Placement p;
  p.nranks = static_cast<std::uint64_t>(std::max(1, r.nranks));
  p.ranks_per_domain = static_cast<std::uint64_t>(std::max(1, r.ranks_per_node));
  const OpDescriptor* d = find_op(r.op);
  if (d && vocab::is_moe(d->kind)) {
    // The routing the row ran (its counts column), at the row's tokens per rank.
    const auto spec = parse_counts_label(r.counts);
    const auto dt = parse_dtype(r.dtype);
    if (!spec || !dt) return;
    const std::size_t es = dtype_size(*dt),
                      per = es * spec->moe.hidden * static_cast<std::size_t>(spec->moe.topk);
    try {
      p.traffic = model::moe_traffic(*spec, d->kind, p.nranks, per ? r.bytes / per : 0, es).traffic;
    } catch (const std::exception&) {
      return;
    }
  }
  try {
    const auto [algo, protocol] = model_algorithm_for(r);
    set_prediction(r, f.name, model::predict(f, r.op, algo, p, static_cast<double>(r.bw_bytes()), protocol),
                   algo);
  } catch (const std::invalid_argument&) {
    // The model has no algorithm for what ran: leave the prediction empty.
  }
}

void set_prediction(Record& r, const std::string& fabric_name, const model::Prediction& pr,
                    const std::string& algo) {
  r.model_fabric = fabric_name;
  r.model_basis = model_basis_for(r.op, algo);
  r.model_algo = pr.algo + (pr.protocol.empty() ? "" : "/" + pr.protocol);
  r.model_time_us = pr.time_us;
  r.model_busbw_GBps = pr.busbw_GBps;
  r.model_err_pct = pr.time_us > 0 ? 100.0 * (r.time_us - pr.time_us) / pr.time_us : 0.0;
  r.model_bottleneck = pr.bottleneck;
}

void AnnotatingSink::row(const Record& measured) {
  Record r = measured;
  if (fabric_ && !r.model_time_us) annotate_with_model(r, *fabric_);
  next_.row(r);
}

}  // namespace fb
