#include "collectives/reduce.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace fb {

namespace {

// `arithmetic`: the op can overflow, so signed integers are computed in the unsigned type of the
// same width (two's-complement wrap-around, as NCCL/MPI do, instead of undefined behaviour).
struct Sum {
  static constexpr bool arithmetic = true;
  template <class T>
  static T apply(T a, T b) {
    return a + b;
  }
};
struct Prod {
  static constexpr bool arithmetic = true;
  template <class T>
  static T apply(T a, T b) {
    return a * b;
  }
};
struct Min {
  static constexpr bool arithmetic = false;
  template <class T>
  static T apply(T a, T b) {
    return b < a ? b : a;
  }
};
struct Max {
  static constexpr bool arithmetic = false;
  template <class T>
  static T apply(T a, T b) {
    return a < b ? b : a;
  }
};

template <class T, class Op>
using compute_t = typename std::conditional_t<Op::arithmetic && std::is_integral_v<T> && std::is_signed_v<T>,
                                              std::make_unsigned<T>, std::type_identity<T>>::type;

// Plain element loops over restrict-free but contiguous arrays; -O3 vectorises each instance.
template <class T, class Op>
void loop(T* out, const T* a, const T* b, std::size_t n) {
  using C = compute_t<T, Op>;
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<T>(Op::template apply<C>(static_cast<C>(a[i]), static_cast<C>(b[i])));
}

// Small integers promote to int in C++; cast back to keep the wrap-around of the storage type.
template <class T, class Op>
void loop_narrow(T* out, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(Op::template apply<int>(a[i], b[i]));
}

// 16-bit floats: widen to float32, reduce, round once per element. One fused loop over
// branch-free conversions (collectives/dtype.hpp), which GCC vectorises.
template <class Op, float (*to_f)(std::uint16_t), std::uint16_t (*from_f)(float)>
void loop_f16(std::uint16_t* out, const std::uint16_t* a, const std::uint16_t* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = from_f(Op::apply(to_f(a[i]), to_f(b[i])));
}

template <class Op>
void dispatch(void* out, const void* a, const void* b, std::size_t n, DType t) {
  switch (t) {
    case DType::int8:
      loop_narrow<std::int8_t, Op>(static_cast<std::int8_t*>(out), static_cast<const std::int8_t*>(a),
                                   static_cast<const std::int8_t*>(b), n);
      break;
    case DType::uint8:
      loop_narrow<std::uint8_t, Op>(static_cast<std::uint8_t*>(out), static_cast<const std::uint8_t*>(a),
                                    static_cast<const std::uint8_t*>(b), n);
      break;
    case DType::int32:
      loop<std::int32_t, Op>(static_cast<std::int32_t*>(out), static_cast<const std::int32_t*>(a),
                             static_cast<const std::int32_t*>(b), n);
      break;
    case DType::uint32:
      loop<std::uint32_t, Op>(static_cast<std::uint32_t*>(out), static_cast<const std::uint32_t*>(a),
                              static_cast<const std::uint32_t*>(b), n);
      break;
    case DType::int64:
      loop<std::int64_t, Op>(static_cast<std::int64_t*>(out), static_cast<const std::int64_t*>(a),
                             static_cast<const std::int64_t*>(b), n);
      break;
    case DType::uint64:
      loop<std::uint64_t, Op>(static_cast<std::uint64_t*>(out), static_cast<const std::uint64_t*>(a),
                              static_cast<const std::uint64_t*>(b), n);
      break;
    case DType::float16:
      loop_f16<Op, half_to_float, float_to_half>(static_cast<std::uint16_t*>(out),
                                                 static_cast<const std::uint16_t*>(a),
                                                 static_cast<const std::uint16_t*>(b), n);
      break;
    case DType::bfloat16:
      loop_f16<Op, bf16_to_float, float_to_bf16>(static_cast<std::uint16_t*>(out),
                                                 static_cast<const std::uint16_t*>(a),
                                                 static_cast<const std::uint16_t*>(b), n);
      break;
    case DType::float32:
      loop<float, Op>(static_cast<float*>(out), static_cast<const float*>(a), static_cast<const float*>(b),
                      n);
      break;
    case DType::float64:
      loop<double, Op>(static_cast<double*>(out), static_cast<const double*>(a),
                       static_cast<const double*>(b), n);
      break;
  }
}

}  // namespace

void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype, RedOp op) {
  switch (op) {
    case RedOp::sum:
      dispatch<Sum>(out, a, b, count, dtype);
      break;
    case RedOp::prod:
      dispatch<Prod>(out, a, b, count, dtype);
      break;
    case RedOp::min:
      dispatch<Min>(out, a, b, count, dtype);
      break;
    case RedOp::max:
      dispatch<Max>(out, a, b, count, dtype);
      break;
  }
}

void reduce_inplace(void* inout, const void* in, std::size_t count, DType dtype, RedOp op) {
  reduce_into(inout, inout, in, count, dtype, op);
}

}  // namespace fb
