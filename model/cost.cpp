// The algorithm registry and predict(): which algorithms exist, which ops they implement, and how
// "auto", "native" and "nccl_auto" choose among them. The cost functions live in
// model/algorithms/ (one file each; the model is described in model/algorithms/common.hpp). The
// table is static data rather than self-registration, which static libraries would drop.
#include "model/cost.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "model/algorithms/common.hpp"
#include "vocab/algorithm.hpp"

namespace fb::model {

namespace {

using detail::Op;
using CostFn = decltype(Algorithm::cost);

// One entry per algorithm the model prices: its vocabulary entry (name, ops, family) and cost.
Algorithm entry(const vocab::Algorithm& v, CostFn cost) {
  std::vector<std::string> ops;
  for (vocab::OpKind k : v.ops.kinds()) ops.emplace_back(vocab::op_name(k));
  return {std::string(v.name), std::string(v.family()), std::move(ops), v.has_protocols(), cost};
}

const std::vector<Algorithm>& table() {
  namespace va = vocab::algo;
  static const std::vector<Algorithm> t = {
      // UCX/MPI algorithms over point-to-point.
      entry(va::ring, detail::cost_ring),
      entry(va::recursive_doubling, detail::cost_recursive_doubling),
      entry(va::rabenseifner, detail::cost_rabenseifner),
      entry(va::recursive_halving, detail::cost_recursive_halving),
      entry(va::hierarchical, detail::cost_hierarchical),
      entry(va::pairwise, detail::cost_pairwise),
      entry(va::bruck, detail::cost_bruck),
      entry(va::linear, detail::cost_linear),
      entry(va::binomial, detail::cost_binomial),
      entry(va::chain, detail::cost_chain),
      entry(va::p2p, detail::cost_p2p),
      // NCCL's algorithms, each with its protocols.
      entry(va::nccl_ring, detail::cost_nccl_ring),
      entry(va::nccl_tree, detail::cost_nccl_tree),
      entry(va::nccl_nvls, detail::cost_nccl_nvls),
      entry(va::nccl_nvlstree, detail::cost_nccl_nvlstree),
      entry(va::nccl_collnet_direct, detail::cost_nccl_collnet_direct),
      entry(va::nccl_collnet_chain, detail::cost_nccl_collnet_chain),
      entry(va::nccl_pat, detail::cost_nccl_pat),
      entry(va::nccl_p2p, detail::cost_nccl_p2p),
  };
  return t;
}

constexpr const char* kProtocols[] = {"ll", "ll128", "simple"};

bool implements(const Algorithm& a, const std::string& op) {
  return std::find(a.ops.begin(), a.ops.end(), op) != a.ops.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string known_algorithms() {
  std::vector<std::string> names;
  for (const auto& a : table()) names.push_back(a.name);
  names.insert(names.end(), {"auto", "native", "nccl_auto"});
  return join(names);
}

bool is_auto_protocol(const std::string& p) {
  return p.empty() || p == "auto";
}

// One algorithm at the requested protocol ("auto": its fastest). time_us < 0 when it cannot run;
// the reason is in bottleneck.
Prediction evaluate(const Algorithm& a, const Fabric& f, const std::string& op, const Placement& pl,
                    double bytes, const std::string& protocol) {
  if (!a.has_protocols) {
    if (!is_auto_protocol(protocol))
      throw std::invalid_argument("model: algorithm '" + a.name + "' has no protocols (got protocol '" +
                                  protocol + "'; protocols are for the NCCL algorithms)");
    return a.cost(f, op, pl, bytes, "");
  }
  if (!is_auto_protocol(protocol)) {
    if (detail::parse_proto(protocol) == detail::Proto::none)
      throw std::invalid_argument("model: unknown protocol '" + protocol +
                                  "' (known: ll, ll128, simple, auto)");
    return a.cost(f, op, pl, bytes, protocol);
  }
  Prediction best = detail::unavailable("");
  std::string why;  // the first reason that is not about a protocol, else the first
  bool why_is_protocol = true;
  for (const char* pr : kProtocols) {
    Prediction p = a.cost(f, op, pl, bytes, pr);
    if (p.time_us < 0) {
      const bool about_protocol = p.bottleneck.find(" protocol") != std::string::npos;
      if (why.empty() || (why_is_protocol && !about_protocol)) {
        why = p.bottleneck;
        why_is_protocol = about_protocol;
      }
      continue;
    }
    if (best.time_us < 0 || p.time_us < best.time_us) best = std::move(p);
  }
  if (best.time_us < 0) best.bottleneck = why;
  return best;
}

}  // namespace

const std::vector<Algorithm>& algorithms() {
  return table();
}

const Algorithm* find_algorithm(const std::string& name) {
  for (const auto& a : table())
    if (a.name == name) return &a;
  return nullptr;
}

double busbw_factor(const std::string& op, std::uint64_t nranks) {
  return vocab::busbw_factor(detail::parse_op(op), static_cast<double>(nranks));
}

const std::vector<std::string>& model_ops() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> v;
    for (const vocab::OpInfo& o : vocab::kOps) v.emplace_back(o.name);
    return v;
  }();
  return ops;
}

