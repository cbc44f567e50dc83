// The admin subcommands of `walcache`, one file each: inspect, get, scan, put, del, wal dump,
// verify, repair, compact. Each Register* adds its subcommand to `app`; `*exit_code` receives the
// exit code when it runs (kExitOk, kExitProblem, kExitCannotRun; see admin_util.h).
// Read-only commands (inspect, get, scan, wal dump, verify) take no lock, write nothing, and
// never create a directory.
#ifndef WALCACHE_TOOLS_ADMIN_COMMANDS_H_
#define WALCACHE_TOOLS_ADMIN_COMMANDS_H_

namespace CLI {
class App;
}

namespace walcache::tools {

void RegisterInspect(CLI::App* app, int* exit_code);
void RegisterGetScan(CLI::App* app, int* exit_code);  // get and scan
void RegisterPutDel(CLI::App* app, int* exit_code);   // put and del
void RegisterWalDump(CLI::App* app, int* exit_code);  // wal dump
void RegisterVerify(CLI::App* app, int* exit_code);
void RegisterRepair(CLI::App* app, int* exit_code);
void RegisterCompact(CLI::App* app, int* exit_code);
void RegisterCrashTest(CLI::App* app, int* exit_code);
void RegisterLockstep(CLI::App* app, int* exit_code);
void RegisterSoak(CLI::App* app, int* exit_code);

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_ADMIN_COMMANDS_H_
