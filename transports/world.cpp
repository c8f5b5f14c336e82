#include "transports/world.hpp"

#include <algorithm>
#include <map>

namespace fb::transports {

void World::set_topology(int rank, int size, std::vector<std::string> hostnames) {
  rank_ = rank;
  size_ = size;
  hostnames_ = std::move(hostnames);
  // Nodes are numbered in order of their first rank; local rank counts ranks before me on my host.
  std::map<std::string, int> node_of;
  std::map<std::string, int> count_of;
  for (int r = 0; r < size_; ++r) {
    const auto& h = hostnames_[r];
    if (!node_of.count(h)) node_of.emplace(h, static_cast<int>(node_of.size()));
    if (r == rank_) local_rank_ = count_of[h];
    ++count_of[h];
  }
  node_ = node_of[hostnames_[rank_]];
  nnodes_ = static_cast<int>(node_of.size());
  local_size_ = count_of[hostnames_[rank_]];
  max_local_size_ = 0;
  for (const auto& [h, c] : count_of) max_local_size_ = std::max(max_local_size_, c);
}

}  // namespace fb::transports

namespace fb::transports {

std::string World::first_error(const std::string& local) {
  for (auto& e : allgather_strings(local))
    if (!e.empty()) return e;
  return "";
}

}  // namespace fb::transports
