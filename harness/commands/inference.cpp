// fabricbench inference: the model's inference view (model/inference.hpp, docs/inference.md).
// Per scale, the communication of a decode step and of a prefill, per op and in total, and the
// share each op takes. No MPI here.
#include "model/inference.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <utility>

#include "harness/commands/cli_options.hpp"
#include "harness/commands/command.hpp"
#include "harness/record_fields.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

struct InferenceOptions {
  std::string fabric;
  std::vector<std::string> sets;
  model::ModelShape shape;
  std::vector<model::InferenceScale> scales;  // empty: the default sweep
  std::vector<std::uint64_t> gpus;
  std::uint64_t ranks_per_domain = 0;  // 0: the fabric's domain size
  bool sequence_parallel = false;
  std::uint64_t batch = 1, prompt = 2048, decode_steps = 256;
  std::string csv_path, json_path;
  bool force = false, quiet = false;
  std::string command_line;
  model::ExpertRouting routing;  // --counts, --seed, --expert-placement (the EP exchange)
};

// One scale, priced: a decode step and a prefill.
struct ScaleResult {
  model::InferenceScale scale;
  model::PassCost decode, prefill;
};

std::uint64_t whole(const std::string& key, const std::string& text, std::uint64_t min) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min)
    throw UsageError(
        fmt::format("command line: {}: expected a whole number >= {}, got '{}'", key, min, text));
  return v;
}

// "TPxEPxPP" or "TPxEP".
model::InferenceScale parse_scale(const std::string& item) {
  std::vector<std::uint64_t> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= item.size(); ++i)
    if (i == item.size() || item[i] == 'x') {
      const std::string part = item.substr(start, i - start);
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
      if (part.empty() || ec != std::errc() || p != part.data() + part.size() || v == 0)
        throw UsageError("command line: scale: expected TPxEPxPP (e.g. 8x1x2), got '" + item + "'");
      parts.push_back(v);
      start = i + 1;
    }
  if (parts.size() < 2 || parts.size() > 3)
    throw UsageError("command line: scale: expected TPxEPxPP (e.g. 8x1x2), got '" + item + "'");
  return {parts[0], parts[1], parts.size() == 3 ? parts[2] : 1};
}

