// The `outpost` command line: parses arguments, wires the concrete pieces together and runs one
// subcommand. Exit codes (docs/cli.md): 0 success, 1 failure, 2 bad usage, 3 `verify` found
// damage, 4 busy (another process holds a lock the command needs), 5 `sync` not finished (its
// budget was reached or the link dropped: what arrived is kept; run it again).
#pragma once

namespace outpost {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitDamaged = 3, kExitBusy = 4,
                kExitIncomplete = 5 };

int RunCli(int argc, char** argv);

}  // namespace outpost
