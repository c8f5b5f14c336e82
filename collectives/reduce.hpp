// Host reductions for every dtype x redop: inout[i] = inout[i] (op) in[i]. Written as plain loops
// over contiguous arrays so the compiler vectorises them; float16/bfloat16 reduce in float32 and
// round once per element.
#pragma once

#include <cstddef>

#include "collectives/dtype.hpp"

namespace fb {

void reduce_inplace(void* inout, const void* in, std::size_t count, DType dtype, RedOp op);
// out[i] = a[i] (op) b[i]; out may alias a or b.
void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype, RedOp op);

}  // namespace fb
