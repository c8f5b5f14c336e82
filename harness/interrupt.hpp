// SIGINT and SIGTERM during a run (Ctrl-C, scancel, mpirun forwarding SIGTERM to every rank when
// it is interrupted): the results files are closed with status "interrupted" — every completed row
// is already on disk, the JSON is rewritten complete with that status — and the process exits
// 128 + the signal number. Without this the default action ends the process with the JSON still
// saying "running".
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace fb {

class InterruptGuard {
 public:
  // `on_signal` runs on the guard's own thread (never in signal context) with the status text;
  // then, after `linger`, the process exits. Ranks other than rank 0 linger: the launcher kills the
  // whole job once one rank has exited, and rank 0 must have closed its files by then. Installs the
  // handlers; the previous ones come back on destruction.
  InterruptGuard(std::function<void(const std::string&)> on_signal, std::chrono::milliseconds linger);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  std::function<void(const std::string&)> on_signal_;
  std::chrono::milliseconds linger_;
  std::thread thread_;
};

}  // namespace fb
