#include "harness/results_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/record_fields.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

using nlohmann::json;

// Columns newer than schema version 1's first files, absent from those (a column added to
// harness/record_fields.hpp's table is named here too).
bool optional_column(const std::string& name) {
  return name.rfind("model_", 0) == 0 || name == "msg_rate_Mps" || name == "timing" || name == "cycle" ||
         name == "max_rank_bytes" || name == "load_imbalance" || name == "group" || name == "group_size" ||
         name == "ngroups" || name == "total_bytes" || name == "counts" || name == "tokens_per_s";
}

[[noreturn]] void bad(const std::string& where, const std::string& why) {
  throw UsageError(where + ": " + why);
}

// A file of a newer (or nonsensical) schema is refused, not read as if it were this one.
void check_schema_version(const std::string& where, long long v, const std::string& shown) {
  if (v < 1 || v > kSchemaVersion)
    bad(where, "schema_version " + shown + " is not one this fabricbench knows (it reads version " +
                   std::to_string(kSchemaVersion) + ")");
}

// Parse text into one field; `where` names the place for errors.
void set_from_text(const FieldRef& ref, const std::string& text, const std::string& where) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          *p = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "1" || text == "true")
            *p = true;
          else if (text == "0" || text == "false")
            *p = false;
          else
            bad(where, "expected 0 or 1, got '" + text + "'");
        } else if constexpr (std::is_same_v<T, std::optional<double>>) {
          if (text.empty()) {
            p->reset();
          } else {
            double d = 0;
            auto [e, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
            if (ec != std::errc() || e != text.data() + text.size() || !std::isfinite(d))
              bad(where, "expected a number, got '" + text + "'");
            *p = d;
          }
        } else {
          T v{};
          auto [e, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec != std::errc() || e != text.data() + text.size() || text.empty())
            bad(where, std::string("expected ") +
                           (std::is_floating_point_v<T> ? "a number" : "a whole number") + ", got '" + text +
                           "'");
          if constexpr (std::is_floating_point_v<T>)
            if (!std::isfinite(v)) bad(where, "expected a finite number, got '" + text + "'");
          *p = v;
        }
      },
      ref);
}

void set_from_json(const FieldRef& ref, const json& v, const std::string& where) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (v.is_null())
            *p = "";
          else if (v.is_string())
            *p = v.get<std::string>();
          else
            bad(where, "expected a string");
        } else if constexpr (std::is_same_v<T, bool>) {
          if (v.is_boolean())
            *p = v.get<bool>();
          else if (v.is_number_integer() && (v.get<int>() == 0 || v.get<int>() == 1))
            *p = v.get<int>() == 1;
          else
            bad(where, "expected true or false");
        } else if constexpr (std::is_same_v<T, std::optional<double>>) {
          if (v.is_null())
            p->reset();
          else if (v.is_number())
            *p = v.get<double>();
          else
            bad(where, "expected a number or null");
        } else if constexpr (std::is_floating_point_v<T>) {
          if (!v.is_number()) bad(where, "expected a number");
          *p = v.get<T>();
        } else {
          if (!v.is_number_integer()) bad(where, "expected a whole number");
          if constexpr (std::is_unsigned_v<T>)
            if (v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() < 0)
              bad(where, "expected a non-negative whole number");
          // get<T>() would wrap a value T cannot hold (nranks 4294967298 read as 2).
          constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
          bool fits = false;
          if (v.is_number_unsigned()) {
            fits = v.get<std::uint64_t>() <= max;
          } else {
            const auto i = v.get<std::int64_t>();
            if constexpr (std::is_unsigned_v<T>)
              fits = i >= 0 && static_cast<std::uint64_t>(i) <= max;
            else
              fits = i >= std::numeric_limits<T>::min() && (i < 0 || static_cast<std::uint64_t>(i) <= max);
          }
          if (!fits) bad(where, "whole number out of range, got " + v.dump());
          *p = v.get<T>();
        }
      },
      ref);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 4180 split of one logical line (no embedded newlines in fabricbench's own output).
std::vector<std::string> split_csv(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      if (!cur.empty()) bad(where, "a quote inside an unquoted field");
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) bad(where, "unterminated quoted field");
  (void)was_quoted;
  out.push_back(cur);
  return out;
}

