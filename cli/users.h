// `users`: the accounts of coordinators and teachers (docs/accounts.md). On the box's shell, so
// no setup code is needed: whoever can write the data folder already holds the box.
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers `users` with `add`, `list`, `disable` and `reset`.
void AddUsersCommands(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
