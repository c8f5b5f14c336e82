// Sizes and their spellings, shared by every command (standard library only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fb {

// Parse a size: "8", "4K", "4k", "16MiB", "1G", "1.5K", "64KB", "2 MB". Suffixes K/M/G/T with or
// without "iB" are binary (1024^n, as nccl-tests); "kB/KB/MB/GB/TB" are decimal (1000^n); a
// trailing "B" alone means bytes. Throws std::invalid_argument naming the text on anything else,
// a result that is not a whole number of bytes, or one that overflows 64 bits.
std::uint64_t parse_bytes(std::string_view text);

// Human form with binary units, exact when possible: 8 -> "8", 4096 -> "4K", 1536 -> "1.5K".
std::string format_bytes(std::uint64_t bytes);

// A time given in microseconds, in the unit that fits its magnitude (for people; files keep us):
// 0.88 -> "880.0 ns", 12.5 -> "12.50 us", 1916003 -> "1.92 s".
std::string format_duration_us(double us);

// A rate given in GB/s (1e9 B/s), in the decimal unit that fits: 850 -> "850.00 GB/s",
// 0.003538 -> "3.54 MB/s", 2e-6 -> "2.00 kB/s"; 0 -> "0.00 GB/s".
std::string format_rate_GBps(double GBps);

}  // namespace fb