Prediction predict(const Fabric& f, const std::string& op, const std::string& algo, const Placement& p,
                   double bytes, const std::string& protocol) {
  const Op o = detail::parse_op(op);  // throws for an unknown op
  if (!(bytes >= 0) || !std::isfinite(bytes))
    throw std::invalid_argument("model: bytes must be a finite number >= 0 (got " + std::to_string(bytes) +
                                ")");
  detail::make_topo(f, p);  // throws for an impossible placement, whatever the algorithm
  if (detail::is_pair_op(o) && p.nranks < 2)
    throw std::invalid_argument("model: " + op + " needs at least 2 ranks (got " + std::to_string(p.nranks) +
                                ")");

  const bool best_p2p = algo == "auto" || algo == "native";
  if (best_p2p && !is_auto_protocol(protocol))
    throw std::invalid_argument("model: protocol '" + protocol + "' is for the NCCL algorithms; '" + algo +
                                "' chooses among the point-to-point ones");
  if (best_p2p || algo == "nccl_auto") {
    const char* family = best_p2p ? "p2p" : "nccl";
    Prediction best = detail::unavailable("");
    std::vector<std::string> why;
    for (const auto& a : table()) {
      if (a.family != family || !implements(a, op)) continue;
      Prediction c = evaluate(a, f, op, p, bytes, best_p2p ? std::string() : protocol);
      if (c.time_us < 0) {
        why.push_back(a.name + ": " + c.bottleneck);
        continue;
      }
      if (best.time_us < 0 || c.time_us < best.time_us) best = std::move(c);
    }
    if (best.time_us < 0)
      throw std::invalid_argument("model: no " + std::string(family) + " algorithm for " + op +
                                  " can run here" + (why.empty() ? std::string() : " (" + join(why) + ")"));
    return best;
  }

  const Algorithm* a = find_algorithm(algo);
  if (!a)
    throw std::invalid_argument("model: unknown algorithm '" + algo + "' (known: " + known_algorithms() +
                                ")");
  if (!implements(*a, op))
    throw std::invalid_argument("model: algorithm '" + algo + "' does not implement " + op +
                                " (it implements " + join(a->ops) + ")");
  Prediction r = evaluate(*a, f, op, p, bytes, protocol);
  if (r.time_us < 0)
    throw std::invalid_argument("model: " + algo + " cannot run " + op + " on " +
                                (f.name.empty() ? std::string("this fabric") : "fabric '" + f.name + "'") +
                                ": " + r.bottleneck);
  return r;
}

std::string default_algorithm(const Fabric& f) {
  return f.endpoint.kind == "gpu" ? "nccl_auto" : "auto";
}

}  // namespace fb::model
