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
    CLI::App* compare = app.add_subcommand(
        "compare",
        "Compare two results files (CSV or JSON) as a CI gate: exit 1 on a regression, on "
        "rows missing from CAND, on a CAND that did not end ok, on wrong data or when no row "
        "matched");
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
    compare->add_flag("--force", cmp.force, "replace the -o file if it exists (refused otherwise)");
    compare
        ->add_flag("--allow-missing", allow_missing_text_,
                   "pass although rows of BASE are missing from CAND: any number, or up to N with "
                   "--allow-missing=N (default: a missing row fails)")
        ->type_name("[=N]");
    return compare;
  }
  void resolve(const std::string&) override {
    options_.threshold_pct = parse_threshold_pct(threshold_text_);
    if (!allow_missing_text_.empty()) options_.allow_missing = parse_allow_missing(allow_missing_text_);
  }
  int run() override {
    warn_inventory_differences(options_.base, options_.cand, std::cerr);  // harness/inventory_diff.hpp
    return run_compare_command(options_);
  }

 private:
  CompareOptions options_;
  std::string threshold_text_ = "5%";
  std::string allow_missing_text_;
};

}  // namespace

std::unique_ptr<Command> make_compare_command() {
  return std::make_unique<CompareCommand>();
}

}  // namespace fb
