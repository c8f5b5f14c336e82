// Sizes and their spellings, shared by every command (standard library only).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace fb {

// Parse a size: "8", "4K", "4k", "16MiB", "1G", "1.5K", "64KB", "2 MB". Suffixes K/M/G/T with or
// without "iB" are binary (1024^n, as nccl-tests); "kB/KB/MB/GB/TB" are decimal (1000^n); a
// trailing "B" alone means bytes. Throws std::invalid_argument naming the text on anything else,
// a result that is not a whole number of bytes, or one that overflows 64 bits.
std::uint64_t parse_bytes(std::string_view text);

// A unit suffix a number may end in, and what it multiplies the number by ('m', 60: minutes).
struct NumberSuffix {
  char suffix;
  double scale;
};

// The whole of `text` as a finite number in decimal notation (as std::stod reads it), optionally
// followed by one of `suffixes`, which scales it: parse_number("30m", {{'s', 1}, {'m', 60}}) is
// 1800. std::nullopt when nothing is left before the suffix, when any character is left over, or
// when the (scaled) value is out of range or not finite. Callers check the range and word their
// own error, so the message names their option.
std::optional<double> parse_number(std::string_view text, std::initializer_list<NumberSuffix> suffixes = {});

// The whole of `text` as a base-10 integer (as std::stoll reads it); std::nullopt when it is
// empty, has any character left over or does not fit 64 bits.
std::optional<long long> parse_integer(std::string_view text);

// Human form with binary units, exact when possible: 8 -> "8", 4096 -> "4K", 1536 -> "1.5K".
std::string format_bytes(std::uint64_t bytes);

// How a figure scaled to its unit is written: two decimals ("12.50 us"; ns with one, B/s with
// none), or three significant digits ("12.5 us", "850 ns": narrower, for validate's tables).
enum class Figures { two_decimals, three_significant };

// A time given in microseconds, in the unit that fits its magnitude (for people; files keep us):
// 0.88 -> "880.0 ns", 12.5 -> "12.50 us", 1916003 -> "1.92 s".
std::string format_duration_us(double us, Figures f = Figures::two_decimals);

// A rate given in GB/s (1e9 B/s), in the decimal unit that fits: 850 -> "850.00 GB/s",
// 0.003538 -> "3.54 MB/s", 2e-6 -> "2.00 kB/s"; 0 -> "0.00 GB/s".
std::string format_rate_GBps(double GBps, Figures f = Figures::two_decimals);

// A rate given in GB/s, written in bits per second as links between hosts are rated:
// 12.5 -> "100.00 Gbit/s", 450 -> "3.60 Tbit/s", 0.003538 -> "28.30 Mbit/s"; 0 -> "0.00 Gbit/s".
std::string format_rate_Gbitps(double GBps, Figures f = Figures::two_decimals);

}  // namespace fb