ResultsFile read_csv(const std::string& path, const std::string& text) {
  ResultsFile f;
  f.path = path;
  f.format = "csv";
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::vector<std::string> header;
  std::vector<int> slot_of;         // column -> slot index, -1 ignored
  std::vector<bool> provenance_at;  // column -> a provenance column
  Record proto;
  const auto slots = record_slots(proto);
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = path + ":" + std::to_string(lineno);
    if (header.empty()) {
      if (line.empty()) bad(where, "empty file: expected a header line");
      header = split_csv(line, where);
      std::set<std::string> seen(header.begin(), header.end());
      for (const auto& s : slots)
        if (!seen.count(s.name) && !optional_column(s.name))
          bad(where, std::string("missing column '") + s.name + "'");
      for (const auto& h : header) {
        int idx = -1;
        for (std::size_t k = 0; k < slots.size(); ++k)
          if (h == slots[k].name) idx = static_cast<int>(k);
        slot_of.push_back(idx);
        provenance_at.push_back(is_provenance_column(h));
      }
      continue;
    }
    if (line.empty()) continue;
    const auto fields = split_csv(line, where);
    if (fields.size() != header.size())
      bad(where, "expected " + std::to_string(header.size()) + " fields, got " +
                     std::to_string(fields.size()) + " (truncated or malformed line)");
    Record r;
    auto rs = record_slots(r);
    Provenance p;
    for (std::size_t c = 0; c < fields.size(); ++c) {
      // An optional column left empty (a file from another tool) keeps the field's default.
      if (slot_of[c] >= 0 && !(fields[c].empty() && optional_column(header[c])))
        set_from_text(rs[slot_of[c]].ref, fields[c], where + ": column '" + header[c] + "'");
      if (provenance_at[c]) set_provenance(p, header[c], fields[c], where + ": column '" + header[c] + "'");
    }
    if (std::find(provenance_at.begin(), provenance_at.end(), true) != provenance_at.end())
      f.provenance.push_back(std::move(p));
    if (f.schema_version == 0) {
      check_schema_version(where, r.schema_version, std::to_string(r.schema_version));
      f.schema_version = r.schema_version;
    } else if (r.schema_version != f.schema_version)
      bad(where, "schema_version changes within the file");
    f.rows.push_back(std::move(r));
  }
  if (header.empty()) bad(path + ":1", "empty file: expected a header line");
  if (f.schema_version == 0) f.schema_version = kSchemaVersion;
  return f;
}

std::string line_of(const std::string& text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return std::to_string(line);
}

// Byte offsets of the elements of the top-level "rows" array, found by a small scan that skips
// strings, so errors in a row can name its line (the parsed JSON keeps no positions).
std::vector<std::size_t> row_offsets(const std::string& text) {
  std::vector<std::size_t> out;
  int depth = 0;
  bool in_rows = false;  // inside the top-level "rows" array
  std::string last_key;  // the last string seen at depth 1
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const std::size_t start = ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (depth == 1) last_key = text.substr(start, i - start);
      continue;
    }
    if (c == '{' || c == '[') {
      if (in_rows && depth == 2 && c == '{') out.push_back(i);
      ++depth;
      if (depth == 2 && c == '[' && last_key == "rows") in_rows = true;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == 1) in_rows = false;
    }
  }
  return out;
}

// The parsed document; a syntax error names its line.
json parse_json_text(const std::string& path, const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    bad(path + ":" + line_of(text, e.byte), std::string("invalid JSON: ") + e.what());
  } catch (const json::exception& e) {
    // Not a syntax error but a value the parser rejects, e.g. out_of_range.406 "number overflow
    // parsing '1e400'". It has no byte offset: the quoted token's first place in the text gives the line.
    const std::string what = e.what();
    const std::size_t open = what.find('\''), close = what.rfind('\'');
    const std::size_t at =
        open < close ? text.find(what.substr(open + 1, close - open - 1)) : std::string::npos;
    bad(path + ":" + (at == std::string::npos ? "1" : line_of(text, at)), "invalid JSON: " + what);
  }
}

