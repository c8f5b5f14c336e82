#include "transports/ucx/ucx_am.hpp"

#include <cstring>

#include "vocab/error.hpp"

namespace fb::transports::ucx {

namespace {
constexpr unsigned kAmId = 11;
}

std::string AmP2P::install() {
  ucp_am_handler_param_t hp{};
  hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                  UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
  hp.id = kAmId;
  hp.cb = &AmP2P::on_am;
  hp.arg = this;
  hp.flags = UCP_AM_FLAG_WHOLE_MSG;
  const ucs_status_t st = ucp_worker_set_am_recv_handler(w_.handle(), &hp);
  if (st != UCS_OK) return "ucp_worker_set_am_recv_handler: " + status_text(st);
  return "";
}

void AmP2P::send(const void* buf, std::size_t bytes, int peer) {
  ucp_request_param_t prm{};
  w_.track(ucp_am_send_nbx(w_.ep(peer), kAmId, nullptr, 0, buf, bytes, &prm), "ucp_am_send_nbx", peer);
}

ucs_status_t AmP2P::on_am(void* arg, const void*, std::size_t, void* data, std::size_t length,
                          const ucp_am_recv_param_t* param) {
  auto* self = static_cast<AmP2P*>(arg);
  if (self->dest_ == nullptr || length > self->capacity_) {
    self->error_ =
        "ucx: unexpected active message of " + std::to_string(length) + " bytes on " + self->w_.where();
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) ucp_am_data_release(self->w_.handle(), data);
    return UCS_OK;
  }
  if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
    ucp_request_param_t prm{};
    prm.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    prm.cb.recv_am = [](void* req, ucs_status_t st, std::size_t, void* user) {
      auto* b = static_cast<AmP2P*>(user);
      if (st != UCS_OK)
        b->error_ = "ucx: active-message rendezvous failed on " + b->w_.where() + ": " + status_text(st);
      ++b->arrived_;
      ucp_request_free(req);
    };
    prm.user_data = self;
    void* r = ucp_am_recv_data_nbx(self->w_.handle(), data, self->dest_, length, &prm);
    if (r == nullptr) {
      ++self->arrived_;
    } else if (UCS_PTR_IS_ERR(r)) {
      self->error_ =
          "ucx: ucp_am_recv_data_nbx failed on " + self->w_.where() + ": " + status_text(UCS_PTR_STATUS(r));
    }
    return UCS_OK;
  }
  if (self->m_.on_device(self->dest_))
    self->m_.device()->copy(self->dest_, data, length);
  else
    std::memcpy(self->dest_, data, length);
  ++self->arrived_;
  return UCS_OK;
}

void AmP2P::wait_all() {
  std::string err = w_.complete_all();
  while (arrived_ < expected_ && error_.empty()) w_.poll();
  if (!error_.empty() && err.empty()) err = error_;
  if (!err.empty()) throw BackendError("ucx: " + err);
}

}  // namespace fb::transports::ucx
