// fabricbench report: plots and an index (harness/report.hpp does the plotting).
#include "harness/report.hpp"

#include <CLI/CLI.hpp>

#include "harness/commands/command.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

class ReportCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    ReportOptions& rep = options_;
    CLI::App* report =
        app.add_subcommand("report", "Plot results files (PNG and SVG) with an index.md and index.html");
    report->add_option("results", rep.inputs,
                       "CSV or JSON results: measured runs and/or fabricbench model output");
    report->add_option("-o,--output", rep.output_dir, "directory to write the plots and index into")
        ->required();
    report
        ->add_option("--compare", rep.compare, "also plot the relative change of each row from BASE to CAND")
        ->expected(2)
        ->option_text("BASE CAND");  // not CLI11's "BASE CAND x 2"
    report->add_option("--metric", rep.metric,
                       "metric of --compare: busbw, time_p50 or time_p99 (default busbw)");
    report->add_option("--title", rep.title, "title of the index (default 'fabricbench report')");
    return report;
  }
  void resolve(const std::string&) override {
    if (options_.inputs.empty() && options_.compare.empty())
      throw UsageError("command line: report: no results files given (fabricbench report --help)");
  }
  int run() override { return run_report_command(options_); }

 private:
  ReportOptions options_;
};

}  // namespace

std::unique_ptr<Command> make_report_command() {
  return std::make_unique<ReportCommand>();
}

}  // namespace fb
