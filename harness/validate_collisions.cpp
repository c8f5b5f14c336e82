// validate's flow collisions (harness/validate_collisions.hpp).
#include "harness/validate_collisions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "vocab/error.hpp"

namespace fb {

FlowPaths load_flow_paths(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("flow paths '" + path + "': cannot be read");
  FlowPaths fp;
  try {
    const nlohmann::json doc = nlohmann::json::parse(in);
    fp.source = doc.value("source", path);
    fp.exact = doc.value("exact", true);
    for (const auto& [link, gbps] : doc.at("links").items()) {
      const double g = gbps.get<double>();
      if (!(g > 0)) throw UsageError("link '" + link + "' has rate " + gbps.dump() + " (needs > 0 Gbit/s)");
      fp.link_Gbps[link] = g;
    }
    for (const auto& f : doc.at("flows")) {
      std::vector<std::string> links = f.at("links").get<std::vector<std::string>>();
      for (const auto& l : links)
        if (!fp.link_Gbps.count(l)) throw UsageError("flow's link '" + l + "' is not among \"links\"");
      fp.links[{f.at("src").get<std::string>(), f.at("dst").get<std::string>()}] = std::move(links);
    }
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("flow paths '{}': {}", path, e.what()));
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("flow paths '{}': {}", path, e.what()));
  }
  return fp;
}

std::optional<FlowPaths> flow_paths_from_env() {
  const char* p = std::getenv("FABRICBENCH_FLOW_PATHS");
  if (p == nullptr || *p == '\0') return std::nullopt;
  return load_flow_paths(p);
}

std::vector<Collision> find_collisions(const std::vector<PairResult>& pairs, const FlowPaths& paths,
                                       double bw_pass) {
  // (round, link) -> the flows on it: pair index and direction's name.
  std::map<std::pair<int, std::string>, std::vector<std::pair<std::size_t, std::string>>> on;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const PairResult& p = pairs[i];
    if (!p.has_bw) continue;
    for (const auto& [src, dst] : {std::pair{p.host_a, p.host_b}, std::pair{p.host_b, p.host_a}}) {
      const auto it = paths.links.find({src, dst});
      if (it == paths.links.end()) continue;
      for (const auto& link : it->second) on[{p.round, link}].emplace_back(i, src + "->" + dst);
    }
  }
  std::vector<Collision> out;
  for (const auto& [key, flows] : on) {
    if (flows.size() < 2) continue;
    Collision c;
    c.round = key.first;
    c.link = key.second;
    c.link_Gbps = paths.link_Gbps.at(key.second);
    c.exact = paths.exact;
    bool lost = false;
    std::set<std::size_t> seen;
    for (const auto& [i, name] : flows) {
      c.flows.push_back(name);
      c.demand_Gbps += pairs[i].model_bw_GBps * 8;
      if (seen.insert(i).second) c.pairs.push_back(i);
      lost = lost || pairs[i].bw_ratio < bw_pass;
    }
    // A link that carries its flows at the model's rates is no collision, however many share it.
    if (lost && c.demand_Gbps > c.link_Gbps * (1 + 1e-9)) out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::size_t> pairs_to_recheck(const std::vector<Collision>& collisions,
                                          const std::vector<PairResult>& pairs, double bw_pass) {
  std::vector<std::size_t> v;
  for (const auto& c : collisions)
    for (std::size_t i : c.pairs)
      if (pairs[i].bw_ratio < bw_pass && std::find(v.begin(), v.end(), i) == v.end()) v.push_back(i);
  return v;
}

namespace {

std::string join_flows(const std::vector<std::string>& flows) {
  std::string s;
  for (std::size_t i = 0; i < flows.size(); ++i)
    s += (i == 0 ? "" : i + 1 == flows.size() ? " and " : ", ") + flows[i];
  return s;
}

}  // namespace

std::vector<std::string> collision_report(const std::vector<Collision>& collisions,
                                          const std::vector<PairResult>& pairs,
                                          const std::map<std::size_t, double>& alone, double bw_pass) {
  std::vector<std::string> lines;
  if (collisions.empty()) return lines;
  bool alone_pass = false;
  // One line per round and set of pairs: the links their flows shared, grouped by the flows.
  for (std::size_t i = 0; i < collisions.size();) {
    const Collision& c = collisions[i];
    std::size_t end = i;
    while (end < collisions.size() && collisions[end].round == c.round && collisions[end].pairs == c.pairs)
      ++end;
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> groups;  // flows -> links
    const Collision* worst = &c;
    for (std::size_t k = i; k < end; ++k) {
      const Collision& x = collisions[k];
      auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& e) { return e.first == x.flows; });
      if (g == groups.end()) g = groups.insert(groups.end(), {x.flows, {}});
      g->second.push_back(x.link);
      if (x.demand_Gbps / x.link_Gbps > worst->demand_Gbps / worst->link_Gbps) worst = &x;
    }
    std::string shared;
    for (const auto& [flows, links] : groups)
      shared +=
          fmt::format("{}flows {} {} link{} {}", shared.empty() ? "" : "; ", join_flows(flows),
                      c.exact ? "shared" : "may have shared", links.size() > 1 ? "s" : "", join_flows(links));
    std::string who;
    for (std::size_t p : c.pairs) {
      const PairResult& r = pairs[p];
      who += fmt::format("{}pair {}-{} {:.0f}% of the model", who.empty() ? "" : "; ", r.a, r.b,
                         100 * r.bw_ratio);
      const auto it = alone.find(p);
      if (it != alone.end()) {
        who += fmt::format(" (alone {:.0f}%)", 100 * it->second);
        alone_pass = alone_pass || it->second >= bw_pass;
      }
    }
    lines.push_back(
        fmt::format("collision: round {}: {} ({} flows want {:.3g} Gbit/s of a {:.3g} Gbit/s link): {}",
                    c.round, shared, worst->flows.size(), worst->demand_Gbps, worst->link_Gbps, who));
    i = end;
  }
  lines.push_back(std::string("collision: ") +
                  (alone_pass ? "these pairs pass alone and lose bandwidth only together: "
                              : "the pairs lost bandwidth on a link their round's flows shared: ") +
                  "the fabric put several flows on one link while others had room (per-flow ECMP hashing). "
                  "More flows per connection spread a pair's traffic over more paths "
                  "(NCCL_IB_QPS_PER_CONNECTION=4 or more, NCCL_NCHANNELS_PER_NET_PEER), or "
                  "adaptive routing / packet spraying on the switches avoids the collision; "
                  "`fabricbench model --traffic permutation` predicts it for the fabric file");
  return lines;
}

void grade_collided_pairs(std::vector<PairResult>& pairs, const std::vector<Collision>& collisions,
                          const std::map<std::size_t, double>& alone, const ValidateOptions& o) {
  for (const auto& c : collisions)
    for (std::size_t i : c.pairs) {
      PairResult& p = pairs[i];
      const auto it = alone.find(i);
      if (p.bw_ratio >= o.bw_pass || it == alone.end() || it->second < o.bw_pass) continue;
      if (std::find(p.collided_on.begin(), p.collided_on.end(), c.link) == p.collided_on.end())
        p.collided_on.push_back(c.link);
      p.alone_bw_ratio = it->second;
      p.bw = Grade::warn;
      p.overall = pair_grade(p, o);
    }
}

}  // namespace fb