// --scale, else --gpus, else doubling from one domain (dense: up to 8 domains of pipeline; MoE:
// until EP reaches the expert count), within what the fabric holds.
std::vector<model::InferenceScale> resolve_scales(const InferenceOptions& o, const model::Fabric& f,
                                                  std::uint64_t rpd) {
  std::vector<model::InferenceScale> scales = o.scales;
  const std::uint64_t capacity = f.max_endpoints();
  try {
    for (auto g : o.gpus) scales.push_back(model::scale_for_gpus(o.shape, g, rpd));
    if (scales.empty()) {
      const std::uint64_t top = o.shape.moe() ? std::max(o.shape.experts, rpd) : 8 * rpd;
      for (std::uint64_t g = rpd; g <= top && g <= capacity; g *= 2) {
        const model::InferenceScale s = model::scale_for_gpus(o.shape, g, rpd);
        if (s.pp <= o.shape.layers) scales.push_back(s);
      }
    }
    for (const auto& s : scales) {
      model::check_scale(o.shape, s);
      model::check_layout(s, rpd);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (scales.empty())
    throw UsageError(fmt::format(
        "scale: fabric '{}' holds no scale of the default sweep (name one with --scale)", f.name));
  for (const auto& s : scales)
    if (s.gpus() > capacity)
      throw UsageError(fmt::format("scale {}x{}x{}: {} GPUs exceed what fabric '{}' holds ({} endpoints)",
                                   s.tp, s.ep, s.pp, s.gpus(), f.name, capacity));
  return scales;
}

std::string bytes_text(double b) {
  const double r = std::round(b);
  if (r == b && b >= 0 && b < 1.8e19) return format_bytes(static_cast<std::uint64_t>(r));
  return fmt::format("{:.4g}", b);
}

std::string share_text(const model::PricedCall& c, const model::PassCost& p) {
  return p.total_us > 0 ? fmt::format("{:.1f}%", 100 * c.share) : "-";
}

void print_pass(const char* phase, double tokens, const model::PassCost& p) {
  for (const auto& c : p.calls)
    std::cout << fmt::format("  {:<8} {:<17} {:>6} {:>10} {:<20} {:>11} {:>11} {:>7}  {}\n", phase,
                             c.call.name, c.call.calls, bytes_text(c.call.bytes),
                             c.per_call.algo + (c.per_call.protocol.empty() ? "" : "/" + c.per_call.protocol),
                             format_duration_us(c.per_call.time_us), format_duration_us(c.time_us),
                             share_text(c, p), c.per_call.bottleneck);
  const int d = p.dominant();
  std::cout << fmt::format("  {:<8} {:<17} {:>6} {:>10} {:<20} {:>11} {:>11} {:>7}  {}\n", phase, "total", "",
                           fmt::format("{:g} tok", tokens), "", "", format_duration_us(p.total_us),
                           p.total_us > 0 ? "100.0%" : "-",
                           d < 0 ? std::string("no communication") : "most: " + p.calls[d].call.name);
}

// The EP exchange's routing as the header and the files say it.
std::string routing_text(const model::ExpertRouting& r) {
  if (r.all_to_all()) return "uniform, experts spread (the all-to-all)";
  return counts_label(r.counts, false) + (r.domain_local ? ", experts domain-local" : ", experts spread") +
         " (expected traffic; the most loaded rank, NIC or tier sets the time)";
}

void print_results(const InferenceOptions& o, const model::Fabric& f, const std::string& algo,
                   std::uint64_t rpd, const std::vector<ScaleResult>& results) {
  const model::ModelShape& m = o.shape;
  std::cout << fmt::format("# fabric {} ({}): {} {}s per domain, {} endpoints at most\n", f.name, f.source,
                           f.scale_up.domain_size, f.endpoint.kind, f.max_endpoints());
  std::cout << fmt::format("# model {}: {} layers, hidden {}, {}-byte activations", m.name, m.layers,
                           m.hidden, m.dtype_bytes);
  if (m.moe())
    std::cout << fmt::format("; {} MoE layers of {} experts, top-{}", m.moe_layers(), m.experts, m.top_k);
  std::cout << (m.source.empty() ? "" : " (" + m.source + ")") << "\n";
  std::cout << fmt::format(
      "# decode: {} sequence(s) per attention group, one token each per step; prefill: a {}-token prompt per "
      "attention group; request: prefill + {} decode steps; {}{} {}s per domain; algo {}\n",
      o.batch, o.prompt, o.decode_steps, o.sequence_parallel ? "sequence parallel; " : "", rpd,
      f.endpoint.kind, algo);
  if (m.moe()) std::cout << fmt::format("# EP routing: {}\n", routing_text(o.routing));
  for (const auto& r : results) {
    const auto& s = r.scale;
    std::cout << fmt::format("#\n# tp={} ep={} pp={}: {} GPUs, {} attention group(s)\n", s.tp, s.ep, s.pp,
                             s.gpus(), s.attention_groups());
    std::cout << fmt::format("# {:<8} {:<17} {:>6} {:>10} {:<20} {:>11} {:>11} {:>7}  {}\n", "phase", "op",
                             "calls", "bytes", "algorithm", "time/call", "time/pass", "share", "bottleneck");
    print_pass("decode", static_cast<double>(o.batch), r.decode);
    print_pass("prefill", static_cast<double>(o.prompt), r.prefill);
    std::cout << fmt::format(
        "  request: {} prefill + {} x {} decode = {}\n", format_duration_us(r.prefill.total_us),
        o.decode_steps, format_duration_us(r.decode.total_us),
        format_duration_us(r.prefill.total_us + static_cast<double>(o.decode_steps) * r.decode.total_us));
  }
}

// A whole number as an integer, anything else to 15 digits (as the results files write doubles).
nlohmann::ordered_json number(double v) {
  if (v >= 0 && v < 9e15 && std::round(v) == v) return static_cast<std::uint64_t>(v);
  return file_double(v);
}

// The rows of the files: one per (scale, phase, op) and a "total" row per (scale, phase).
nlohmann::ordered_json file_rows(const InferenceOptions& o, const model::Fabric& f,
                                 const std::vector<ScaleResult>& results) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& r : results)
    for (const bool decode : {true, false}) {
      const char* phase = decode ? "decode" : "prefill";
      const std::uint64_t tokens = decode ? o.batch : o.prompt;
      const model::PassCost* pass = decode ? &r.decode : &r.prefill;
      auto base = [&](const std::string& name) {
        nlohmann::ordered_json j;
        j["fabric"] = f.name;
        j["model"] = o.shape.name;
        j["tp"] = r.scale.tp;
        j["ep"] = r.scale.ep;
        j["pp"] = r.scale.pp;
        j["gpus"] = r.scale.gpus();
        j["phase"] = phase;
        j["tokens"] = tokens;
        j["name"] = name;
        return j;
      };
      for (const auto& c : pass->calls) {
        auto j = base(c.call.name);
        j["op"] = c.call.op;
        j["calls"] = c.call.calls;
        j["bytes_per_call"] = number(c.call.bytes);
        j["algo"] = c.per_call.algo + (c.per_call.protocol.empty() ? "" : "/" + c.per_call.protocol);
        j["time_per_call_us"] = file_double(c.per_call.time_us);
        j["time_us"] = file_double(c.time_us);
        j["share"] =
            pass->total_us > 0 ? nlohmann::ordered_json(file_double(c.share)) : nlohmann::ordered_json();
        j["bottleneck"] = c.per_call.bottleneck;
        rows.push_back(j);
      }
      auto t = base("total");
      for (const char* k : {"op", "calls", "bytes_per_call", "algo", "time_per_call_us"}) t[k] = nullptr;
      t["time_us"] = file_double(pass->total_us);
      t["share"] = pass->total_us > 0 ? nlohmann::ordered_json(1.0) : nlohmann::ordered_json();
      const int d = pass->dominant();
      t["bottleneck"] = d < 0 ? "" : pass->calls[d].call.name;
      rows.push_back(t);
    }
  return rows;
}

