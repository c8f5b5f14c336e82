// World over MPI: bootstrap, topology from hostnames, and the harness's out-of-band collectives
// (run on a duplicate of MPI_COMM_WORLD so they never match a measured op's messages).
#include "transports/mpi/mpi_world.hpp"

#include <mpi.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "transports/mpi/mpi_inventory.hpp"
#include "transports/world.hpp"

namespace fb::transports {

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error(std::string(what) + ": " + std::string(msg, len));
}

class MpiWorld final : public World {
 public:
  MpiWorld(int* argc, char*** argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    // MPI_Init, as the established micro-benchmarks start MPI: Open MPI turns on its locking for
    // any level above MPI_THREAD_SINGLE, which costs a third of an 8 B ping-pong on shared
    // memory. No mode needs more: the watchdog, interrupt and progress threads never call MPI
    // while the main thread runs (the watchdog's one call, MPI_Abort, ends the job), and the nccl
    // watchdog path only sets a flag the main thread acts on (ncclCommAbort, not MPI).
    if (!initialised) {
      check(MPI_Init(argc, argv), "MPI_Init");
      owns_mpi_ = true;
    }
    int provided = MPI_THREAD_SINGLE;
    MPI_Query_thread(&provided);
    thread_level_ = mpi_inventory::thread_level_name(provided);
    // The first messages between ranks: a rank that cannot reach the others (a host's network
    // link down) says so with its own rank and host instead of the library aborting the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    const auto first_contact = [&](int rc, const char* what) {
      if (rc == MPI_SUCCESS) return;
      try {
        check(rc, what);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("rank " + std::to_string(rank) + " (" + name +
                                 ") cannot exchange messages with the " + "other ranks: " + e.what() +
                                 " (is every host's network link up? the MPI " +
                                 "library's messages above name the peer it could not reach)");
      }
    };
    first_contact(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);