// meta.host_memory. Written by fabricbench itself: a malformed probe is an error, not a silent zero.
HostMemoryProbe read_host_memory(const json& h, const std::string& path) {
  auto positive = [&](const char* k) {
    if (!h.contains(k) || !h[k].is_number() || !(h[k].get<double>() > 0))
      bad(path + ":1", std::string("meta.host_memory.") + k + " must be a positive number");
    return h[k].get<double>();
  };
  HostMemoryProbe p;
  p.bytes = static_cast<std::size_t>(positive("bytes"));
  p.copy_GBps = positive("copy_GBps");
  p.reduce_GBps = positive("reduce_GBps");
  p.ranks = static_cast<int>(positive("ranks"));
  if (h.contains("spilled_bytes")) {  // files from before the spilled probe lack all three
    p.spilled_bytes = static_cast<std::size_t>(positive("spilled_bytes"));
    p.copy_spilled_GBps = positive("copy_spilled_GBps");
    p.reduce_spilled_GBps = positive("reduce_spilled_GBps");
  }
  return p;
}

// The "meta" object: fields of the wrong type are left unset, except host_memory's.
void read_json_meta(const json& m, const std::string& path, RunMeta& meta) {
  auto str = [&](const char* k) { return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : ""; };
  auto strs = [&](const char* k) {
    std::vector<std::string> v;
    if (m.contains(k) && m[k].is_array())
      for (const auto& x : m[k])
        if (x.is_string()) v.push_back(x.get<std::string>());
    return v;
  };
  meta.fabricbench_version = str("fabricbench_version");
  meta.git_describe = str("git_describe");
  meta.command_line = str("command_line");
  meta.started_utc = str("started_utc");
  meta.mpi_library = str("mpi_library");
  meta.backend_versions = strs("backend_versions");
  meta.hosts = strs("hosts");
  meta.rank_hosts = strs("rank_hosts");
  auto integer = [&](const char* k, int& out) {
    if (m.contains(k) && m[k].is_number_integer()) out = m[k].get<int>();
  };
  integer("nranks", meta.nranks);
  integer("nnodes", meta.nnodes);
  integer("ranks_per_node", meta.ranks_per_node);
  if (m.contains("environment") && m["environment"].is_object())
    for (const auto& [k, v] : m["environment"].items())
      if (v.is_string()) meta.environment[k] = v.get<std::string>();
  if (m.contains("host_memory") && m["host_memory"].is_object())
    meta.host_memory = read_host_memory(m["host_memory"], path);
  if (m.contains("stages") && m["stages"].is_array())
    for (const auto& s : m["stages"]) {
      if (!s.is_object()) continue;
      StageMeta st;
      auto text = [&](const char* k) {
        return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : "";
      };
      auto number = [&](const char* k, int fallback) {
        return s.contains(k) && s[k].is_number_integer() ? s[k].get<int>() : fallback;
      };
      st.label = text("label");
      st.nranks = number("nranks", 0);
      st.ranks = text("ranks");
      st.group = text("group");
      st.ngroups = number("ngroups", 1);
      st.group_size = number("group_size", 0);
      if (s.contains("backends") && s["backends"].is_array())
        for (const auto& b : s["backends"])
          if (b.is_string()) st.backends.push_back(b.get<std::string>());
      meta.stages.push_back(std::move(st));
    }
}

// One element of "rows" (`where` names it): its record, and its provenance columns into `p`
// (returns whether it had any).
bool read_json_row(const json& row, const std::string& where, int schema_version, Record& r, Provenance& p) {
  if (!row.is_object()) bad(where, "expected an object");
  for (const auto& s : record_slots(r)) {
    if (!row.contains(s.name)) {
      if (optional_column(s.name) || std::string(s.name) == "schema_version") continue;
      bad(where, std::string("missing field '") + s.name + "'");
    }
    set_from_json(s.ref, row[s.name], where + "." + s.name);
  }
  r.schema_version = schema_version;
  bool has_provenance = false;
  for (const auto& name : provenance_columns()) {
    if (!row.contains(name) || row[name].is_null()) continue;
    const json& v = row[name];
    if (!v.is_string() && !v.is_number_integer()) bad(where + "." + name, "expected a string");
    set_provenance(p, name, v.is_string() ? v.get<std::string>() : v.dump(), where + "." + name);
    has_provenance = true;
  }
  if (row.contains("samples_us")) {
    if (!row["samples_us"].is_array()) bad(where + ".samples_us", "expected an array of numbers");
    for (const auto& v : row["samples_us"]) {
      if (!v.is_number()) bad(where + ".samples_us", "expected an array of numbers");
      r.samples_us.push_back(v.get<double>());
    }
  }
  return has_provenance;
}

