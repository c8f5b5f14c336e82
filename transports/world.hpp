// The job's ranks as the harness sees them: who am I, where am I, and the few collective
// services the harness needs outside the measured ops (agreement, gathering samples, abort).
// Implemented over MPI (transports/mpi/mpi_world.cpp); the harness never includes MPI headers.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fb::transports {

class World {
 public:
  virtual ~World() = default;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  int node() const { return node_; }  // index of this rank's host, 0..nnodes-1, in rank order
  int nnodes() const { return nnodes_; }
  // Most ranks any host holds (the "ranks per node" of a row).
  int max_ranks_per_node() const { return max_local_size_; }
  const std::vector<std::string>& hostnames() const { return hostnames_; }  // one per rank
  const std::string& hostname() const { return hostnames_[rank_]; }
  // This rank's place on its host among all the job's ranks (the same as local_rank() except in a
  // sub-world from split()): what picks its GPU.
  int job_local_rank() const { return job_local_rank_ < 0 ? local_rank_ : job_local_rank_; }
  int job_local_size() const { return job_local_size_ < 0 ? local_size_ : job_local_size_; }

  // The ranks with the same colour (>= 0) as a World of their own (collective over this world;
  // rank order kept), for ops run in sub-groups (run --split, --ranks). A rank that gives a
  // negative colour joins none and gets nullptr.
  virtual std::unique_ptr<World> split(int color) = 0;

  virtual void barrier() = 0;
  // Root receives size() * values.size() values, rank-major; other ranks get an empty vector.
  virtual std::vector<double> gather(const std::vector<double>& values, int root = 0) = 0;
  // Root receives every rank's string; other ranks get an empty vector.
  virtual std::vector<std::string> gather_strings(const std::string& s, int root = 0) = 0;
  virtual std::string broadcast_string(const std::string& s, int root = 0) = 0;
  // Every rank receives every rank's string (e.g. UCX worker addresses), rank-major.
  virtual std::vector<std::string> allgather_strings(const std::string& s) = 0;
  // The first non-empty string in rank order, on every rank ("" when all are empty): turns one
  // rank's local failure into an error every rank reports.
  std::string first_error(const std::string& local);
  virtual double allreduce_max(double v) = 0;
  virtual double allreduce_min(double v) = 0;
  virtual long long allreduce_sum(long long v) = 0;
  // Ends every rank of the job with `code`.
  [[noreturn]] virtual void abort(int code) = 0;
  virtual std::string library_version() const = 0;  // e.g. "Open MPI v4.1.4, ..."
  virtual std::string library_name() const = 0;     // e.g. "Open MPI 4.1.4"
  // The thread level the library provided: "single" (fabricbench asks for no more: its helper
  // threads never call MPI, see transports/mpi/mpi_world.cpp), "funneled", ...
  virtual std::string thread_level() const = 0;
  // What the library says about its set-up (results/SCHEMA.md, meta.inventory.mpi): thread level,
  // the point-to-point layer it selected and the selections asked for; name/value pairs.
  virtual std::vector<std::pair<std::string, std::string>> library_facts() const = 0;

 protected:
  void set_topology(int rank, int size, std::vector<std::string> hostnames);
  // A sub-world keeps its parent's job-wide local rank and size.
  void inherit_job_local(const World& parent) {
    job_local_rank_ = parent.job_local_rank();
    job_local_size_ = parent.job_local_size();
  }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, node_ = 0, nnodes_ = 1, max_local_size_ = 1;
  std::vector<std::string> hostnames_{""};
  int job_local_rank_ = -1, job_local_size_ = -1;
};

// Initialise MPI (once per process) and return the world; MPI is finalised when it is destroyed.
std::unique_ptr<World> make_mpi_world(int* argc, char*** argv);

}  // namespace fb::transports
