// libFuzzer target: the results reader (fb::parse_results, what compare, calibrate and report read:
// the sinks' CSV and JSON) over arbitrary text. Bad input must end in fb::UsageError, the reader's
// documented error; anything else (another exception, a crash, an ASan or UBSan report, a hang) is
// a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/results_reader.hpp"
#include "vocab/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)fb::parse_results(text, "fuzz.results");
  } catch (const fb::UsageError&) {
    // Expected for bad input; other exceptions escape and terminate (libFuzzer reports a crash).
  }
  return 0;
}