ResultsFile read_json(const std::string& path, const std::string& text) {
  ResultsFile f;
  f.path = path;
  f.format = "json";
  const json doc = parse_json_text(path, text);
  if (!doc.is_object()) bad(path + ":1", "expected a JSON object with schema_version, meta and rows");
  if (!doc.contains("schema_version") || !doc["schema_version"].is_number_integer())
    bad(path + ":1", "missing or non-integer schema_version");
  const json& version = doc["schema_version"];
  check_schema_version(path + ":1",
                       version.is_number_unsigned() && version.get<std::uint64_t>() > kSchemaVersion
                           ? std::numeric_limits<long long>::max()
                           : version.get<long long>(),
                       version.dump());
  f.schema_version = version.get<int>();
  if (!doc.contains("rows") || !doc["rows"].is_array()) bad(path + ":1", "missing 'rows' array");
  if (doc.contains("status") && doc["status"].is_string()) f.status = doc["status"].get<std::string>();
  if (doc.contains("meta") && doc["meta"].is_object()) {
    f.has_meta = true;
    read_json_meta(doc["meta"], path, f.meta);
  }
  std::size_t i = 0;
  bool has_provenance = false;
  const std::vector<std::size_t> offsets = row_offsets(text);
  for (const json& row : doc["rows"]) {
    const std::string line = i < offsets.size() ? line_of(text, offsets[i]) : "1";
    const std::string where = path + ":" + line + ": rows[" + std::to_string(i) + "]";
    ++i;
    Record r;
    Provenance p;
    if (read_json_row(row, where, f.schema_version, r, p)) has_provenance = true;
    f.provenance.push_back(std::move(p));
    f.rows.push_back(std::move(r));
  }
  if (!has_provenance) f.provenance.clear();
  return f;
}

}  // namespace

ResultsFile read_results(const std::string& path) {
  return parse_results(read_file(path), path);
}

ResultsFile parse_results(const std::string& text, const std::string& path) {
  std::size_t k = 0;
  while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
  if (k == text.size()) bad(path + ":1", "empty file");
  // A CSV header starts with a column name; '[' is JSON too (refused by read_json: not an object).
  return text[k] == '{' || text[k] == '[' ? read_json(path, text) : read_csv(path, text);
}

bool is_validate_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string first;
  return in && std::getline(in, first) && first == kValidateMatrixHeader;
}

ValidateMatrix read_validate_matrix(const std::string& path) {
  const std::string text = read_file(path);
  ValidateMatrix m;
  m.path = path;
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> header;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    const std::string where = path + ":" + std::to_string(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n == 1) {
      if (line != kValidateMatrixHeader) bad(where, "not a validate pair matrix (its header differs)");
      header = split_csv(line, where);
      continue;
    }
    if (line.empty()) continue;
    const auto f = split_csv(line, where);
    if (f.size() != header.size())
      bad(where, "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(f.size()));
    auto field = [&](const char* name) -> const std::string& {
      return f[static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin())];
    };
    auto rank = [&](const char* name) {
      const std::string& t = field(name);
      const auto v = parse_integer(t);
      if (!v || *v < 0 || *v > (1 << 24))
        bad(where, std::string(name) + ": expected a rank, got '" + t + "'");
      return static_cast<int>(*v);
    };
    auto ratio = [&](const char* name) {
      const std::string& t = field(name);
      if (t.empty()) return -1.0;
      const auto v = parse_number(t);
      if (!v || *v < 0) bad(where, std::string(name) + ": expected a ratio >= 0, got '" + t + "'");
      return *v;
    };
    MatrixPair p;
    p.a = rank("rank_a");
    p.b = rank("rank_b");
    p.host_a = field("host_a");
    p.host_b = field("host_b");
    p.transport = field("transport");
    p.verdict = field("verdict");
    p.bw_verdict = field("bw_verdict");
    p.lat_verdict = field("lat_verdict");
    p.bw_ratio = ratio("bw_ratio");
    p.lat_ratio = ratio("lat_ratio");
    m.nranks = std::max({m.nranks, p.a + 1, p.b + 1});
    if (m.hosts.size() < static_cast<std::size_t>(m.nranks))
      m.hosts.resize(static_cast<std::size_t>(m.nranks));
    m.hosts[static_cast<std::size_t>(p.a)] = p.host_a;
    m.hosts[static_cast<std::size_t>(p.b)] = p.host_b;
    m.pairs.push_back(std::move(p));
  }
  if (n == 0) bad(path + ":1", "empty file");
  if (m.pairs.empty()) bad(path + ":2", "no pairs in the matrix");
  return m;
}

}  // namespace fb