    std::vector<char> all(static_cast<std::size_t>(size) * MPI_MAX_PROCESSOR_NAME);
    first_contact(MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                                MPI_CHAR, comm_),
                  "MPI_Allgather(hostnames)");
    std::vector<std::string> hosts(size);
    for (int r = 0; r < size; ++r)
      hosts[r] = std::string(all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME);
    set_topology(rank, size, std::move(hosts));
  }

  // A sub-world over `comm` (owned), made by split(): topology from its own ranks' hostnames.
  MpiWorld(MPI_Comm comm, const MpiWorld& parent) : comm_(comm), thread_level_(parent.thread_level_) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(comm_, &rank);
    MPI_Comm_size(comm_, &size);
    // size() must be right for the gather below.
    set_topology(rank, size, std::vector<std::string>(static_cast<std::size_t>(size), parent.hostname()));
    set_topology(rank, size, allgather_strings(parent.hostname()));
    inherit_job_local(parent);
  }

  ~MpiWorld() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  MPI_Comm comm() const { return comm_; }

  std::unique_ptr<World> split(int color) override {
    MPI_Comm sub = MPI_COMM_NULL;
    check(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, rank(), &sub), "MPI_Comm_split");
    if (sub == MPI_COMM_NULL) return nullptr;
    return std::make_unique<MpiWorld>(sub, *this);
  }

  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier"); }

  std::vector<double> gather(const std::vector<double>& values, int root) override {
    std::vector<double> out;
    if (rank() == root) out.resize(values.size() * static_cast<std::size_t>(size()));
    check(MPI_Gather(values.data(), static_cast<int>(values.size()), MPI_DOUBLE, out.data(),
                     static_cast<int>(values.size()), MPI_DOUBLE, root, comm_),
          "MPI_Gather");
    return out;
  }

  std::vector<std::string> gather_strings(const std::string& s, int root) override {
    int len = static_cast<int>(s.size());
    std::vector<int> lens(rank() == root ? size() : 0);
    check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, comm_), "MPI_Gather(lengths)");
    std::vector<int> displs;
    std::vector<char> buf;
    if (rank() == root) {
      displs.resize(size());
      int total = 0;
      for (int r = 0; r < size(); ++r) {
        displs[r] = total;
        total += lens[r];
      }
      buf.resize(total > 0 ? total : 1);
    }
    check(MPI_Gatherv(s.data(), len, MPI_CHAR, buf.data(), lens.data(), displs.data(), MPI_CHAR, root, comm_),
          "MPI_Gatherv(strings)");
    std::vector<std::string> out;
    if (rank() == root)
      for (int r = 0; r < size(); ++r) out.emplace_back(buf.data() + displs[r], lens[r]);
    return out;
  }

  std::string broadcast_string(const std::string& s, int root) override {
    long long len = static_cast<long long>(s.size());
    check(MPI_Bcast(&len, 1, MPI_LONG_LONG, root, comm_), "MPI_Bcast(length)");
    std::string out = rank() == root ? s : std::string(static_cast<std::size_t>(len), '\0');
    if (len > 0)
      check(MPI_Bcast(out.data(), static_cast<int>(len), MPI_CHAR, root, comm_), "MPI_Bcast(string)");
    return out;
  }

  std::vector<std::string> allgather_strings(const std::string& s) override {
    int len = static_cast<int>(s.size());
    std::vector<int> lens(size());
    check(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm_), "MPI_Allgather(lengths)");
    std::vector<int> displs(size());
    int total = 0;
    for (int r = 0; r < size(); ++r) {
      displs[r] = total;
      total += lens[r];
    }
    std::vector<char> buf(total > 0 ? total : 1);
    check(MPI_Allgatherv(s.data(), len, MPI_CHAR, buf.data(), lens.data(), displs.data(), MPI_CHAR, comm_),
          "MPI_Allgatherv(strings)");
    std::vector<std::string> out;
    out.reserve(size());
    for (int r = 0; r < size(); ++r) out.emplace_back(buf.data() + displs[r], lens[r]);
    return out;
  }

  double allreduce_max(double v) override { return reduce(v, MPI_MAX); }
  double allreduce_min(double v) override { return reduce(v, MPI_MIN); }
  long long allreduce_sum(long long v) override {
    long long out = 0;
    check(MPI_Allreduce(&v, &out, 1, MPI_LONG_LONG, MPI_SUM, comm_), "MPI_Allreduce");
    return out;
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code);
  }

  std::string library_version() const override {
    char v[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int len = 0;
    MPI_Get_library_version(v, &len);
    std::string s(v, len);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0' || s.back() == ' ')) s.pop_back();
    return s;
  }

  std::string library_name() const override {
    // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    std::string s = library_version();
    const auto comma = s.find(',');
    return comma == std::string::npos ? s : s.substr(0, comma);
  }

  std::string thread_level() const override { return thread_level_; }

  std::vector<std::pair<std::string, std::string>> library_facts() const override {
    std::vector<std::pair<std::string, std::string>> facts{{"library", library_name()},
                                                           {"thread_level", thread_level_}};
    if (auto pml = mpi_inventory::selected_pml(); !pml.empty()) facts.emplace_back("pml", pml);
    if (auto btl = mpi_inventory::selected_btls(); !btl.empty()) facts.emplace_back("btl", btl);
    for (auto& [k, v] : mpi_inventory::component_requests()) facts.emplace_back(k + "_requested", v);
    return facts;
  }

 private:
  double reduce(double v, MPI_Op op) {
    double out = 0;
    check(MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, op, comm_), "MPI_Allreduce");
    return out;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_ = false;
  std::string thread_level_;
};

}  // namespace

MPI_Comm mpi_comm(const World& world) {
  const auto* w = dynamic_cast<const MpiWorld*>(&world);
  return w ? w->comm() : MPI_COMM_WORLD;
}

std::unique_ptr<World> make_mpi_world(int* argc, char*** argv) {
  return std::make_unique<MpiWorld>(argc, argv);
}

}  // namespace fb::transports
