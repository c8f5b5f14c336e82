// Hierarchical (two-level) all-reduce, following the nodes in AlgoCall::node_of:
//   1. inside each node, a ring reduce-scatter: the buffer is cut into L parts (L = the most
//      ranks any node holds) and local rank j of a node with g ranks ends with the node's sum of
//      parts [block_begin(L, g, j), block_begin(L, g, j + 1));
//   2. between nodes, for each part, a ring all-reduce among the ranks that hold it (one per
//      node): with equal nodes, g concurrent rings, one per local index, of count/g elements;
//   3. inside each node, a ring all-gather of the parts.
// Uneven nodes work (a rank of a smaller node holds several parts and joins one ring per part,
// parts in increasing order everywhere, so the rings cannot wait on each other in a cycle). One
// node is a plain ring all-reduce; one rank per node is a ring all-reduce between the nodes.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

struct Nodes {
  std::vector<std::vector<int>> ranks;  // ranks of each node, in rank order
  int mine = 0;                         // this rank's node
  int local = 0;                        // this rank's index in it
  int most = 1;                         // L: the most ranks on one node
};

Nodes nodes_of(const AlgoCall& c, int p, int r) {
  Nodes n;
  std::vector<int> index;  // node id -> position in n.ranks
  for (int q = 0; q < p; ++q) {
    const int id = c.node_of.empty() ? 0 : c.node_of[q];
    if (id >= static_cast<int>(index.size())) index.resize(id + 1, -1);
    if (index[id] < 0) {
      index[id] = static_cast<int>(n.ranks.size());
      n.ranks.emplace_back();
    }
    if (q == r) n.mine = index[id], n.local = static_cast<int>(n.ranks[index[id]].size());
    n.ranks[index[id]].push_back(q);
  }
  for (const auto& v : n.ranks) n.most = std::max(n.most, static_cast<int>(v.size()));
  return n;
}

// The local index that holds part `part` of L on a node of g ranks.
int holder(int part, int parts, int g) {
  int j = 0;
  while (block_begin(parts, g, j + 1) <= static_cast<std::size_t>(part)) ++j;
  return j;
}

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Nodes n = nodes_of(c, p, r);
  const int g = static_cast<int>(n.ranks[n.mine].size()), L = n.most;
  SubP2P node(p2p, n.ranks[n.mine]);
  const std::size_t grain = grain64(c.dtype);
  const Blocks b{count, g, L, grain};
  ring_reduce_scatter(node, c.send, c.recv, at(c.recv, b.begin(n.local), es), b, c.dtype, c.redop, ch, c.scratch, *c.mem);
  if (n.ranks.size() > 1) {
    const int first = static_cast<int>(block_begin(L, g, n.local)), last = static_cast<int>(block_begin(L, g, n.local + 1));
    for (int part = first; part < last; ++part) {
      std::vector<int> ring;
      for (const auto& v : n.ranks) ring.push_back(v[holder(part, L, static_cast<int>(v.size()))]);
      SubP2P across(p2p, std::move(ring));
      void* buf = at(c.recv, block_begin(count, L, part, grain), es);
      const Blocks pb{block_len(count, L, part, grain), across.size(), across.size(), grain};
      ring_reduce_scatter(across, buf, buf, at(buf, pb.begin(across.rank()), es), pb, c.dtype, c.redop, ch,
                          c.scratch, *c.mem);
      ring_allgather(across, buf, pb, c.dtype, ch);
    }
  }
  ring_allgather(node, c.recv, b, c.dtype, ch);
}

std::size_t scratch(const AlgoCall& c, int) {
  return exchange_tmp_bytes(c, c.layout.count);
}

}  // namespace

const CollectiveAlgorithm hierarchical{"hierarchical", {OpKind::allreduce}, scratch, run};

}  // namespace fb::algo
