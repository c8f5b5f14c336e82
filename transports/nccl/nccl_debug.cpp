#include "transports/nccl/nccl_debug.hpp"

#include <nccl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace fb::transports {

NcclDebugLog::NcclDebugLog(const std::string& host) {
  const char* level = std::getenv("NCCL_DEBUG");
  const bool set_level = level == nullptr;
  if (set_level) {
    ::setenv("NCCL_DEBUG", "INFO", 1);
    if (!std::getenv("NCCL_DEBUG_SUBSYS")) {
      ::setenv("NCCL_DEBUG_SUBSYS", nccl_log::kSubsystems, 1);
      own_subsys_ = true;
    }
  } else {
    std::string l = level;
    for (auto& ch : l) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (l != "INFO" && l != "TRACE") return;  // the user turned NCCL's log down: nothing to read
  }
  if (const char* f = std::getenv("NCCL_DEBUG_FILE")) {
    path_ = nccl_log::expand_debug_file(f, host, static_cast<long>(::getpid()));
  } else {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/fabricbench-nccl." + host + "." +
            std::to_string(::getpid()) + ".log";
    ::setenv("NCCL_DEBUG_FILE", path_.c_str(), 1);
    owns_file_ = set_level;  // the user's own NCCL_DEBUG=INFO log is kept for them
  }
}

NcclDebugLog::~NcclDebugLog() {
  if (!owns_file_ || path_.empty()) return;
  if (warned_)
    std::fprintf(stderr, "nccl: NCCL warned; its log is kept: %s\n", path_.c_str());
  else
    ::unlink(path_.c_str());
}

std::vector<std::string> NcclDebugLog::new_lines() {
  std::vector<std::string> out;
  if (path_.empty()) return out;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return out;
  // NCCL reopens (truncates) its file when its log settings are reloaded.
  if (static_cast<std::size_t>(st.st_size) < offset_) offset_ = 0;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return out;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a partial last line: read it next time
    offset_ += line.size() + 1;
    out.push_back(line);
  }
  names_.learn(out);
  for (const auto& w : nccl_log::warnings(out)) {
    std::fprintf(stderr, "%s\n", w.c_str());
    warned_ = true;
  }
  return out;
}

void NcclDebugLog::tuning(bool on) {
  if (!own_subsys_) return;
  new_lines();  // what was written before the file is reopened
  ::setenv("NCCL_DEBUG_SUBSYS", on ? nccl_log::kTuningSubsystems : nccl_log::kSubsystems, 1);
  // NCCL's declared (deprecated) way to reload NCCL_DEBUG*; it reopens NCCL_DEBUG_FILE.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  ncclResetDebugInit();
#pragma GCC diagnostic pop
}

}  // namespace fb::transports
