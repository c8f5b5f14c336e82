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
  CLI::App app{"fabricbench: benchmark and validate the fabric between GPUs and hosts", "fabricbench"};
  app.set_version_flag("--version", std::string("fabricbench ") + kVersion + " (" + kGitDescribe + ")");
  bool list = false;
  app.add_flag("--list", list, "List backends (compiled in or not), ops, dtypes and redops");
  app.require_subcommand(0, 1);
  std::vector<CLI::App*> subs;
  for (const auto& c : commands) subs.push_back(c->add_to(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.kind = CliResult::Kind::help;
    result.help_text = app.help();
    for (std::size_t i = 0; i < commands.size(); ++i)
      if (subs[i]->parsed() && commands[i]->own_help()) result.help_text = subs[i]->help();
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
  result.kind = CliResult::Kind::help;
  result.help_text = app.help();
  return result;
}

}  // namespace fb
