// The `outpost` binary as the end-to-end tests drive it: a command on a data folder, and its
// --json output. For targets that define OUTPOST_BINARY.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/subprocess.h"

namespace outpost::testing {

// Runs `outpost ARGS... --data DATA`.
inline ProcessResult OutpostOn(const std::filesystem::path& data, std::vector<std::string> args) {
  args.insert(args.begin(), OUTPOST_BINARY);
  args.push_back("--data");
  args.push_back(data.string());
  return RunProcess(args);
}

// The JSON a command printed; a failure of the test if the command failed.
inline nlohmann::json JsonOf(const ProcessResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

}  // namespace outpost::testing
