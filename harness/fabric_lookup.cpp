// Fabric files by name or path, for the commands' --fabric and --base (harness/fabric_lookup.hpp).
#include "harness/fabric_lookup.hpp"

#include <filesystem>
#include <stdexcept>

#include "harness/data_lookup.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace fs = std::filesystem;

std::string find_fabric_file(const std::string& name) {
  const std::string path = find_data_file(DataKind::fabric, name);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw UsageError("fabric: no such file '" + name + "'");
  return path;
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
