#include "transports/ucx/ucx_shm_get.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb::transports::ucx {

namespace {

// The top bit of a tag (bit 31 of the user tag, which every tag here leaves clear: the
// algorithms' kTag, the pairwise tags and ucx_worker.hpp's): this message is a get descriptor,
// not the data.
constexpr ucp_tag_t kGetBit = ucp_tag_t{1} << 63;
constexpr const char* kShmGetEnv = "FABRICBENCH_UCX_SHM_GET";
constexpr std::size_t kShmGetMin = 4096;  // a descriptor always fits in the receive buffer

// The descriptor's fixed part; the rkey (when `rkey_bytes` > 0), then `released` segment ids
// (segments the sender has freed whose keys the receiver may drop) follow it.
struct Descriptor {
  std::uint64_t addr, bytes, segment, rkey_bytes, released;
};

}  // namespace

// FABRICBENCH_UCX_SHM_GET: unset or empty (16K), "off" or 0, or a size of at least 4K.
std::string ShmGetP2P::read_threshold() {
  const char* v = std::getenv(kShmGetEnv);
  if (v == nullptr || *v == '\0') return "";
  const std::string text = v;
  if (text == "off" || text == "0") {
    get_min_ = 0;
    return "";
  }
  std::uint64_t n = 0;
  try {
    n = parse_bytes(text);
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < kShmGetMin)
    return std::string(kShmGetEnv) + "='" + text + "': give a size of at least 4K (e.g. 64K, 1M) or off";
  get_min_ = static_cast<std::size_t>(n);
  return "";
}

void ShmGetP2P::close() {
  for (auto& [key, rk] : peer_segments_) ucp_rkey_destroy(rk);
  peer_segments_.clear();
}

void ShmGetP2P::isend(const void* buf, std::size_t bytes, int peer, int tag) {
  if (get_min_ != 0 && bytes >= get_min_ && peer != w_.rank() && !m_.on_device(buf) && maps(peer))
    if (HostSegment* seg = m_.segment_of(buf, bytes)) return send_descriptor(*seg, buf, bytes, peer, tag);
  w_.tag_send(buf, bytes, peer, tag, m_.param_for(buf));
}

void ShmGetP2P::irecv(void* buf, std::size_t bytes, int peer, int tag) {
  if (get_min_ != 0 && bytes >= get_min_) w_.ep(peer);  // the callback acknowledges: no ep_create there
  Receive& r = receives_.emplace_back(Receive{this, buf, bytes, peer});
  ucp_request_param_t prm = m_.param_for(buf);
  prm.op_attr_mask |= UCP_OP_ATTR_FLAG_NO_IMM_CMPL | UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  prm.cb.recv = &ShmGetP2P::on_recv;
  prm.user_data = &r;
  w_.track(ucp_tag_recv_nbx(w_.handle(), buf, bytes, make_tag(tag, peer), ~kGetBit, &prm), "ucp_tag_recv_nbx",
           peer);
}

void ShmGetP2P::wait_all() {
  std::string err = w_.complete_all();
  descriptors_.clear();
  receives_.clear();
  if (!error_.empty() && err.empty()) err = error_;
  error_.clear();
  if (!err.empty()) throw BackendError("ucx: " + err);
}

// Whether `peer`'s endpoint has a transport that maps another process's memory: learnt once per
// peer (its endpoint's lanes do not change), not by string compares on every send.
bool ShmGetP2P::maps(int peer) {
  const auto known = maps_.find(peer);
  if (known != maps_.end()) return known->second;
  w_.ep(peer);
  bool mapped = false;
  for (const auto& t : w_.peer_transports(peer))
    if (t == "sysv" || t == "posix" || t == "xpmem") mapped = true;
  maps_.emplace(peer, mapped);
  return mapped;
}

void ShmGetP2P::send_descriptor(HostSegment& seg, const void* buf, std::size_t bytes, int peer, int tag) {
  const bool first = seg.told.insert(peer).second;
  std::vector<std::uint64_t>& gone = m_.released(peer);
  Descriptor d{reinterpret_cast<std::uint64_t>(buf), bytes, seg.id, first ? seg.rkey.size() : 0, 0};
  const std::size_t room = (bytes - std::min(bytes, sizeof d + d.rkey_bytes)) / sizeof(std::uint64_t);
  d.released = std::min<std::size_t>(gone.size(), room);
  std::string& msg = descriptors_.emplace_back(reinterpret_cast<const char*>(&d), sizeof d);
  if (first) msg += seg.rkey;
  msg.append(reinterpret_cast<const char*>(gone.data()), d.released * sizeof(std::uint64_t));
  gone.erase(gone.begin(), gone.begin() + static_cast<std::ptrdiff_t>(d.released));
  ucp_request_param_t prm{};
  w_.track(ucp_tag_send_nbx(w_.ep(peer), msg.data(), msg.size(), make_tag(tag, w_.rank()) | kGetBit, &prm),
           "ucp_tag_send_nbx", peer);
  w_.tag_recv(nullptr, 0, peer, kTagGetAck);  // the buffer is the peer's until it acknowledges
}

