// The options model and inference share (harness/commands/cli_options.hpp).
#include "harness/commands/cli_options.hpp"

#include <CLI/CLI.hpp>

#include "harness/fabric_lookup.hpp"
#include "vocab/error.hpp"

namespace fb {

std::vector<std::string> comma_list(const std::string& s) {
  std::vector<std::string> v;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) v.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return v;
}

void add_fabric_options(CLI::App* c, std::string& fabric, std::vector<std::string>& sets,
                        const std::string& fabric_help) {
  c->add_option("--fabric", fabric, fabric_help);
  c->add_option("--set", sets, "override a fabric field: --set scale_out.tiers.1.oversubscription=7");
}

CliFabric load_cli_fabric(const std::string& fabric, const std::vector<std::string>& sets,
                          std::uint64_t ranks_per_domain) {
  CliFabric out{load_fabric_for_cli(fabric, sets), ranks_per_domain};
  if (out.ranks_per_domain == 0)
    out.ranks_per_domain = static_cast<std::uint64_t>(out.fabric.scale_up.domain_size);
  return out;
}

void add_routing_options(CLI::App* c, RoutingTexts& t, const std::string& what) {
  c->add_option("--counts", t.counts,
                what + ": routing over the experts: uniform, zipf:S, hot:K:F, matrix:FILE (default uniform)");
  c->add_option("--seed", t.seed, "seed of the --counts ranking (default 1)");
  c->add_option("--expert-placement", t.placement,
                "MoE what-if: spread (experts across all ranks, default) or domain-local (each token's "
                "experts inside its scale-up domain)");
}

CliRouting resolve_routing(const RoutingTexts& t) {
  CliRouting r;
  try {
    r.counts = parse_counts(t.counts, t.seed);
  } catch (const UsageError& e) {
    throw UsageError(std::string("command line: counts: ") + e.what());
  }
  if (t.placement != "spread" && t.placement != "domain-local")
    throw UsageError("command line: expert-placement: expected spread or domain-local, got '" + t.placement +
                     "'");
  r.domain_local = t.placement == "domain-local";
  return r;
}

}  // namespace fb
