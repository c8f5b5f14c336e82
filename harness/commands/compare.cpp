// fabricbench compare: the CI gate (harness/compare.hpp does the comparison).
#include "harness/compare.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "harness/commands/command.hpp"
#include "harness/inventory_diff.hpp"

namespace fb {
namespace {

class CompareCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    CompareOptions& cmp = options_;
    CLI::App* compare =
        app.add_subcommand("compare", "Compare two results files (CSV or JSON); exit 1 on a regression");
    compare->add_option("base", cmp.base, "baseline results (CSV or JSON)")->required();
    compare->add_option("cand", cmp.cand, "candidate results (CSV or JSON)")->required();
    compare->add_option("--metric", cmp.metric,
                        "busbw (higher is better), time_p50 or time_p99 (default busbw)");
    compare->add_option("--threshold", threshold_text_,
                        "smallest change that counts, a percentage: 5% or 5 (default 5%)");
    compare->add_option("--alpha", cmp.alpha, "significance level of the Mann-Whitney U test (default 0.05)");
    compare->add_option("--min-samples", cmp.min_samples,
                        "per-iteration samples each row needs for the U test (default 8)");
    compare->add_option("--format", cmp.format, "text, markdown, junit or csv (default text)");
    compare->add_option("-o,--output", cmp.output, "write the report to this file (default stdout)");
    return compare;
  }
  void resolve(const std::string&) override { options_.threshold_pct = parse_threshold_pct(threshold_text_); }
  int run() override {
    warn_inventory_differences(options_.base, options_.cand, std::cerr);  // harness/inventory_diff.hpp
    return run_compare_command(options_);
  }

 private:
  CompareOptions options_;
  std::string threshold_text_ = "5%";
};

}  // namespace

std::unique_ptr<Command> make_compare_command() {
  return std::make_unique<CompareCommand>();
}

}  // namespace fb
