// fb::parse_bytes and fb::format_bytes: every accepted spelling, every rejection, and the round trip.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "vocab/units.hpp"

namespace fb {
namespace {

constexpr std::uint64_t kKi = 1024ULL;
constexpr std::uint64_t kMi = kKi * 1024;
constexpr std::uint64_t kGi = kMi * 1024;
constexpr std::uint64_t kTi = kGi * 1024;

struct Spelling {
  const char* text;
  std::uint64_t bytes;
};

TEST(ParseBytes, AcceptsEverySpelling) {
  const Spelling cases[] = {
      // Plain integers and a bare "B".
      {"0", 0},
      {"8", 8},
      {"007", 7},
      {"123456789", 123456789},
      {"8B", 8},
      {"8 B", 8},
      // Binary: K/M/G/T, with or without "iB"; k and K alike.
      {"4K", 4 * kKi},
      {"4k", 4 * kKi},
      {"4KiB", 4 * kKi},
      {"4kiB", 4 * kKi},
      {"16M", 16 * kMi},
      {"16MiB", 16 * kMi},
      {"1G", kGi},
      {"1GiB", kGi},
      {"2T", 2 * kTi},
      {"2TiB", 2 * kTi},
      // Decimal: kB/KB/MB/GB/TB.
      {"64KB", 64000},
      {"64kB", 64000},
      {"2MB", 2000000},
      {"3GB", 3000000000ULL},
      {"1TB", 1000000000000ULL},
      // Fractions that come out whole.
      {"1.5K", 1536},
      {"0.5K", 512},
      {"1.25M", 1310720},
      {"1.0", 1},
      {"8.000", 8},
      {"2.5KB", 2500},
      {"1.234567MB", 1234567},
      {"0.0009765625K", 1},
      // Whitespace between the number and the unit, and around the whole text.
      {"4 K", 4 * kKi},
      {"4\tK", 4 * kKi},
      {"1.5 MiB", 1536 * kKi},
      {"2 MB", 2000000},
      {"  8  ", 8},
      {" 4K ", 4 * kKi},
      // The limits of 64 bits.
      {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
      {"16777215T", 16777215 * kTi},
      {"18446744073709551615B", std::numeric_limits<std::uint64_t>::max()},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(parse_bytes(c.text), c.bytes);
  }
}

TEST(ParseBytes, RejectsEverythingElse) {
  const char* cases[] = {
      // Empty and blank.
      "", " ", "\t",
      // Negative and signed.
      "-1", "-1K", " -8", "+8",
      // Not a number.
      "abc", "K", "KiB", "B", ".5K", "1.", "1.K", "1.5.2", "1e3", "0x10", "1,000", "1_000", "inf", "nan",
      // Unknown or misspelt units.
      "12X", "1KK", "1Ki", "1KIB", "1Kib", "1kb", "1Kb", "1b", "1m", "1g", "1t", "1mb", "1P", "1E", "1KiBB",
      "1BB", "1 K B", "1K B", "1iB",
      // Trailing junk.
      "8 8", "4K!", "4K 1", "16MiB,",
      // Not a whole number of bytes.
      "0.1", "0.5", "1.3K", "1.5", "1.0001KB", "0.00048828125K" /* half a byte */,
      // Larger than 64 bits.
      "18446744073709551616", "99999999999999999999999", "16777216T", "16777216TiB", "18446744073709552KB",
      "20000000TB"};
  for (const char* text : cases) {
    SCOPED_TRACE(std::string("'") + text + "'");
    EXPECT_THROW(parse_bytes(text), std::invalid_argument);
  }
}

std::string message_of(std::string_view text) {
  try {
    parse_bytes(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(ParseBytes, MessagesQuoteTheTextAndSayWhy) {
  EXPECT_EQ(message_of("12X"),
            "invalid size '12X': expected a number with an optional unit (K, M, G, T, KiB..., KB...)");
  EXPECT_EQ(message_of("1.3K"), "invalid size '1.3K': not a whole number of bytes");
  EXPECT_EQ(message_of("-4K"), "invalid size '-4K': a size cannot be negative");
  EXPECT_EQ(message_of("16777216T"), "invalid size '16777216T': larger than 2^64-1 bytes");
  EXPECT_NE(message_of("").find("invalid size '': empty"), std::string::npos);
}

TEST(FormatBytes, ExactBinaryUnitsWhenPossible) {
  EXPECT_EQ(format_bytes(0), "0");
  EXPECT_EQ(format_bytes(8), "8");
  EXPECT_EQ(format_bytes(1000), "1000");
  EXPECT_EQ(format_bytes(1023), "1023");
  EXPECT_EQ(format_bytes(1024), "1K");
  EXPECT_EQ(format_bytes(4096), "4K");
  EXPECT_EQ(format_bytes(16 * kMi), "16M");
  EXPECT_EQ(format_bytes(kGi), "1G");
  EXPECT_EQ(format_bytes(3 * kTi), "3T");
  EXPECT_EQ(format_bytes(2048 * kTi), "2048T");
}

TEST(FormatBytes, OneDecimalPlaceWhenExact) {
  EXPECT_EQ(format_bytes(1536), "1.5K");
  EXPECT_EQ(format_bytes(1536 * kKi), "1.5M");
  EXPECT_EQ(format_bytes(kGi + kGi / 2), "1.5G");
  EXPECT_EQ(format_bytes(kTi / 2 * 5), "2.5T");
}

TEST(FormatBytes, FallsBackToASmallerUnitThenToBytes) {
  EXPECT_EQ(format_bytes(1310720), "1280K");  // 1.25M has two decimals
  EXPECT_EQ(format_bytes(1025), "1025");
  EXPECT_EQ(format_bytes(1100), "1100");        // 1.07421875K
  EXPECT_EQ(format_bytes(1000000), "1000000");  // 976.5625K
  EXPECT_EQ(format_bytes(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
}

TEST(FormatBytes, RoundTripsThroughParse) {
  const std::uint64_t values[] = {
      0,       1,       7,       8,           1000,           1023,
      1024,    1025,    1536,    4096,        1310720,        1000000,
      kMi + 1, 3 * kMi, kGi - 1, 5 * kGi / 2, 16777215 * kTi, std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t v : values) {
    SCOPED_TRACE(v);
    EXPECT_EQ(parse_bytes(format_bytes(v)), v);
  }
}

}  // namespace

// Times and rates for people, in the unit that fits (the console; files keep us and GB/s).
TEST(Units, DurationsScale) {
  EXPECT_EQ(format_duration_us(0.875), "875.0 ns");
  EXPECT_EQ(format_duration_us(0.0), "0.0 ns");
  EXPECT_EQ(format_duration_us(12.5), "12.50 us");
  EXPECT_EQ(format_duration_us(999.5), "999.50 us");
  EXPECT_EQ(format_duration_us(12346.0), "12.35 ms");
  EXPECT_EQ(format_duration_us(1916003), "1.92 s");
  EXPECT_EQ(format_duration_us(3600e6), "3600.00 s");
}

TEST(Units, RatesScale) {
  EXPECT_EQ(format_rate_GBps(850.2857142857143), "850.29 GB/s");
  EXPECT_EQ(format_rate_GBps(1.0), "1.00 GB/s");
  EXPECT_EQ(format_rate_GBps(0.12288), "122.88 MB/s");
  EXPECT_EQ(format_rate_GBps(0.003538), "3.54 MB/s");
  EXPECT_EQ(format_rate_GBps(2e-6), "2.00 kB/s");
  EXPECT_EQ(format_rate_GBps(5e-7), "500 B/s");
  EXPECT_EQ(format_rate_GBps(0.0), "0.00 GB/s");
}

}  // namespace fb
