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

// The command line spells keys with hyphens (--p2p-api, --sample-barrier, --cuda-graph) and the
// README's plan section says "the keys above": plans take both spellings as one key.
TEST(Plan, KeysTakeHyphensAndUnderscores) {
  const auto tests = parse_plan(
      "defaults: {sample-barrier: true, p2p_api: put}\n"
      "tests:\n  - {op: sendrecv, p2p-api: am, window: 4}\n  - {op: pingpong, cuda-graph: 0, nccl_proto: "
      "LL}\n",
      "p.yaml", {});
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].p2p_api, "am");  // the test's hyphen spelling replaces the default's underscore one
  EXPECT_TRUE(tests[0].sample_barrier);
  EXPECT_EQ(tests[1].p2p_api, "put");
  EXPECT_TRUE(tests[1].sample_barrier);
  EXPECT_EQ(tests[1].nccl_proto, "LL");
}

// Both spellings of one key in one mapping are the same key given twice, whether or not they agree.
TEST(Plan, BothSpellingsOfAKeyAreAnError) {
  expect_error("tests:\n  - op: sendrecv\n    p2p_api: put\n    p2p-api: am\n", 4,
               "p2p-api: given twice (as 'p2p_api' and 'p2p-api')");
  expect_error("defaults:\n  sample-barrier: true\n  sample_barrier: true\ntests:\n  - op: allreduce\n", 3,
               "given twice");
  expect_error("tests:\n  - {op: allreduce, p2p-apii: put}\n", 2, "unknown key");
}

}  // namespace
}  // namespace fb
