// The vocabulary's look-ups (vocab/op.hpp, vocab/algorithm.hpp).
#include "vocab/algorithm.hpp"
#include "vocab/op.hpp"

namespace fb::vocab {

std::optional<OpKind> parse_op(std::string_view name) {
  for (const OpInfo& o : kOps)
    if (o.name == name) return o.kind;
  return std::nullopt;
}

std::string op_names() {
  std::string s;
  for (const OpInfo& o : kOps) s += (s.empty() ? "" : ", ") + std::string(o.name);
  return s;
}

double busbw_factor(OpKind k, double p) {
  if (!(p > 0)) return 0;
  switch (op_info(k).busbw) {
    case Busbw::allreduce:
      return 2 * (p - 1) / p;
    case Busbw::n1_over_n:
      return (p - 1) / p;
    case Busbw::one:
      return 1;
    case Busbw::two:
      return 2;
  }
  return 0;
}

Shape shape(OpKind k, std::size_t elems, int nranks, std::size_t block_align) {
  const std::size_t n = nranks > 0 ? static_cast<std::size_t>(nranks) : 1;
  const std::size_t a = block_align > 0 ? block_align : 1;
  const std::size_t aligned = elems / n / a * a;  // one rank's block
  Shape s;
  switch (op_info(k).shape) {
    case BufferShape::whole:
      s.count = s.send = s.recv = s.block = s.size = elems;
      break;
    case BufferShape::variable:
      s.block = s.count = elems / n;
      s.send = s.recv = s.size = s.block * n;
      break;
    case BufferShape::exchanged:
      s.block = s.count = aligned;
      s.send = s.recv = s.size = s.block * n;
      break;
    case BufferShape::gathered:
      s.block = s.count = s.send = aligned;
      s.recv = s.size = s.block * n;
      break;
    case BufferShape::scattered:
      s.block = s.count = s.recv = aligned;
      s.send = s.size = s.block * n;
      break;
  }
  return s;
}

std::vector<OpKind> OpSet::kinds() const {
  std::vector<OpKind> v;
  for (const OpInfo& o : kOps)
    if (contains(o.kind)) v.push_back(o.kind);
  return v;
}

const std::vector<const Algorithm*>& algorithms() {
  using namespace algo;
  static const std::vector<const Algorithm*> v{&ring,
                                               &recursive_doubling,
                                               &rabenseifner,
                                               &recursive_halving,
                                               &hierarchical,
                                               &pairwise,
                                               &bruck,
                                               &linear,
                                               &binomial,
                                               &chain,
                                               &p2p,
                                               &nccl_ring,
                                               &nccl_tree,
                                               &nccl_nvls,
                                               &nccl_nvlstree,
                                               &nccl_collnet_direct,
                                               &nccl_collnet_chain,
                                               &nccl_pat,
                                               &nccl_p2p};
  return v;
}

const Algorithm* find_algorithm(std::string_view name) {
  for (const Algorithm* a : algorithms())
    if (a->name == name) return a;
  return nullptr;
}

}  // namespace fb::vocab
