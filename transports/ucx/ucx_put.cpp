#include "transports/ucx/ucx_put.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "vocab/error.hpp"

namespace fb::transports::ucx {

void PutP2P::exchange_keys(void* recv, std::size_t capacity, int to, int from) {
  if (!flag_memh_) {
    flag_memh_ = m_.map(flag_.get(), sizeof(std::uint64_t) * 8);
  }
  // No peer puts into this rank before it has this message: the previous series completed (its
  // flag reached), and `from` waits for the message below.
  send_seq_ = recv_seq_ = 0;
  *static_cast<volatile std::uint64_t*>(flag_.get()) = 0;
  if (!regs_.count(recv)) regs_[recv] = m_.map(recv, capacity);
  const std::string data_rkey = data_key_sent_.insert({recv, from}).second ? m_.pack(regs_[recv]) : "";
  const std::string flag_rkey = flag_key_sent_.insert(from).second ? m_.pack(flag_memh_) : "";
  const int peer = to;
  PeerKeys& pk = rkeys_[peer];
  struct Header {
    std::uint64_t data_addr, flag_addr, data_len, flag_len;
  } h{reinterpret_cast<std::uint64_t>(recv), reinterpret_cast<std::uint64_t>(flag_.get()), data_rkey.size(),
      flag_rkey.size()};
  std::string msg(reinterpret_cast<const char*>(&h), sizeof h);
  msg += data_rkey + flag_rkey;
  std::vector<char> in(sizeof(Header) + 4096);
  w_.tag_send(msg.data(), msg.size(), from, kTagRkey);
  w_.tag_recv(in.data(), in.size(), to, kTagRkey);
  w_.wait_all();
  Header ph;
  std::memcpy(&ph, in.data(), sizeof ph);
  const char* blob = in.data() + sizeof ph;
  if (ph.data_len) {
    if (pk.data) ucp_rkey_destroy(pk.data);
    check_unpack(ucp_ep_rkey_unpack(w_.ep(peer), blob, &pk.data), peer);
  }
  if (ph.flag_len) {
    if (pk.flag) ucp_rkey_destroy(pk.flag);
    check_unpack(ucp_ep_rkey_unpack(w_.ep(peer), blob + ph.data_len, &pk.flag), peer);
  }
  pk.data_addr = ph.data_addr;
  pk.flag_addr = ph.flag_addr;
}

void PutP2P::check_unpack(ucs_status_t st, int peer) {
  if (st != UCS_OK)
    throw BackendError("ucx: ucp_ep_rkey_unpack of rank " + std::to_string(peer) + "'s key on " + w_.where() +
                       ": " + status_text(st));
}

void PutP2P::forget(void* p) {
  auto it = regs_.find(p);
  if (it == regs_.end()) return;
  ucp_mem_unmap(w_.context(), it->second);
  regs_.erase(it);
  std::erase_if(data_key_sent_, [p](const auto& k) { return k.first == p; });
}

void PutP2P::close() {
  for (auto& [peer, rk] : rkeys_) {
    if (rk.data) ucp_rkey_destroy(rk.data);
    if (rk.flag) ucp_rkey_destroy(rk.flag);
  }
  rkeys_.clear();
  for (auto& [ptr, reg] : regs_) ucp_mem_unmap(w_.context(), reg);
  regs_.clear();
  data_key_sent_.clear();
  flag_key_sent_.clear();
  if (flag_memh_) ucp_mem_unmap(w_.context(), flag_memh_);
  flag_memh_ = nullptr;
}

void PutP2P::put(const void* src, std::size_t bytes, std::uint64_t remote, ucp_rkey_h rkey, int peer) {
  if (bytes == 0) return;
  ucp_request_param_t prm = m_.param_for(src);
  w_.track(ucp_put_nbx(w_.ep(peer), src, bytes, remote, rkey, &prm), "ucp_put_nbx", peer);
}

void PutP2P::send_window(const void* buf, std::size_t bytes, int peer, int count, bool acked) {
  const PeerKeys& pk = rkeys_.at(peer);
  for (int i = 0; i < count; ++i) put(buf, bytes, pk.data_addr, pk.data, peer);
  if (acked) {
    ucp_request_param_t prm{};
    w_.track(ucp_ep_flush_nbx(w_.ep(peer), &prm), "ucp_ep_flush_nbx", peer);
    w_.wait_all();
  } else {
    const ucs_status_t st = ucp_worker_fence(w_.handle());
    if (st != UCS_OK) throw BackendError("ucx: ucp_worker_fence on " + w_.where() + ": " + status_text(st));
  }
  flag_src_ = ++send_seq_;
  put(&flag_src_, sizeof flag_src_, pk.flag_addr, pk.flag, peer);
}

void PutP2P::wait_all() {
  volatile std::uint64_t* f = flag_.get();
  while (*f < recv_seq_) w_.poll();
  w_.wait_all();
}

}  // namespace fb::transports::ucx
