// The `walcache` command line: subcommands register themselves from their own files. CLI11's
// parse errors keep CLI11's exit codes (100 and up); subcommands return 0 (clean), 1 (found a
// problem) or 2 (could not run).
#include <CLI/CLI.hpp>

#include "tools/admin_commands.h"
#include "tools/bench.h"
#include "walcache/version.h"

int main(int argc, char** argv) {
  CLI::App app{"walcache: inspect, verify, repair and benchmark a walcache database"};
  app.set_version_flag("--version", std::string(walcache::Version()));
  app.require_subcommand(1);
  int exit_code = 0;
  walcache::tools::RegisterInspect(&app, &exit_code);
  walcache::tools::RegisterGetScan(&app, &exit_code);
  walcache::tools::RegisterPutDel(&app, &exit_code);
  walcache::tools::RegisterWalDump(&app, &exit_code);
  walcache::tools::RegisterVerify(&app, &exit_code);
  walcache::tools::RegisterRepair(&app, &exit_code);
  walcache::tools::RegisterCompact(&app, &exit_code);
  walcache::tools::RegisterCrashTest(&app, &exit_code);
  walcache::tools::RegisterLockstep(&app, &exit_code);
  walcache::tools::RegisterSoak(&app, &exit_code);
  walcache::tools::RegisterBench(&app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
