#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "collectives/error.hpp"
#include "harness/sink.hpp"

namespace fb {

void check_outputs(const std::vector<std::string>& paths, bool force) {
  namespace fs = std::filesystem;
  if (!force)
    for (const std::string& path : paths) {
      std::error_code ec;
      if (!path.empty() && fs::exists(path, ec)) throw UsageError("'" + path + "' exists (use --force to replace it)");
    }
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    std::error_code ec;
    const fs::path p(path);
    if (fs::is_directory(p, ec)) throw std::runtime_error("'" + path + "' is a directory");
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (!fs::is_directory(dir, ec))
      throw std::runtime_error("'" + path + "': no such directory '" + dir.string() + "'");
    // The JSON file is written beside its target and renamed over it: the directory must take files.
    if (::access(dir.c_str(), W_OK | X_OK) != 0 || (fs::exists(p, ec) && ::access(path.c_str(), W_OK) != 0))
      throw std::runtime_error("'" + path + "': " + std::strerror(errno));
  }
}

}  // namespace fb
