#include "harness/inventory_diff.hpp"

#include <filesystem>
#include <fstream>
#include <map>

namespace fb {

namespace {

using json = nlohmann::ordered_json;

void flatten(const json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      if (k != "host") flatten(v, path.empty() ? k : path + "." + k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out[path] = j.is_string() ? "'" + j.get<std::string>() + "'" : j.dump();
  }
}

// Nothing (null) for anything that is not a readable JSON results file: compare itself reports
// bad inputs (a directory, a missing file) with its own one-line error and exit code 2.
json inventory_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  const json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("meta") || !doc["meta"].is_object())
    return nullptr;
  const json& meta = doc["meta"];
  return meta.contains("inventory") && meta["inventory"].is_object() ? meta["inventory"] : json(nullptr);
}

}  // namespace

std::vector<std::string> inventory_differences(const json& base, const json& cand) {
  std::map<std::string, std::string> a, b;
  flatten(base, "", a);
  flatten(cand, "", b);
  std::vector<std::string> out;
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      out.push_back(ia->first + ": " + ia->second + " -> (absent)");
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      out.push_back(ib->first + ": (absent) -> " + ib->second);
      ++ib;
    } else {
      if (ia->second != ib->second) out.push_back(ia->first + ": " + ia->second + " -> " + ib->second);
      ++ia;
      ++ib;
    }
  }
  return out;
}

void warn_inventory_differences(const std::string& base_path, const std::string& cand_path, std::ostream& err,
                                std::size_t max_lines) {
  const json base = inventory_of(base_path), cand = inventory_of(cand_path);
  if (base.is_null() || cand.is_null()) return;
  const auto diffs = inventory_differences(base, cand);
  if (diffs.empty()) return;
  err << "fabricbench: warning: base and candidate ran on different systems (meta.inventory, " << diffs.size()
      << (diffs.size() == 1 ? " difference" : " differences") << "):\n";
  for (std::size_t i = 0; i < diffs.size() && i < max_lines; ++i)
    err << "fabricbench:   " << diffs[i] << '\n';
  if (diffs.size() > max_lines) err << "fabricbench:   ... and " << diffs.size() - max_lines << " more\n";
  err << std::flush;
}

}  // namespace fb
