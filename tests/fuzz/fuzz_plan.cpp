// libFuzzer target: the plan parser (fb::parse_plan, what `--plan FILE` runs) over arbitrary text.
// Bad input must end in fb::UsageError, the parser's documented error. Anything else (another
// exception, a crash, an ASan or UBSan report, a hang) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/plan.hpp"
#include "vocab/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)fb::parse_plan(text, "fuzz.yaml", {});
  } catch (const fb::UsageError&) {
    // Expected for bad input; other exceptions escape and terminate (libFuzzer reports a crash).
  }
  return 0;
}
