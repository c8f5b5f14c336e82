// Plan text parsed into tests; bad plans fail with UsageError naming FILE:LINE, never with another
// exception (tests/fuzz/fuzz_plan.cpp fuzzes the same entry point).
#include <gtest/gtest.h>

#include <string>

#include "harness/plan.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

// Expects parse_plan to fail with a one-line UsageError starting "p.yaml:LINE: " and naming `what`.
void expect_error(const std::string& text, int line, const std::string& what) {
  try {
    (void)parse_plan(text, "p.yaml", {});
    ADD_FAILURE() << "no error for: " << text;
  } catch (const UsageError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("p.yaml:" + std::to_string(line) + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(Plan, ParsesTestsWithDefaultsAndOverrides) {
  const auto tests =
      parse_plan("defaults: {iters: 5}\ntests:\n  - {name: a, op: [allreduce, alltoall]}\n  - op: sendrecv\n",
                 "p.yaml", {{"iters", "3"}});
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].name, "a");
  EXPECT_EQ(tests[0].ops.size(), 2u);
  EXPECT_EQ(tests[1].name, "test2");
  EXPECT_EQ(tests[1].iters, 3);
}

TEST(Plan, BadPlansNameFileAndLine) {
  expect_error("", 1, "a plan is a mapping");
  expect_error("tests: []\n", 1, "empty list");
  expect_error("tests:\n  - op: allreduce\n    op: alltoall\n", 3, "given twice");
  expect_error("tests:\n  - op: [allreduce, [x]]\n", 2, "list items must be plain values");
  expect_error("tests: [\n", 2, "invalid YAML");
}

// Found by fb_fuzz_plan (tests/fuzz/regressions/plan/list-as-key.yaml): a list or mapping as a key
// escaped as yaml-cpp's own "bad conversion" exception, with no file name.
TEST(Plan, NonScalarKeysAreUsageErrors) {
  expect_error("tests:\n? - op: allreduce\n", 2, "keys must be plain names");
  expect_error("[tests]: 1\n", 1, "keys must be plain names");
  expect_error("tests:\n  - {[op]: allreduce}\n", 2, "keys must be plain names");
  expect_error("defaults: {? {a: 1}: 2}\ntests:\n  - op: allreduce\n", 1, "keys must be plain names");
}

}  // namespace
}  // namespace fb
