// The watchdog: ends a job whose ops stopped making progress, and says where.
//
// Every rank runs a thread that watches a progress counter the runner bumps after each sample
// or op. Ranks keep a TCP side channel to rank 0 (opened at start, idle until needed), so the
// diagnosis never depends on the MPI library that may be the thing that hung. When any rank sees
// no progress for `timeout` seconds it tells rank 0; rank 0 asks every rank where it is, waits up
// to two seconds for answers, prints one line naming the op, the size and the ranks that had not
// finished (and those that did not answer: stopped or dead, and the network links a rank's host
// lost since the start: a pulled cable), runs the abort hook (sinks record status "timeout"; the
// command may print its last word from the WatchdogReport), and ends the job with exit code 3. If the side
// channel cannot be set up, a rank falls back to reporting only itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transports/world.hpp"

namespace fb {

// What the watchdog knew when it ended the job, for the command's last word (validate's verdict).
struct WatchdogReport {
  std::string status;        // "timeout" (a hang) or "error" (a peer died)
  std::string message;       // the line it printed
  std::string phase;         // what most of the stalled ranks were doing
  std::vector<int> in_op;    // stalled inside an op
  std::vector<int> waiting;  // stalled in a harness wait for peers (gather, barrier)
  std::vector<int> silent;   // did not answer over the side channel: stopped, dead or cut off
  // Ranks whose host lost a network link since the start (an interface's carrier, an InfiniBand
  // port leaving ACTIVE): rank -> "fab0,mlx5_0/1".
  std::map<int, std::string> lost_links;
};

class Watchdog {
 public:
  // Collective: every rank constructs it with the same timeout. timeout_s <= 0: inert.
  // on_abort(report) runs on the rank that ends the job, just before it does: report.status is
  // "timeout" for a hang and "error" for a peer that died.
  Watchdog(transports::World& world, double timeout_s, std::function<void(const WatchdogReport&)> on_abort);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The runner names what it is doing (e.g. "allreduce 64M float32 out-of-place: timed
  // samples") and bumps progress() as ops complete. `waiting`: a harness wait for peers (a
  // gather, the final barrier), where a long stall alone is not a hang unless every rank stalls.
  void enter(const std::string& phase, bool waiting = false);
  std::atomic<std::uint64_t>* progress() { return &progress_; }

  // Collective, at the normal end of the run: close the side channel without raising alarms.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> progress_{0};
};

}  // namespace fb
