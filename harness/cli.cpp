// The command line: `fabricbench CMD [options]` over the registered commands, `--list`, `--version`.
#include "harness/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"
#include "collectives/p2p.hpp"
#include "harness/version.hpp"
#include "transports/backend.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace {

std::string join_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    std::string a = argv[i];
    const bool quote = a.empty() || a.find_first_of(" \t'\"$") != std::string::npos;
    if (quote) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += a;
  }
  return s;
}

// One placeholder vocabulary for every command's help (`--minbytes SIZE`, `--iters N`), set by the
// option's long name so the commands' files need not repeat it; an option not listed keeps the
// type name its command gave (CLI11's TEXT, INT, ... by default). Positionals are FILE.
struct Placeholder {
  const char* option;
  const char* name;
};
constexpr Placeholder kPlaceholders[] = {
    {"--backend", "NAME"},
    {"--op", "LIST"},
    {"--algo", "NAME"},
    {"--chunk", "SIZE"},
    {"--minbytes", "SIZE"},
    {"--maxbytes", "SIZE"},
    {"--stepfactor", "X"},
    {"--stepbytes", "SIZE"},
    {"--iters", "N"},
    {"--warmup", "N"},
    {"--check", "N"},
    {"--batch", "N|auto"},
    {"--dtype", "LIST"},
    {"--redop", "LIST"},
    {"--root", "N"},
    {"--place", "PLACE"},
    {"--p2p-api", "NAME"},
    {"--window", "N"},
    {"--mem", "KIND"},
    {"--cuda-graph", "N"},
    {"--nccl-algo", "LIST"},
    {"--nccl-proto", "LIST"},
    {"--plan", "FILE"},
    {"--csv", "FILE"},
    {"--json", "FILE"},
    {"--timeout", "SECONDS"},
    {"--fabric", "FABRIC"},
    {"--set", "PATH=VALUE"},
    {"--bytes", "LIST"},
    {"--protocol", "NAME"},
    {"--gpus", "LIST"},
    {"--ranks-per-domain", "N"},
    {"--against", "FILE"},
    {"--trust", "LIST"},
    {"--min-bytes", "SIZE"},
    {"--max-bytes", "SIZE"},
    {"--max-error", "PERCENT"},
    {"--base", "FABRIC"},
    {"--metric", "NAME"},
    {"--threshold", "PERCENT"},
    {"--alpha", "X"},
    {"--min-samples", "N"},
    {"--format", "NAME"},
    {"--title", "TITLE"},
    {"--matrix-csv", "FILE"},
    {"--bw-bytes", "SIZE"},
    {"--lat-bytes", "SIZE"},
    {"--bw-pass", "X"},
    {"--bw-warn", "X"},
    {"--lat-pass", "X"},
    {"--lat-warn", "X"},
    {"--max-ratio", "X"},
    {"--counts", "DIST"},
    {"--seed", "N"},
    {"--timing", "NAME"},
    {"-z", "0|1"},
    {"-C", "0|1"},
    {"-G", "N"},
    {"-a", "0-3"},
    {"-m", "N"},
    {"--tokens", "N"},
    {"--hidden", "N"},
    {"--topk", "K"},
    {"--experts-per-rank", "N"},
    {"--expert-placement", "NAME"},
};

void set_placeholders(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    for (CLI::Option* opt : sub->get_options({})) {
      if (opt->get_type_size() == 0 || !opt->get_option_text().empty()) continue;
      if (opt->get_positional()) {  // every command's positionals are results files
        opt->type_name("FILE");
        continue;
      }
      for (const auto& p : kPlaceholders) {
        for (const auto& name : opt->get_lnames())
          if ("--" + name == p.option) opt->type_name(p.name);
        for (const auto& name : opt->get_snames())  // nccl-tests' one-letter flags have no long name
          if (opt->get_lnames().empty() && "-" + name == p.option) opt->type_name(p.name);
      }
      if (opt->check_lname("output")) opt->type_name(sub->get_name() == "report" ? "DIR" : "FILE");
    }
    set_placeholders(*sub);
  }
}

}  // namespace

std::string list_text() {
  std::string s = "backends:\n";
  for (const auto& b : transports::backends()) {
    s += fmt::format("  {:<6} {}\n", b.name,
                     b.factory ? b.summary : fmt::format("not compiled in ({})", b.why_missing));
  }
  s += "ops:\n";
  for (const auto* d : all_ops()) s += fmt::format("  {:<14} {}\n", d->name, d->summary);
  s += "algorithms (--algo; also native, the library's own, and auto):\n";
  for (const auto* a : collective_algorithms()) {
    std::string ops;
    for (OpKind k : a->ops.kinds()) ops += (ops.empty() ? "" : ", ") + std::string(op_descriptor(k).name);
    s += fmt::format("  {:<18} {}\n", a->name, ops);
  }
  s += "dtypes:\n ";
  for (auto t : all_dtypes()) s += fmt::format(" {}", dtype_name(t));
  s += "\nredops:\n ";
  for (auto r : all_redops()) s += fmt::format(" {}", redop_name(r));
  s += "\n";
  return s;
}

CliResult parse_command_line(int argc, char** argv, const std::vector<std::unique_ptr<Command>>& commands) {
  CliResult result;
  // Not "fabricbench: ...": that prefix marks error lines, and the usage also goes to stderr.
  CLI::App app{"Benchmark and validate the fabric between GPUs and hosts", "fabricbench"};
  app.set_version_flag("--version", std::string("fabricbench ") + kVersion + " (" + kGitDescribe + ")");
  bool list = false;
  app.add_flag("--list", list, "List backends (compiled in or not), ops, dtypes and redops");
  app.require_subcommand(0, 1);
  std::vector<CLI::App*> subs;
  for (const auto& c : commands) subs.push_back(c->add_to(app));
  set_placeholders(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // "Usage: fabricbench CMD [OPTIONS] ..." for every command (CLI11 delegates to the one parsed).
    result.kind = CliResult::Kind::help;
    result.help_text = app.help();
    if (!result.help_text.empty() && result.help_text.back() != '\n') result.help_text += '\n';  // footers
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.kind = CliResult::Kind::help;
    result.help_text = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion&) {
    result.kind = CliResult::Kind::version;
    result.help_text = std::string("fabricbench ") + kVersion + " (" + kGitDescribe + ")\n";
    return result;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    for (auto& c : msg)
      if (c == '\n') c = ' ';
    throw UsageError(msg + " (fabricbench --help)");
  }

  if (list) {
    result.kind = CliResult::Kind::list;
    return result;
  }
  for (std::size_t i = 0; i < commands.size(); ++i)
    if (subs[i]->parsed()) {
      commands[i]->resolve(join_args(argc, argv));
      result.kind = CliResult::Kind::command;
      result.command = commands[i].get();
      return result;
    }
  // No command: the usage, on stderr, exit 2 (main.cpp).
  result.kind = CliResult::Kind::no_command;
  result.help_text = app.help();
  return result;
}

}  // namespace fb
