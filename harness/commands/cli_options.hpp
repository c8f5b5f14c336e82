// Options the no-MPI model commands share (model, inference): the fabric (--fabric, --set,
// --ranks-per-domain), comma-separated lists, and the MoE routing (--counts, --seed,
// --expert-placement). One place registers and resolves each, so the commands cannot drift.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/fabric.hpp"
#include "vocab/counts.hpp"

namespace CLI {
class App;
}

namespace fb {

// "a, b,,c" -> {"a", "b", "c"}: items split at commas, spaces dropped, empty items skipped.
std::vector<std::string> comma_list(const std::string& s);

// --fabric (`fabric_help` its help) and --set.
void add_fabric_options(CLI::App* c, std::string& fabric, std::vector<std::string>& sets,
                        const std::string& fabric_help = "fabric file or name in configs/fabrics/");

// The fabric with its --set overrides (errors are UsageError) and the ranks per scale-up domain:
// `ranks_per_domain`, or the fabric's domain size when 0.
struct CliFabric {
  model::Fabric fabric;
  std::uint64_t ranks_per_domain = 1;
};
CliFabric load_cli_fabric(const std::string& fabric, const std::vector<std::string>& sets,
                          std::uint64_t ranks_per_domain);

// --counts, --seed and --expert-placement as given, before they are checked.
struct RoutingTexts {
  std::string counts = "uniform";
  std::uint64_t seed = 1;
  std::string placement = "spread";
};
// `what`: whose routing it is, for the help ("moe_dispatch/moe_combine", "the EP exchange").
void add_routing_options(CLI::App* c, RoutingTexts& t, const std::string& what);
// The distribution (its MoE shape left at the defaults: the caller sets it) and whether the
// placement is domain-local; UsageError ("command line: counts: ...") on a bad value.
struct CliRouting {
  CountsSpec counts;
  bool domain_local = false;
};
CliRouting resolve_routing(const RoutingTexts& t);

}  // namespace fb
