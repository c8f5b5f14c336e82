#include "harness/watchdog.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace fb {

namespace {

using clock_t_ = std::chrono::steady_clock;

double seconds_since(clock_t_::time_point t) {
  return std::chrono::duration<double>(clock_t_::now() - t).count();
}

// "0-3,5,7-8"
std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(ranks[i]);
    if (j > i) s += "-" + std::to_string(ranks[j]);
    i = j + 1;
  }
  return s;
}

bool send_line(int fd, const std::string& line) {
  std::string s = line + "\n";
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads available bytes; returns complete lines. false on EOF or error.
bool read_lines(int fd, std::string& buf, std::vector<std::string>& lines) {
  char tmp[4096];
  ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<std::size_t>(n));
  std::size_t pos;
  while ((pos = buf.find('\n')) != std::string::npos) {
    lines.push_back(buf.substr(0, pos));
    buf.erase(0, pos + 1);
  }
  return true;
}

int connect_with_timeout(const std::string& ip, int port, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
    ::close(fd);
    return -1;
  }
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
    } else {
      rc = -1;
    }
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, flags);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::vector<std::string> local_ipv4_addresses() {
  std::vector<std::string> out;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return out;
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof(buf));
    if (std::string(buf).rfind("127.", 0) == 0) continue;
    out.emplace_back(buf);
  }
  freeifaddrs(ifs);
  return out;
}

// The network links this host has now, and whether each is up: interfaces (loopback aside) up
// with a carrier (IFF_UP and IFF_RUNNING), InfiniBand ports ("mlx5_0/1") in state ACTIVE.
std::map<std::string, bool> links_now() {
  std::map<std::string, bool> links;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i; i = i->ifa_next)
      if (i->ifa_name && !(i->ifa_flags & IFF_LOOPBACK))
        links[i->ifa_name] = (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_RUNNING);
    freeifaddrs(ifs);
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator("/sys/class/infiniband", ec))
    for (const auto& port : fs::directory_iterator(dev.path() / "ports", ec)) {
      std::ifstream in(port.path() / "state");
      std::string state;
      std::getline(in, state);
      links[dev.path().filename().string() + "/" + port.path().filename().string()] =
          state.find("ACTIVE") != std::string::npos;
    }
  return links;
}

}  // namespace

struct Watchdog::Impl {
  transports::World& world;
  double timeout_s;
  std::function<void(const WatchdogReport&)> on_abort;
  std::atomic<std::uint64_t>& progress;

  std::mutex mu;
  std::string phase = "starting";
  bool waiting = false;  // in a harness wait (gather, barrier) rather than an op

  std::atomic<bool> stop{false};
  std::thread thread;
  int listen_fd = -1;
  int conn_fd = -1;  // ranks > 0: to rank 0

  // The links when the watchdog started: one that was up and is down at a hang is a prime suspect.
  std::map<std::string, bool> links_at_start = links_now();

  // Links up at the start and down now (a pulled cable, a port gone down), comma-separated; "-"
  // for none. A link that no longer exists (a container's veth removed) is not counted.
  std::string lost_links() const {
    const std::map<std::string, bool> now = links_now();
    std::string lost;
    for (const auto& [name, up] : links_at_start) {
      const auto it = now.find(name);
      if (up && it != now.end() && !it->second) lost += (lost.empty() ? "" : ",") + name;
    }
    return lost.empty() ? "-" : lost;
  }

  // The thread's view of progress.
  std::uint64_t seen = 0;
  clock_t_::time_point last_change = clock_t_::now();

  Impl(transports::World& w, double t, std::function<void(const WatchdogReport&)> a,
       std::atomic<std::uint64_t>& p)
      : world(w), timeout_s(t), on_abort(std::move(a)), progress(p) {}

  double stalled() {
    const std::uint64_t now = progress.load(std::memory_order_relaxed);
    if (now != seen) {
      seen = now;
      last_change = clock_t_::now();
    }
    return seconds_since(last_change);
  }

  std::pair<std::string, bool> current_phase() {
    std::lock_guard<std::mutex> g(mu);
    return {phase, waiting};
  }

  std::string state_line() {
    const double s = stalled();
    auto [p, w] = current_phase();
    std::ostringstream o;
    o << "STATE " << world.rank() << ' ' << (w ? 1 : 0) << ' ' << s << ' ' << lost_links() << ' ' << p;
    return o.str();
  }

