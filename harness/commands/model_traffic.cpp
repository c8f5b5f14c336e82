// fabricbench model --traffic (harness/commands/model.hpp): the per-flow throughput a traffic
// pattern gets on each tier it crosses under the fabric's load balancing (model/routing.hpp),
// for each --compare-set value when one is given; --json writes the numbers.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "harness/commands/model.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/sinks/sink.hpp"
#include "model/routing.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace {

nlohmann::ordered_json tier_json(const model::TrafficResult& r, const model::TierTraffic& t,
                                 const std::string& set) {
  nlohmann::ordered_json j;
  j["pattern"] = r.pattern;
  j["nranks"] = r.nranks;
  j["flows"] = t.flows;
  j["paths"] = t.paths;
  j["policy"] = t.policy;
  j["flow_Gbps"] = {
      {"median", t.Gbps.median}, {"p10", t.Gbps.p10}, {"min", t.Gbps.min}, {"mean", t.Gbps.mean}};
  j["max_load"] = t.max_load;
  j["tier"] = t.tier_name;
  j["sub_flows"] = t.sub_flows;
  j["connections"] = t.connections;
  j["drawn_max_load"] = t.measured_max_load;
  j["nic_Gbps"] = r.nic_Gbps;
  j["ranks_per_domain"] = r.ranks_per_domain;
  j["seeds"] = r.seeds;
  if (!set.empty()) j["set"] = set;
  return j;
}

void print_result(const model::TrafficResult& r, const std::string& set) {
  std::cout << fmt::format(
      "#\n# traffic {}: {} ranks, {} per domain, {} connections, {} runs{}; port rate {:.6g} Gb/s\n",
      r.pattern, r.nranks, r.ranks_per_domain, r.connections, r.seeds, set.empty() ? "" : " (" + set + ")",
      r.nic_Gbps);
  if (r.tiers.empty()) {
    std::cout << "# no connection climbs above a leaf: nothing is routed over up-links\n";
    return;
  }
  std::cout << fmt::format("# {:<8} {:<9} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9}\n", "above", "policy",
                           "flows", "paths", "median", "p10", "worst", "mean", "max_load");
  for (const auto& t : r.tiers)
    std::cout << fmt::format(
        "  {:<8} {:<9} {:>8.4g} {:>6.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>10.4g} {:>9.4g}\n", t.tier_name,
        t.policy, t.flows, t.paths, t.Gbps.median, t.Gbps.p10, t.Gbps.min, t.Gbps.mean, t.max_load);
}

}  // namespace

int run_model_traffic(const ModelOptions& o) {
  const std::vector<std::string> values = compare_set_values(o.compare_set);
  try {
    check_outputs({o.json_path}, o.force);
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot write results: ") + e.what());
  }
  model::TrafficOptions to;
  to.pattern = o.traffic;
  to.nranks = o.nranks;
  to.ranks_per_domain = o.ranks_per_domain;
  to.seeds = o.seeds;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  nlohmann::ordered_json first;
  for (const std::string& v : values) {
    const std::string set = v.empty() ? "" : compare_set_key(o.compare_set) + "=" + v;
    const model::Fabric f = load_fabric_for_cli(o.fabric, set.empty() ? o.sets : compare_set_sets(o, v));
    model::TrafficResult r;
    try {
      r = model::predict_traffic(f, to);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (!o.quiet) print_result(r, set);
    for (const auto& t : r.tiers) {
      all.push_back(tier_json(r, t, set));
      if (first.is_null()) first = all.back();
    }
  }
  if (!o.json_path.empty()) {
    nlohmann::ordered_json doc = first.is_null() ? nlohmann::ordered_json::object() : first;
    doc["tiers"] = all;
    const std::string tmp = o.json_path + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(tmp);
      out << doc.dump(2) << '\n';
      if (!out) throw std::runtime_error("cannot write '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), o.json_path.c_str()) != 0)
      throw std::runtime_error("cannot rename '" + tmp + "' to '" + o.json_path + "'");
  }
  return 0;
}

}  // namespace fb
