// The watchdog: ends a job whose ops stopped making progress, and says where.
//
// Every rank runs a thread that watches a progress counter the runner bumps after each sample
// or op. Ranks keep a TCP side channel to rank 0 (opened at start, idle until needed), so the
// diagnosis never depends on the MPI library that may be the thing that hung. When any rank sees
// no progress for `timeout` seconds it tells rank 0; rank 0 asks every rank where it is, waits up
// to two seconds for answers, prints one line naming the op, the size and the ranks that had not
// finished (and those that did not answer: stopped or dead), runs the abort hook (sinks record
// status "timeout"), and ends the job with exit code 3. If the side channel cannot be set up, a
// rank falls back to reporting only itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "transports/world.hpp"

namespace fb {

class Watchdog {
 public:
  // Collective: every rank constructs it with the same timeout. timeout_s <= 0: inert.
  // on_abort(status) runs on the rank that ends the job, just before it does: status is
  // "timeout" for a hang and "error" for a peer that died.
  Watchdog(transports::World& world, double timeout_s, std::function<void(const std::string&)> on_abort);
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
