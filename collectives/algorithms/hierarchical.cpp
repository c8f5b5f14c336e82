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
//
// Hierarchical all-gather (the model's, model/algorithms/hierarchical.cpp), in scratch cut into L
// columns, column j being the blocks of the local ranks j of every node:
//   1. between nodes, for each column, a ring all-gather among the ranks that hold it (one per
//      node): with equal nodes, g concurrent rings of m blocks each;
//   2. inside each node, a ring all-gather of the columns (n/g each with equal nodes);
//   3. a copy of the blocks from scratch into rank order.
// On a smaller node, local rank i holds columns [block_begin(L, g, i), block_begin(L, g, i + 1))
// (as the parts above) and contributes its block to the first of them; the rings carry no block
// for a node without a rank in that column.
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

void allreduce(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Nodes n = nodes_of(c, p, r);
  const int g = static_cast<int>(n.ranks[n.mine].size()), L = n.most;
  SubP2P node(p2p, n.ranks[n.mine]);
  const std::size_t grain = grain64(c.dtype);
  const Blocks b{count, g, L, grain};
  ring_reduce_scatter(node, c.send, c.recv, at(c.recv, b.begin(n.local), es), b, c.dtype, c.redop, ch,
                      c.scratch, *c.mem);
  if (n.ranks.size() > 1) {
    const int first = static_cast<int>(block_begin(L, g, n.local)),
              last = static_cast<int>(block_begin(L, g, n.local + 1));
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

// A ring all-gather of segments of any length (0 included): rank i of p2p holds elements
// [off[i], off[i + 1]) of buf; afterwards every rank holds all of them.
void ring_allgather_segments(P2P& p2p, void* buf, const std::vector<std::size_t>& off, DType dtype,
                             std::size_t chunk) {
  const std::size_t es = dtype_size(dtype);
  const int p = p2p.size(), r = p2p.rank();
  for (int s = 0; s + 1 < p; ++s) {
    const int sb = mod(r - s, p), rb = mod(r - s - 1, p);
    exchange(p2p,
             Exchange{at(buf, off[sb], es), off[sb + 1] - off[sb], mod(r + 1, p), at(buf, off[rb], es),
                      nullptr, off[rb + 1] - off[rb], mod(r - 1, p)},
             dtype, RedOp::sum, chunk, nullptr, nullptr);
  }
}

void allgather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Nodes n = nodes_of(c, p, r);
  const int L = n.most, m = static_cast<int>(n.ranks.size());
  auto size = [&](int k) { return static_cast<int>(n.ranks[k].size()); };
  auto first_column = [&](int k, int i) { return static_cast<int>(block_begin(L, size(k), i)); };
  auto contributes = [&](int k, int j) { return first_column(k, holder(j, L, size(k))) == j; };
  // col[j]: where column j starts in scratch, in blocks; slot[q]: where rank q's block lies.
  std::vector<std::size_t> col(L + 1, 0), slot(p, 0);
  for (int j = 0; j < L; ++j) {
    col[j + 1] = col[j];
    for (int k = 0; k < m; ++k)
      if (contributes(k, j)) slot[n.ranks[k][holder(j, L, size(k))]] = col[j + 1]++;
  }
  void* gathered = c.scratch;
  copy_elems(at(gathered, slot[r] * block, es), c.send, block, es, *c.mem);
  const int g = size(n.mine);
  for (int j = first_column(n.mine, n.local); j < first_column(n.mine, n.local + 1); ++j) {
    std::vector<int> ring;
    std::vector<std::size_t> off{col[j] * block};
    for (int k = 0; k < m; ++k) {
      ring.push_back(n.ranks[k][holder(j, L, size(k))]);
      off.push_back(off.back() + (contributes(k, j) ? block : 0));
    }
    SubP2P across(p2p, std::move(ring));
    ring_allgather_segments(across, gathered, off, c.dtype, ch);
  }
  std::vector<std::size_t> off;
  for (int i = 0; i <= g; ++i) off.push_back(col[first_column(n.mine, i)] * block);
  SubP2P node(p2p, n.ranks[n.mine]);
  ring_allgather_segments(node, gathered, off, c.dtype, ch);
  for (int q = 0; q < p; ++q)
    copy_elems(at(c.recv, q * block, es), at(gathered, slot[q] * block, es), block, es, *c.mem);
}

void run(P2P& p2p, const AlgoCall& c) {
  if (c.op->kind == OpKind::allgather)
    allgather(p2p, c);
  else
    allreduce(p2p, c);
}

std::size_t scratch(const AlgoCall& c, int nranks) {
  if (c.op->kind == OpKind::allgather) return round_page(nranks * c.layout.block * dtype_size(c.dtype));
  return exchange_tmp_bytes(c, c.layout.count);
}

}  // namespace

const CollectiveAlgorithm hierarchical{vocab::algo::hierarchical, scratch, run};

}  // namespace fb::algo