// Runs inside ucp_worker_progress (or the ucp_tag_recv_nbx that matched): no exception may
// leave it. A failed receive is reported by wait_all() from the request's status.
void ShmGetP2P::on_recv(void*, ucs_status_t st, const ucp_tag_recv_info_t* info, void* user) {
  const Receive& r = *static_cast<const Receive*>(user);
  ShmGetP2P& g = *r.self;
  try {
    if (st == UCS_OK && (info->sender_tag & kGetBit)) {
      std::string e = g.fetch(r, info->length);
      if (!e.empty() && g.error_.empty()) g.error_ = std::move(e);
    } else if (st == UCS_ERR_MESSAGE_TRUNCATED && (info->sender_tag & kGetBit)) {
      g.acknowledge(r.peer);  // a descriptor that did not fit: the sender must not wait forever
    }
  } catch (const std::exception& e) {
    if (g.error_.empty()) g.error_ = e.what();
  }
}

// A descriptor arrived in p.buf (`length` bytes): copy the data it names out of the sender's
// segment into p.buf, then acknowledge. Returns an error, or "".
std::string ShmGetP2P::fetch(const Receive& p, std::size_t length) {
  // Once per received message: no allocation on the way to the copy (the rest of the descriptor
  // is read in place; the peer's name is only formatted for an error).
  Descriptor d{};
  std::string_view rest;
  if (length >= sizeof d) {
    std::memcpy(&d, p.buf, sizeof d);
    rest = std::string_view(static_cast<const char*>(p.buf) + sizeof d, length - sizeof d);
  }
  const auto from = [&] { return w_.rank_text(p.peer); };
  if (length < sizeof d || d.rkey_bytes > rest.size() ||
      d.released > (rest.size() - d.rkey_bytes) / sizeof(std::uint64_t)) {
    acknowledge(p.peer);
    return "a malformed get descriptor (" + std::to_string(length) + " bytes) from " + from() + " on " +
           w_.where();
  }
  if (d.bytes != p.bytes) {
    acknowledge(p.peer);
    return from() + " sent " + std::to_string(d.bytes) + " bytes to a receive of " + std::to_string(p.bytes) +
           " on " + w_.where();
  }
  for (std::uint64_t i = 0; i < d.released; ++i) {
    std::uint64_t id;
    std::memcpy(&id, rest.data() + d.rkey_bytes + i * sizeof id, sizeof id);
    auto it = peer_segments_.find({p.peer, id});
    if (it != peer_segments_.end()) {
      ucp_rkey_destroy(it->second);
      peer_segments_.erase(it);
    }
  }
  ucp_rkey_h& rk = peer_segments_[{p.peer, d.segment}];
  if (d.rkey_bytes) {
    if (rk) ucp_rkey_destroy(rk);
    rk = nullptr;
    const ucs_status_t st = ucp_ep_rkey_unpack(w_.ep(p.peer), rest.data(), &rk);
    if (st != UCS_OK) {
      peer_segments_.erase({p.peer, d.segment});
      acknowledge(p.peer);
      return "ucp_ep_rkey_unpack of " + from() + "'s segment key on " + w_.where() + ": " + status_text(st);
    }
  }
  if (!rk) {
    peer_segments_.erase({p.peer, d.segment});
    acknowledge(p.peer);
    return "a get descriptor from " + from() + " names segment " + std::to_string(d.segment) +
           " whose key never came, on " + w_.where();
  }
  void* local = nullptr;
  if (ucp_rkey_ptr(rk, d.addr, &local) == UCS_OK) {  // mapped: one copy, here and now
    std::memcpy(p.buf, local, d.bytes);
    acknowledge(p.peer);
    return "";
  }
  ucp_request_param_t prm{};
  try {
    w_.track(ucp_get_nbx(w_.ep(p.peer), p.buf, d.bytes, d.addr, rk, &prm), "ucp_get_nbx", p.peer, kTagGetAck);
  } catch (const std::exception& e) {
    acknowledge(p.peer);
    return e.what();
  }
  return "";
}

}  // namespace fb::transports::ucx
