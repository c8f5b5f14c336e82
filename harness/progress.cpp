#include "harness/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace fb {

namespace {
std::string clock_text(double s) {
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", t / 60, t % 60);
  return buf;
}
}  // namespace

Progress::Progress(int mode, double total_work, int total_rows)
    : enabled_(mode == on || (mode == tty && isatty(STDERR_FILENO))),
      total_(total_work),
      rows_(total_rows),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  clear();
}

double Progress::weight(unsigned long long bytes, int ops) {
  return static_cast<double>(ops) * (1.0 + static_cast<double>(bytes) / 65536.0);
}

void Progress::start_row(const std::string& what) {
  if (!enabled_) return;
  ++row_;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string left = "?";
  if (done_ > 0 && total_ > done_) left = "~" + clock_text(elapsed * (total_ - done_) / done_);
  std::fprintf(stderr, "\r\033[K[%d/%d] %s  elapsed %s  left %s", row_, rows_, what.c_str(),
               clock_text(elapsed).c_str(), left.c_str());
  std::fflush(stderr);
}

void Progress::finish_row(double weight) {
  done_ += weight;
}

void Progress::clear() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace fb
