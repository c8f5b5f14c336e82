// fabricbench model --compare-set KEY=V1,V2,... (harness/commands/model.hpp): the same sweep once per
// value of one fabric field, side by side (time, busbw and bottleneck per value, and each value's
// time over the first's), e.g. ECMP against adaptive routing on the same fabric. Rows go to
// --csv/--json as the plain sweep's, their model_fabric naming the value: "NAME [KEY=V]".
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "harness/commands/cli_options.hpp"
#include "harness/commands/model.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/record.hpp"
#include "harness/sinks/sink.hpp"
#include "model/cost.hpp"
#include "model/routing.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

std::vector<std::string> compare_set_values(const std::string& compare_set) {
  const auto eq = compare_set.find('=');
  if (compare_set.empty() || eq == std::string::npos) return {""};
  return comma_list(compare_set.substr(eq + 1));
}

std::string compare_set_key(const std::string& compare_set) {
  return compare_set.substr(0, compare_set.find('='));
}

std::vector<std::string> compare_set_sets(const ModelOptions& o, const std::string& value) {
  std::vector<std::string> sets = o.sets;
  const std::string key = compare_set_key(o.compare_set);
  const auto star = key.find(".*.");
  if (star == std::string::npos) {
    sets.push_back(key + "=" + value);
    return sets;
  }
  // scale_out.tiers.*.KEY: every tier of the fabric (as --set would leave it).
  const model::Fabric f = load_fabric_for_cli(o.fabric, o.sets);
  for (std::size_t t = 0; t < f.scale_out.tiers.size(); ++t)
    sets.push_back(key.substr(0, star) + "." + std::to_string(t) + key.substr(star + 2) + "=" + value);
  return sets;
}

void check_whatif_options(const ModelOptions& o, const std::vector<std::string>& given) {
  auto has = [&](const char* name) { return std::find(given.begin(), given.end(), name) != given.end(); };
  const bool traffic_options_given = has("--nranks") || has("--seeds");
  if (!o.traffic.empty())
    for (const char* name : {"--op", "--bytes", "--algo", "--protocol", "--gpus"})
      if (has(name))
        throw UsageError(std::string("command line: --traffic predicts a traffic pattern, not ops: ") + name +
                         " does not go with it");
  if (!o.compare_set.empty()) {
    const auto eq = o.compare_set.find('=');
    if (eq == std::string::npos || eq == 0 || compare_set_values(o.compare_set).empty())
      throw UsageError("command line: --compare-set: expected KEY=V1,V2,... (as --set takes KEY=V), got '" +
                       o.compare_set + "'");
  }
  if (!o.traffic.empty() && !model::is_traffic_pattern(o.traffic))
    throw UsageError("command line: --traffic: unknown pattern '" + o.traffic +
                     "' (known: " + model::kTrafficPatterns + ")");
  if (o.traffic.empty() && traffic_options_given)
    throw UsageError("command line: --nranks and --seeds go with --traffic");
  if (!o.traffic.empty() && o.seeds < 1)
    throw UsageError("command line: --seeds: must be at least 1, got " + std::to_string(o.seeds));
  if (!o.traffic.empty() && !o.csv_path.empty())
    throw UsageError("command line: --traffic writes --json only (no --csv)");
}

namespace {

struct Column {
  std::string set;
  model::Fabric fabric;
};

void compare_sweep(const ModelOptions& o, const std::vector<Column>& cols, const std::string& op,
                   std::uint64_t bytes, const std::string& a, const std::vector<std::uint64_t>& scales,
                   std::uint64_t rpd, std::vector<std::unique_ptr<Sink>>& sinks) {
  if (!o.quiet) {
    std::cout << fmt::format("#\n# {} {} algo={}: {}\n# {:>9}", op, format_bytes(bytes), a,
                             compare_set_key(o.compare_set), "gpus");
    for (std::size_t i = 0; i < cols.size(); ++i)
      std::cout << fmt::format(" | {:>10} {:>12} {:<30}", cols[i].set.substr(cols[i].set.find('=') + 1),
                               "busbw", "bottleneck");
    std::cout << (cols.size() > 1 ? " | time / first's" : "") << '\n';
  }
  for (auto g : scales) {
    const model::Placement p{g, std::min(rpd, g)};
    std::string line = fmt::format("  {:>9}", g);
    double first = 0;
    std::string ratios;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      model::Prediction pr;
      try {
        pr = model::predict(cols[i].fabric, op, a, p, static_cast<double>(bytes), o.protocol);
      } catch (const std::invalid_argument& e) {
        line += fmt::format(" | {:>10} {:>12} {:<30}", "-", "-", "cannot run");
        continue;
      }
      line += fmt::format(" | {:>10} {:>12} {:<30}", format_duration_us(pr.time_us),
                          format_rate_GBps(pr.busbw_GBps), pr.bottleneck);
      if (i == 0) first = pr.time_us;
      if (i > 0 && first > 0) ratios += fmt::format(" {:.3f}", pr.time_us / first);
      const Record r = model_record(o, cols[i].fabric, op, bytes, p, pr);
      for (auto& s : sinks) s->row(r);
    }
    if (!o.quiet) std::cout << line << (ratios.empty() ? "" : " |" + ratios) << '\n';
  }
}

}  // namespace

int run_model_compare(const ModelOptions& o) {
  std::vector<Column> cols;
  for (const std::string& v : compare_set_values(o.compare_set)) {
    const std::string set = compare_set_key(o.compare_set) + "=" + v;
    Column c{set, load_fabric_for_cli(o.fabric, compare_set_sets(o, v))};
    c.fabric.name += " [" + set + "]";
    cols.push_back(std::move(c));
  }
  const model::Fabric& f = cols.front().fabric;
  const std::vector<std::string> algos =
      o.algos.empty() ? std::vector<std::string>{f.endpoint.kind == "gpu" ? "nccl_auto" : "auto"} : o.algos;
  const std::uint64_t rpd =
      o.ranks_per_domain ? o.ranks_per_domain : static_cast<std::uint64_t>(f.scale_up.domain_size);
  std::string clipped;
  const std::vector<std::uint64_t> scales = model_scales(o, f, rpd, clipped);
  for (const Column& c : cols) check_ops_and_algos(o, c.fabric, algos, scales, rpd);
  std::vector<std::unique_ptr<Sink>> sinks = open_model_sinks(o);
  if (!o.quiet)
    std::cout << fmt::format("# fabric {} ({}), one column per value\n", o.fabric, f.source) << clipped;
  for (const auto& op : o.ops)
    for (auto bytes : o.bytes)
      for (const auto& a : algos) compare_sweep(o, cols, op, bytes, a, scales, rpd, sinks);
  for (auto& s : sinks) s->end("ok");
  return 0;
}

}  // namespace fb
