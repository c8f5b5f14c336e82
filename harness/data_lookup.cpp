// Where fabricbench finds its data (harness/data_lookup.hpp).
#include "harness/data_lookup.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "vocab/error.hpp"

// The configured install tree's data directory and the source tree, compiled in (CMakeLists.txt
// sets them on this file only).
#ifndef FB_DATA_INSTALL_DIR
#define FB_DATA_INSTALL_DIR ""
#endif
#ifndef FB_DATA_SOURCE_DIR
#define FB_DATA_SOURCE_DIR ""
#endif

namespace fb {

namespace fs = std::filesystem;

namespace {

struct KindInfo {
  const char* name;       // in messages
  const char* subdir;     // under a data root
  const char* extension;  // tried after the bare name
  const char* env;        // the kind's own variable
  const char* env_subdir;
  bool by_path;  // a name that is an existing file is taken as a path
};

const KindInfo& info(DataKind kind) {
  static const KindInfo kinds[] = {
      {"fabric", "configs/fabrics", ".yaml", "FABRICBENCH_CONFIGS", "fabrics", true},
      {"plan", "configs/plans", ".yaml", "FABRICBENCH_CONFIGS", "plans", true},
      {"reference", "configs/reference", ".csv", "FABRICBENCH_CONFIGS", "reference", true},
      {"plot script", "scripts", "", "FABRICBENCH_SCRIPTS", "", false},
  };
  return kinds[static_cast<int>(kind)];
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<std::string> split_path_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(':', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

const char* data_kind_name(DataKind kind) {
  return info(kind).name;
}

DataOrigins data_origins(DataKind kind) {
  const KindInfo& k = info(kind);
  DataOrigins o;
  o.data_path = env_or_empty("FABRICBENCH_DATA_PATH");
  if (const std::string dir = env_or_empty(k.env); !dir.empty())
    o.kind_dir = (fs::path(dir) / k.env_subdir).string();
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) o.exe_dir = exe.parent_path().string();
  o.install_dir = FB_DATA_INSTALL_DIR;
  o.source_dir = FB_DATA_SOURCE_DIR;
  return o;
}

std::vector<std::string> data_dirs(DataKind kind, const DataOrigins& o) {
  const KindInfo& k = info(kind);
  std::vector<fs::path> dirs;
  if (!o.kind_dir.empty()) dirs.emplace_back(o.kind_dir);
  std::vector<fs::path> roots;
  if (!o.data_path.empty()) {
    for (const auto& r : split_path_list(o.data_path)) roots.emplace_back(r);
  } else {
    if (!o.exe_dir.empty()) {
      const fs::path up = fs::path(o.exe_dir).parent_path();
      roots.push_back(up / "share" / "fabricbench");
      roots.push_back(up);
    }
    if (!o.install_dir.empty()) roots.emplace_back(o.install_dir);
    if (!o.source_dir.empty()) roots.emplace_back(o.source_dir);
  }
  for (const auto& r : roots) dirs.push_back(r / k.subdir);
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    std::string s = d.lexically_normal().string();
    if (s.size() > 1 && s.back() == '/') s.pop_back();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

std::string find_data_file(DataKind kind, const std::string& name, const DataOrigins& o) {
  const KindInfo& k = info(kind);
  std::error_code ec;
  if (k.by_path && (name.find('/') != std::string::npos || fs::is_regular_file(name, ec))) return name;
  if (name.empty()) throw UsageError(std::string(k.name) + ": empty name");
  const std::vector<std::string> dirs = data_dirs(kind, o);
  std::string searched;
  for (const auto& d : dirs) {
    for (const std::string& file : {name, name + k.extension}) {
      const fs::path p = fs::path(d) / file;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    searched += (searched.empty() ? "" : ", ") + d;
  }
  if (searched.empty()) searched = "no directory (the binary's own path is unknown)";
  throw UsageError(std::string(k.name) + ": '" + name + "' is neither a file nor a " + k.name + " in " +
                   searched);
}

std::string find_data_file(DataKind kind, const std::string& name) {
  return find_data_file(kind, name, data_origins(kind));
}

}  // namespace fb
