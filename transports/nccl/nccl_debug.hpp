// NCCL's INFO log as the nccl backend uses it: set up before the first NCCL call (NCCL_DEBUG=INFO
// into a private NCCL_DEBUG_FILE unless the user chose otherwise), read in batches of new lines,
// WARN lines echoed to stderr (and the private log kept when any appeared), TUNING switched on
// only around the untimed op that learns the algo column (one line per collective costs 1-3 us
// inside a timed loop otherwise).
#pragma once

#include <string>
#include <vector>

#include "transports/nccl/nccl_log.hpp"

namespace fb::transports {

class NcclDebugLog {
 public:
  // Call before any NCCL call of the process. `host` is gethostname() cut as NCCL cuts it (%h).
  explicit NcclDebugLog(const std::string& host);
  ~NcclDebugLog();
  NcclDebugLog(const NcclDebugLog&) = delete;
  NcclDebugLog& operator=(const NcclDebugLog&) = delete;

  // Lines appended since the last call; NCCL's NIC list is learnt from them, WARN lines echoed.
  std::vector<std::string> new_lines();
  const nccl_log::NetNames& names() const { return names_; }
  // Whether per-collective TUNING lines can be switched on and off (our own log at INFO).
  bool can_tune() const { return own_subsys_; }
  // TUNING on or off (NCCL reloads its log settings: ncclResetDebugInit).
  void tuning(bool on);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owns_file_ = false;   // our private file, deleted at the end unless NCCL warned
  bool own_subsys_ = false;  // NCCL_DEBUG_SUBSYS is ours to change
  bool warned_ = false;
  std::size_t offset_ = 0;
  nccl_log::NetNames names_;
};

}  // namespace fb::transports
