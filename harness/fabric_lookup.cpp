// Fabric files by name or path, for the commands' --fabric and --base (harness/fabric_lookup.hpp).
#include "harness/fabric_lookup.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "vocab/error.hpp"

namespace fb {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> fabric_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("FABRICBENCH_CONFIGS")) dirs.push_back(fs::path(env) / "fabrics");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    // build tree (build/fabricbench, build/bench/...) and install tree (bin/ -> share/fabricbench/).
    for (const fs::path& p :
         {bin.parent_path() / "configs" / "fabrics", bin.parent_path().parent_path() / "configs" / "fabrics",
          bin.parent_path() / "share" / "fabricbench" / "configs" / "fabrics"})
      dirs.push_back(p);
  }
  return dirs;
}

}  // namespace

std::string find_fabric_file(const std::string& name) {
  std::error_code ec;
  if (name.find('/') != std::string::npos || fs::is_regular_file(name, ec)) {
    if (!fs::is_regular_file(name, ec)) throw UsageError("fabric: no such file '" + name + "'");
    return name;
  }
  std::string searched;
  for (const fs::path& d : fabric_dirs()) {
    for (const std::string& file : {name, name + ".yaml"}) {
      const fs::path p = d / file;
      if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
    }
    searched += (searched.empty() ? "" : ", ") + d.lexically_normal().string();
  }
  throw UsageError("fabric: '" + name + "' is neither a file nor a fabric in " + searched);
}

model::Fabric load_fabric_for_cli(const std::string& name_or_path, const std::vector<std::string>& sets) {
  const std::string path = find_fabric_file(name_or_path);
  try {
    return model::load_fabric(path, sets);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace fb