  [[noreturn]] void die(const std::string& message, const std::string& status = "timeout",
                        WatchdogReport report = {}) {
    std::fprintf(stderr, "fabricbench: %s\n", message.c_str());
    std::fflush(stderr);
    report.status = status;
    report.message = message;
    if (on_abort) on_abort(report);
    world.abort(3);
    std::_Exit(3);  // not reached: abort() ends the job
  }

  void setup() {
    // Rank 0 listens on every address; the others get its addresses and port.
    std::string address;
    if (world.rank() == 0) {
      rlimit rl{};
      if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
      }
      listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_ANY);
      socklen_t len = sizeof(a);
      if (listen_fd >= 0 && ::bind(listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
          ::listen(listen_fd, 4096) == 0 &&
          getsockname(listen_fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        address = std::to_string(ntohs(a.sin_port));
        for (const auto& ip : local_ipv4_addresses()) address += " " + ip;
      } else if (listen_fd >= 0) {
        ::close(listen_fd);
        listen_fd = -1;
      }
    }
    address = world.broadcast_string(address, 0);
    if (world.rank() != 0 && !address.empty()) {
      std::istringstream in(address);
      int port = 0;
      in >> port;
      std::vector<std::string> ips;
      if (world.hostname() == world.hostnames()[0]) ips.push_back("127.0.0.1");
      for (std::string ip; in >> ip;) ips.push_back(ip);
      for (const auto& ip : ips) {
        conn_fd = connect_with_timeout(ip, port, 2000);
        if (conn_fd >= 0) break;
      }
      if (conn_fd >= 0 && !send_line(conn_fd, "HELLO " + std::to_string(world.rank()))) {
        ::close(conn_fd);
        conn_fd = -1;
      }
    }
    thread = std::thread([this] { world.rank() == 0 ? run_root() : run_worker(); });
  }

