// fabricbench's dtypes, reductions and collectives by NCCL's names.
#pragma once

#include <nccl.h>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"

namespace fb::transports {

inline ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::int8:
      return ncclInt8;
    case DType::uint8:
      return ncclUint8;
    case DType::int32:
      return ncclInt32;
    case DType::uint32:
      return ncclUint32;
    case DType::int64:
      return ncclInt64;
    case DType::uint64:
      return ncclUint64;
    case DType::float16:
      return ncclFloat16;
    case DType::bfloat16:
      return ncclBfloat16;
    case DType::float32:
      return ncclFloat32;
    case DType::float64:
      return ncclFloat64;
  }
  return ncclFloat32;
}

inline ncclRedOp_t nccl_op(RedOp o) {
  switch (o) {
    case RedOp::sum:
      return ncclSum;
    case RedOp::prod:
      return ncclProd;
    case RedOp::min:
      return ncclMin;
    case RedOp::max:
      return ncclMax;
  }
  return ncclSum;
}

// NCCL's own name of a collective, as its tuning log prints it.
inline const char* nccl_func(OpKind k) {
  switch (k) {
    case OpKind::allreduce:
      return "AllReduce";
    case OpKind::allgather:
      return "AllGather";
    case OpKind::reducescatter:
      return "ReduceScatter";
    case OpKind::broadcast:
      return "Broadcast";
    case OpKind::reduce:
      return "Reduce";
    default:
      return "";
  }
}

}  // namespace fb::transports
