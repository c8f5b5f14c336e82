#include "harness/interrupt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace fb {

namespace {

int g_pipe[2] = {-1, -1};
struct sigaction g_old_int, g_old_term;

// Async-signal-safe: one byte naming the signal into the pipe the guard's thread reads.
void on_signal_handler(int sig) {
  const int saved = errno;
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &b, 1);
  errno = saved;
}

}  // namespace

InterruptGuard::InterruptGuard(std::function<void(const std::string&)> on_signal,
                               std::chrono::milliseconds linger)
    : on_signal_(std::move(on_signal)), linger_(linger) {
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
    return;  // no guard: the default actions stay
  }
  thread_ = std::thread([this] {
    unsigned char b = 0;
    while (::read(g_pipe[0], &b, 1) < 0 && errno == EINTR) {
    }
    if (b == 0) return;  // the destructor's wake-up: the run ended normally
    const int sig = b;
    on_signal_(sig == SIGINT ? "interrupted (SIGINT)" : "interrupted (SIGTERM)");
    std::this_thread::sleep_for(linger_);
    std::_Exit(128 + sig);
  });
  struct sigaction sa {};
  sa.sa_handler = on_signal_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  if (g_pipe[1] < 0) return;
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  const unsigned char zero = 0;
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &zero, 1);
  if (thread_.joinable()) thread_.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace fb
