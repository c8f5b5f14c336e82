// fb::parse_bytes and fb::format_bytes: every accepted spelling, every rejection, and the round trip;
// fb::parse_number / parse_integer, the whole-string parsers every option with a number uses.
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

TEST(Units, ThreeSignificantDigits) {
  EXPECT_EQ(format_duration_us(0.85, Figures::three_significant), "850 ns");
  EXPECT_EQ(format_duration_us(12.34, Figures::three_significant), "12.3 us");
  EXPECT_EQ(format_duration_us(1.5, Figures::three_significant), "1.50 us");
  EXPECT_EQ(format_duration_us(1916003, Figures::three_significant), "1.92 s");
  EXPECT_EQ(format_rate_GBps(45.2, Figures::three_significant), "45.2 GB/s");
  EXPECT_EQ(format_rate_GBps(0.003538, Figures::three_significant), "3.54 MB/s");
}

TEST(Units, BitRatesScale) {
  EXPECT_EQ(format_rate_Gbitps(12.5), "100.00 Gbit/s");
  EXPECT_EQ(format_rate_Gbitps(450), "3.60 Tbit/s");
  EXPECT_EQ(format_rate_Gbitps(0.003538), "28.30 Mbit/s");
  EXPECT_EQ(format_rate_Gbitps(5e-8), "400 bit/s");
  EXPECT_EQ(format_rate_Gbitps(0.0), "0.00 Gbit/s");
  EXPECT_EQ(format_rate_Gbitps(0.003538, Figures::three_significant), "28.3 Mbit/s");
  EXPECT_EQ(format_rate_Gbitps(12.5, Figures::three_significant), "100 Gbit/s");
}

TEST(ParseNumber, TheWholeStringWithAnOptionalSuffix) {
  EXPECT_EQ(parse_number("2.5"), 2.5);
  EXPECT_EQ(parse_number("-3"), -3.0);
  EXPECT_EQ(parse_number("1e3"), 1000.0);
  EXPECT_EQ(parse_number("5%", {{'%', 1}}), 5.0);
  EXPECT_EQ(parse_number("5", {{'%', 1}}), 5.0);
  const std::initializer_list<NumberSuffix> time{{'s', 1}, {'m', 60}, {'h', 3600}};
  EXPECT_EQ(parse_number("90s", time), 90.0);
  EXPECT_EQ(parse_number("1.5m", time), 90.0);
  EXPECT_EQ(parse_number("2h", time), 7200.0);
  // Nothing before the suffix, anything left over, two suffixes, a suffix not offered.
  for (const char* bad : {"", "%", "5%%", "5 %", "5x", "x5", "1.2.3"})
    EXPECT_FALSE(parse_number(bad, {{'%', 1}})) << bad;
  EXPECT_FALSE(parse_number("5%"));
  for (const char* bad : {"s", "2hs", "2d", "m5"}) EXPECT_FALSE(parse_number(bad, time)) << bad;
  // Not finite, before or after scaling, and out of double's range.
  for (const char* bad : {"inf", "nan", "1e999", "1e-999"}) EXPECT_FALSE(parse_number(bad)) << bad;
  EXPECT_FALSE(parse_number("1e306h", time));
}

TEST(ParseInteger, TheWholeStringInBase10) {
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer("007"), 7);
  EXPECT_EQ(parse_integer("-12"), -12);
  EXPECT_EQ(parse_integer("9223372036854775807"), std::numeric_limits<long long>::max());
  for (const char* bad : {"", "-", "1.5", "1e3", "0x10", "12a", "9223372036854775808"})
    EXPECT_FALSE(parse_integer(bad)) << bad;
}

}  // namespace fb
