# The mutation run (docs/checker.md, "Defects planted from outside"): applies each defect of
# mutants.py to a scratch checkout, rebuilds its CLI, runs lockstep and the crash test against
# it, prints one JSON line per defect, and reverts. Never run it on the tree you work in.
#   WALCACHE_MUTATION_TREE=/path/to/scratch python3 tools/mutation/run.py [NAME...]
import subprocess, sys, json, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutants import MUTANTS
ROOT = os.environ.get('WALCACHE_MUTATION_TREE', '')
if not ROOT: sys.exit('set WALCACHE_MUTATION_TREE to a scratch checkout (git worktree add ...) with a configured build/release')
B = ROOT + '/build/release/tools/walcache'
only = sys.argv[1:]
def sh(cmd, timeout):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
for name, f, old, new in MUTANTS:
    if only and name not in only: continue
    p = os.path.join(ROOT, f)
    src = open(p).read()
    if src.count(old) != 1:
        print(name, "PATTERN", src.count(old), flush=True); continue
    open(p, 'w').write(src.replace(old, new))
    try:
        b = subprocess.run(f"cmake --build {ROOT}/build/release -j2 --target walcache_cli", shell=True, capture_output=True, text=True)
        if b.returncode != 0:
            print(name, "BUILD FAILED", b.stdout[-500:], flush=True); continue
        res = {}
        for s in (1, 2):
            out = sh(f"{B} lockstep --transactions 30000 --seed {s} --json", 400)
            try:
                d = json.loads(out); res[f"lockstep{s}"] = d['failed_at'] if d['failure'] else 'clean'
                if d['failure']: res[f"lockstep{s}_why"] = d['failure'][:160].replace('\n', ' ')
            except Exception: res[f"lockstep{s}"] = 'ERR ' + out[-200:]
        for s in (1, 2):
            kept = f"/tmp/walcache-mutation-kept/{name}-seed{s}"  # a failing cycle's directory
            out = sh(f"{B} crash-test --cycles 250 --seed {s} --json --keep-failures {kept}", 900)
            try:
                d = json.loads(out); fl = d.get('failures') or []
                res[f"crash{s}"] = fl[0]['cycle'] if fl else f"clean({d['cycles']})"
                if fl: res[f"crash{s}_why"] = (fl[0]['invariant'] + ': ' + fl[0]['detail'])[:160].replace('\n', ' ')
            except Exception: res[f"crash{s}"] = 'ERR ' + out[-200:]
        print(name, json.dumps(res), flush=True)
    finally:
        open(p, 'w').write(src)
subprocess.run(f"cmake --build {ROOT}/build/release -j2 --target walcache_cli", shell=True, capture_output=True)
