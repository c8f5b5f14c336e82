#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "harness/sinks/sink.hpp"
#include "vocab/error.hpp"

namespace fb {

void check_outputs(const std::vector<std::string>& paths, bool force) {
  namespace fs = std::filesystem;
  if (!force)
    for (const std::string& path : paths) {
      std::error_code ec;
      if (!path.empty() && fs::exists(path, ec))
        throw UsageError("'" + path + "' exists (use --force to replace it)");
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

void FileSinks::remove() const {
  for (const auto& p : created) ::unlink(p.c_str());
}

FileSinks open_file_sinks(const std::string& csv_path, const std::string& json_path, bool force,
                          const std::vector<std::string>& also) {
  std::vector<std::string> all{csv_path, json_path};
  all.insert(all.end(), also.begin(), also.end());
  check_outputs(all, force);
  FileSinks out;
  try {
    if (!csv_path.empty()) {
      out.sinks.push_back(make_csv_sink(csv_path));
      out.created.push_back(csv_path);
    }
    if (!json_path.empty()) {
      out.sinks.push_back(make_json_sink(json_path));
      out.created.push_back(json_path);
    }
  } catch (...) {
    out.remove();
    throw;
  }
  return out;
}

}  // namespace fb
