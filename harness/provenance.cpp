#include "harness/provenance.hpp"

#include <algorithm>
#include <charconv>

#include "vocab/error.hpp"

namespace fb {

const std::vector<std::string>& provenance_columns() {
  static const std::vector<std::string> kColumns = {
      "ref",          "system",   "fabric", "fabric_set", "ranks_per_domain",
      "nccl_version", "citation", "trust",  "note"};
  return kColumns;
}

bool is_provenance_column(const std::string& name) {
  const auto& c = provenance_columns();
  return std::find(c.begin(), c.end(), name) != c.end();
}

void set_provenance(Provenance& p, const std::string& name, const std::string& text,
                    const std::string& where) {
  if (name == "ranks_per_domain") {
    int v = 0;
    auto [e, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!text.empty() && (ec != std::errc() || e != text.data() + text.size() || v < 0))
      throw UsageError(where + ": expected a whole number >= 0, got '" + text + "'");
    p.ranks_per_domain = v;
  } else if (name == "trust") {
    if (!text.empty() && text != "A" && text != "B" && text != "C")
      throw UsageError(where + ": expected A, B, C or nothing, got '" + text + "'");
    p.trust = text;
  } else {
    std::string* field = name == "ref"            ? &p.ref
                         : name == "system"       ? &p.system
                         : name == "fabric"       ? &p.fabric
                         : name == "fabric_set"   ? &p.fabric_set
                         : name == "nccl_version" ? &p.nccl_version
                         : name == "citation"     ? &p.citation
                         : name == "note"         ? &p.note
                                                  : nullptr;
    if (!field) throw UsageError(where + ": not a provenance column");
    *field = text;
  }
}

std::vector<std::string> fabric_sets(const Provenance& p) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : p.fabric_set + ";") {
    if (c == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

}  // namespace fb