  void run_worker() {
    std::string buf;
    bool alarmed = false;
    bool lost_root = false;
    clock_t_::time_point first_alarm, last_alarm, lost_root_at;
    while (!stop.load()) {
      if (conn_fd >= 0) {
        pollfd p{conn_fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
          std::vector<std::string> lines;
          const bool open = read_lines(conn_fd, buf, lines);
          for (const auto& l : lines)
            if (l == "QUERY") send_line(conn_fd, state_line());
          if (!open) {
            // Rank 0 went away: usually the job is being torn down. Give the launcher time to
            // end this rank before reporting on its own.
            ::close(conn_fd);
            conn_fd = -1;
            lost_root = true;
            lost_root_at = clock_t_::now();
          }
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (stop.load()) break;
      const double s = stalled();
      auto [p, w] = current_phase();
      if (s < timeout_s) {
        alarmed = false;
        continue;
      }
      if (conn_fd >= 0 && (!alarmed || seconds_since(last_alarm) > std::max(2.0, timeout_s))) {
        send_line(conn_fd, "ALARM " + std::to_string(world.rank()));
        if (!alarmed) first_alarm = clock_t_::now();
        alarmed = true;
        last_alarm = clock_t_::now();
      }
      const bool root_gone = conn_fd < 0 && (!lost_root || seconds_since(lost_root_at) > 10.0);
      if (!w && (root_gone || (alarmed && seconds_since(first_alarm) > timeout_s + 10.0))) {
        // Rank 0 cannot be reached or did not act: report this rank alone.
        std::ostringstream o;
        o << "timeout: rank " << world.rank() << " (" << world.hostname() << ") made no progress for "
          << static_cast<int>(s) << " s in " << p << " (rank 0 unreachable)";
        die(o.str());
      }
    }
  }

  // Rank 0's side of the connections: the workers, their replies, and the diagnosis under way.
  struct Peer {
    int fd = -1;
    int rank = -1;
    std::string buf;
    bool bye = false;
  };
  struct RootState {
    std::vector<Peer> pending;          // accepted, HELLO not yet read
    std::map<int, Peer> peers;          // by rank
    std::map<int, std::string> states;  // replies during a diagnosis
    bool diagnosing = false;
    clock_t_::time_point diag_started;
    clock_t_::time_point quiet_until = clock_t_::now();
    std::string trigger;
  };
  // In the poll set, who owns each descriptor: the listening socket, a pending connection
  // (its index encoded below kPendingOwner), else a peer's rank.
  static constexpr int kListenOwner = -2;
  static constexpr int kPendingOwner = -1000;

  void run_root() {
    RootState st;
    while (!stop.load()) {
      std::vector<pollfd> fds;
      std::vector<int> owners;
      poll_set(st, fds, owners);
      poll(fds.data(), fds.size(), 200);
      if (stop.load()) break;
      std::vector<std::size_t> drop_pending;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        serve_ready(st, owners[k], drop_pending);
      }
      std::sort(drop_pending.begin(), drop_pending.end());
      drop_pending.erase(std::unique(drop_pending.begin(), drop_pending.end()), drop_pending.end());
      for (auto it = drop_pending.rbegin(); it != drop_pending.rend(); ++it)
        st.pending.erase(st.pending.begin() + *it);

      if (!st.diagnosing && stalled() >= timeout_s && clock_t_::now() >= st.quiet_until)
        start_diagnosis(st, "rank 0 stalled");
      if (st.diagnosing) finish_diagnosis_when_answered(st);
    }
    for (auto& p : st.pending) ::close(p.fd);
    for (auto& [r, p] : st.peers)
      if (p.fd >= 0) ::close(p.fd);
  }

  // Asks every connected peer for its state; rank 0's own is taken now.
  void start_diagnosis(RootState& st, const std::string& why) {
    if (st.diagnosing) return;
    st.diagnosing = true;
    st.diag_started = clock_t_::now();
    st.trigger = why;
    st.states.clear();
    st.states[0] = state_line();
    for (auto& [r, p] : st.peers)
      if (p.fd >= 0 && !p.bye) send_line(p.fd, "QUERY");
  }

  void poll_set(const RootState& st, std::vector<pollfd>& fds, std::vector<int>& owners) const {
    if (listen_fd >= 0) {
      fds.push_back({listen_fd, POLLIN, 0});
      owners.push_back(kListenOwner);
    }
    for (std::size_t i = 0; i < st.pending.size(); ++i) {
      fds.push_back({st.pending[i].fd, POLLIN, 0});
      owners.push_back(kPendingOwner - static_cast<int>(i));
    }
    for (const auto& [r, p] : st.peers)
      if (p.fd >= 0) {
        fds.push_back({p.fd, POLLIN, 0});
        owners.push_back(r);
      }
  }

  // One ready descriptor: a new connection, or a peer's lines (HELLO, ALARM, STATE, BYE) and
  // its close; a pending connection that said HELLO or closed is marked for dropping.
  void serve_ready(RootState& st, int owner, std::vector<std::size_t>& drop_pending) {
    if (owner == kListenOwner) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) st.pending.push_back(Peer{fd, -1, "", false});
      return;
    }
    const bool is_pending = owner <= kPendingOwner;
    Peer* p = is_pending ? &st.pending[static_cast<std::size_t>(kPendingOwner - owner)] : &st.peers[owner];
    std::vector<std::string> lines;
    const bool open = read_lines(p->fd, p->buf, lines);
    for (const auto& l : lines) {
      std::istringstream in(l);
      std::string word;
      in >> word;
      if (word == "HELLO") {
        int r = -1;
        in >> r;
        p->rank = r;
      } else if (word == "ALARM") {
        start_diagnosis(st, "alarm");
      } else if (word == "STATE") {
        int r = -1;
        in >> r;
        st.states[r] = l;
      } else if (word == "BYE") {
        p->bye = true;
      }
    }
    if (is_pending && p->rank >= 0) {
      st.peers[p->rank] = *p;
      drop_pending.push_back(static_cast<std::size_t>(kPendingOwner - owner));
    }
    if (!open) {
      const int r = p->rank;
      const bool clean = p->bye;
      ::close(p->fd);
      p->fd = -1;
      if (is_pending) drop_pending.push_back(static_cast<std::size_t>(kPendingOwner - owner));
      if (!clean && r >= 0 && !stop.load()) {
        auto [ph, w] = current_phase();
        (void)w;
        die("peer failure: rank " + std::to_string(r) + " (" + world.hostnames()[r] +
                ") exited or closed its connection while rank 0 was in " + ph,
            "error");
      }
    }
  }

  // Concludes once every connected peer answered, or after 2 s; then stays quiet for 1 s.
  void finish_diagnosis_when_answered(RootState& st) {
    std::size_t expected = 1;
    for (auto& [r, p] : st.peers)
      if (p.fd >= 0 && !p.bye) ++expected;
    if (st.states.size() >= expected || seconds_since(st.diag_started) > 2.0) {
      conclude(st.states);  // ends the job when it is hung
      st.diagnosing = false;
      st.quiet_until = clock_t_::now() + std::chrono::seconds(1);
    }
  }

  // Decide from the states whether the job is hung; if so, say where and end it.
  void conclude(std::map<int, std::string>& states) {
    const int n = world.size();
    std::map<std::string, std::vector<int>> stuck_by_phase;
    std::vector<int> silent;
    WatchdogReport report;
    bool op_stalled = false;
    bool all_stalled = true;
    for (int r = 0; r < n; ++r) {
      auto it = states.find(r);
      if (it == states.end()) {
        silent.push_back(r);
        continue;
      }
      std::istringstream in(it->second);
      std::string word, phase, lost;
      int rank = 0, waiting = 0;
      double s = 0;
      in >> word >> rank >> waiting >> s >> lost;
      if (lost != "-" && !lost.empty()) report.lost_links[r] = lost;
      std::getline(in, phase);
      if (!phase.empty() && phase[0] == ' ') phase.erase(0, 1);
      if (s >= timeout_s) {
        stuck_by_phase[phase].push_back(r);
        (waiting ? report.waiting : report.in_op).push_back(r);
        if (!waiting) op_stalled = true;
      } else {
        all_stalled = false;
      }
    }
    states.clear();
    if (!(op_stalled || all_stalled)) {
      // A rank waited long for peers that are still making progress: not a hang.
      return;
    }
    std::ostringstream o;
    o << "timeout: no progress for " << timeout_s << " s;";
    for (const auto& [phase, ranks] : stuck_by_phase)
      o << " not finished on rank" << (ranks.size() > 1 ? "s " : " ") << rank_list(ranks) << ": " << phase
        << ";";
    if (!silent.empty()) {
      o << " no answer from rank" << (silent.size() > 1 ? "s " : " ") << rank_list(silent) << " (";
      for (std::size_t i = 0; i < silent.size() && i < 8; ++i)
        o << (i ? ", " : "") << world.hostnames()[silent[i]];
      o << "): stopped or dead";
    }
    for (const auto& [r, links] : report.lost_links)
      o << " link " << links << " of rank " << r << " (" << world.hostnames()[static_cast<std::size_t>(r)]
        << ") went down during the run;";
    std::string msg = o.str();
    if (!msg.empty() && msg.back() == ';') msg.pop_back();
    report.silent = silent;
    // The phase most ranks stalled in, an op's before a wait's.
    std::size_t most = 0;
    bool most_in_op = false;
    for (const auto& [phase, ranks] : stuck_by_phase) {
      const bool in_op =
          std::find(report.in_op.begin(), report.in_op.end(), ranks.front()) != report.in_op.end();
      if ((in_op && !most_in_op) || (in_op == most_in_op && ranks.size() > most)) {
        most = ranks.size();
        most_in_op = in_op;
        report.phase = phase;
      }
    }
    die(msg, "timeout", report);
  }
};

Watchdog::Watchdog(transports::World& world, double timeout_s,
                   std::function<void(const WatchdogReport&)> on_abort) {
  if (timeout_s <= 0) return;
  impl_ = std::make_unique<Impl>(world, timeout_s, std::move(on_abort), progress_);
  impl_->setup();
}

Watchdog::~Watchdog() {
  if (!impl_) return;
  impl_->stop.store(true);
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->conn_fd >= 0) ::close(impl_->conn_fd);
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

void Watchdog::enter(const std::string& phase, bool waiting) {
  progress_.fetch_add(1, std::memory_order_relaxed);
  if (!impl_) return;
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->phase = phase;
  impl_->waiting = waiting;
}

void Watchdog::finish() {
  if (!impl_) return;
  enter("finishing", true);
  if (impl_->world.rank() != 0 && impl_->conn_fd >= 0) send_line(impl_->conn_fd, "BYE");
  // Every BYE is sent before rank 0 stops listening.
  impl_->world.barrier();
  impl_->stop.store(true);
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace fb