std::string csv_cell(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return v.dump();
}

// Written beside the target and renamed over it: the file is whole or absent.
void write_whole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream w(tmp);
    w << text;
    if (!w) {
      ::unlink(tmp.c_str());
      throw UsageError("inference: cannot write '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw UsageError("inference: cannot write '" + path + "'");
  }
}

void write_files(const InferenceOptions& o, const model::Fabric& f, const std::vector<ScaleResult>& results) {
  if (o.csv_path.empty() && o.json_path.empty()) return;
  const nlohmann::ordered_json rows = file_rows(o, f, results);
  if (!o.json_path.empty()) {
    nlohmann::ordered_json doc;
    doc["meta"] = {{"fabricbench_version", kVersion},
                   {"git_describe", kGitDescribe},
                   {"command_line", o.command_line},
                   {"started_utc", utc_now()},
                   {"model_source", o.shape.source},
                   {"batch", o.batch},
                   {"prompt", o.prompt},
                   {"decode_steps", o.decode_steps},
                   {"sequence_parallel", o.sequence_parallel},
                   {"counts", counts_label(o.routing.counts, false)},
                   {"expert_placement", o.routing.domain_local ? "domain-local" : "spread"}};
    doc["rows"] = rows;
    write_whole(o.json_path, doc.dump(2) + "\n");
  }
  if (!o.csv_path.empty()) {
    std::string text;
    std::string sep;
    for (const auto& [k, v] : rows.front().items()) text += std::exchange(sep, ",") + k;
    text += "\n";
    for (const auto& row : rows) {
      sep.clear();
      for (const auto& [k, v] : row.items()) text += std::exchange(sep, ",") + csv_cell(v);
      text += "\n";
    }
    write_whole(o.csv_path, text);
  }
}

int run_inference(const InferenceOptions& o) {
  const CliFabric loaded = load_cli_fabric(o.fabric, o.sets, o.ranks_per_domain);
  const model::Fabric& f = loaded.fabric;
  const std::uint64_t rpd = loaded.ranks_per_domain;
  const std::vector<model::InferenceScale> scales = resolve_scales(o, f, rpd);
  try {
    check_outputs({o.csv_path, o.json_path}, o.force);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot write results: ") + e.what());
  }
  const std::string algo = model::default_algorithm(f);
  // Everything is priced before anything is printed or written.
  std::vector<ScaleResult> results;
  for (const auto& s : scales) try {
      auto pass = [&](double tokens) {
        return model::price_pass(f, model::forward_pass_calls(o.shape, s, tokens, rpd, o.sequence_parallel),
                                 algo, o.shape, o.routing);
      };
      results.push_back({s, pass(static_cast<double>(o.batch)), pass(static_cast<double>(o.prompt))});
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("scale {}x{}x{}: {}", s.tp, s.ep, s.pp, e.what()));
    }
  if (!o.quiet) print_results(o, f, algo, rpd, results);
  write_files(o, f, results);
  return 0;
}

class InferenceCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    CLI::App* c = app.add_subcommand(
        "inference", "Model inference communication: per decode step and per prefill, per op (no MPI)");
    add_fabric_options(c, o_.fabric, o_.sets);
    std::string names;
    for (const auto& p : model::model_presets()) names += (names.empty() ? "" : ", ") + p.name;
    c->add_option("--preset", preset_, "a model shape: " + names)->option_text("NAME");
    c->add_option("--layers", layers_, "transformer layers (overrides the preset)")->option_text("N");
    c->add_option("--hidden", hidden_, "hidden size (overrides the preset)")->option_text("N");
    c->add_option("--dtype-bytes", dtype_, "bytes per activation element sent (default 2: bf16)")
        ->option_text("N");
    c->add_option("--experts", experts_, "routed experts per MoE layer; 0: dense (overrides the preset)")
        ->option_text("N");
    c->add_option("--top-k", top_k_, "experts per token (MoE)")->option_text("N");
    c->add_option("--dense-layers", dense_, "MoE model: layers with a dense MLP instead of experts")
        ->option_text("N");
    c->add_option("--scale", scale_text_,
                  "scales TPxEPxPP, comma-separated: 8x1x1,8x1x2,1x64x1 (default: one domain, doubling; "
                  "docs/inference.md)")
        ->option_text("LIST");
    c->add_option(
        "--gpus", gpus_text_,
        "scales as GPU counts: dense TP over a domain then PP; MoE EP over all (docs/inference.md)");
    c->add_option("--ranks-per-domain", rpd_text_,
                  "GPUs of the instance per scale-up domain (default: the domain)");
    c->add_flag("--sequence-parallel", o_.sequence_parallel,
                "TP with sequence parallelism: reduce-scatter + all-gather instead of all-reduce");
    c->add_option("--batch", batch_text_, "decode: sequences per attention group (default 1)")
        ->option_text("N");
    c->add_option("--prompt", prompt_text_, "prefill: prompt tokens of a request (default 2048)")
        ->option_text("N");
    c->add_option("--decode-steps", steps_text_, "tokens generated per request (default 256)")
        ->option_text("N");
    add_routing_options(c, routing_, "the EP exchange (dispatch, combine; docs/inference.md)");
    c->add_option("--csv", o_.csv_path, "write the table as CSV");
    c->add_option("--json", o_.json_path, "write the table as JSON");
    c->add_flag("--force", o_.force, "replace --csv/--json files that exist (refused otherwise)");
    c->add_flag("-q,--quiet", o_.quiet, "no table");
    return c;
  }

  void resolve(const std::string& command_line) override {
    o_.command_line = command_line;
    if (o_.fabric.empty()) throw UsageError("--fabric is required (fabricbench inference --help)");
    if (!preset_.empty()) {
      const model::ModelShape* p = model::find_model_preset(preset_);
      if (!p) {
        std::string names;
        for (const auto& q : model::model_presets()) names += (names.empty() ? "" : ", ") + q.name;
        throw UsageError("command line: preset: unknown model '" + preset_ + "' (known: " + names + ")");
      }
      o_.shape = *p;
    } else {
      o_.shape.name = "custom";
      if (layers_.empty() || hidden_.empty())
        throw UsageError("command line: give --preset, or --layers and --hidden");
    }
    bool custom = false;
    auto set = [&](const char* key, const std::string& text, std::uint64_t& field, std::uint64_t min) {
      if (text.empty()) return;
      field = whole(key, text, min);
      custom = true;
    };
    set("layers", layers_, o_.shape.layers, 1);
    set("hidden", hidden_, o_.shape.hidden, 1);
    set("dtype-bytes", dtype_, o_.shape.dtype_bytes, 1);
    set("experts", experts_, o_.shape.experts, 0);
    set("top-k", top_k_, o_.shape.top_k, 0);
    set("dense-layers", dense_, o_.shape.dense_layers, 0);
    if (o_.shape.experts == 0 && top_k_.empty()) o_.shape.top_k = 0;  // --experts 0 on an MoE preset: dense
    if (o_.shape.experts == 0 && dense_.empty()) o_.shape.dense_layers = 0;
    if (custom && !preset_.empty()) o_.shape.name = preset_ + " (modified)";
    try {
      model::check_shape(o_.shape);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("command line: ") + e.what());
    }
    const CliRouting routing = resolve_routing(routing_);
    o_.routing.counts = routing.counts;
    o_.routing.domain_local = routing.domain_local;
    if (!o_.shape.moe() && !o_.routing.all_to_all())
      throw UsageError(
          "command line: counts/expert-placement: the EP exchange's routing, given for a dense "
          "model (experts 0)");
    for (const auto& item : comma_list(scale_text_)) o_.scales.push_back(parse_scale(item));
    for (const auto& item : comma_list(gpus_text_)) o_.gpus.push_back(whole("gpus", item, 1));
    if (!rpd_text_.empty()) o_.ranks_per_domain = whole("ranks-per-domain", rpd_text_, 1);
    if (!batch_text_.empty()) o_.batch = whole("batch", batch_text_, 1);
    if (!prompt_text_.empty()) o_.prompt = whole("prompt", prompt_text_, 1);
    if (!steps_text_.empty()) o_.decode_steps = whole("decode-steps", steps_text_, 0);
    if (!o_.csv_path.empty() && o_.csv_path == o_.json_path)
      throw UsageError("command line: --csv and --json name the same file '" + o_.csv_path + "'");
  }

  int run() override { return run_inference(o_); }

 private:
  InferenceOptions o_;
  RoutingTexts routing_;
  std::string preset_, scale_text_, gpus_text_, rpd_text_, batch_text_, prompt_text_, steps_text_;
  std::string layers_, hidden_, dtype_, experts_, top_k_, dense_;  // "" when not given
};

}  // namespace

std::unique_ptr<Command> make_inference_command() {
  return std::make_unique<InferenceCommand>();
}

}  // namespace fb
