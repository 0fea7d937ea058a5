// Test helpers for compressed data: decompress gzip and zstd bodies, and write ZIP files (HTML5
// apps, damaged archives). For tests only.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace outpost::testing {

// Inflates a gzip stream (a failure is a test failure and gives what inflated so far).
std::string Gunzip(std::string_view in);
// Decompresses one zstd frame that records its content size.
std::string Unzstd(std::string_view in);
// Writes a ZIP file (deflated entries, names as given, even unsafe ones).
void WriteZip(const std::filesystem::path& path, const std::map<std::string, std::string>& entries);

}  // namespace outpost::testing
