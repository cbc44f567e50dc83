// The `walcache` command line: subcommands register themselves from their own files, and return
// 0 (clean), 1 (found a problem) or 2 (could not run). A usage error (CLI11's parse errors: a
// missing or unexpected argument, a bad type, a value out of range) is one line on stderr and
// exit 2, as grep and diff do; --help and --version exit 0.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string>

#include "tools/admin_commands.h"
#include "tools/admin_util.h"
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
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    while (!message.empty() && message.back() == ' ') message.pop_back();
    // Name the subcommand the error is about, as far as parsing got.
    std::string where = "walcache";
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      where += " " + sub->get_name();
    }
    std::cerr << where << ": " << message << " (see " << where << " --help)" << std::endl;
    return walcache::tools::kExitCannotRun;
  }
  return exit_code;
}
