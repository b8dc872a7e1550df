#!/usr/bin/env bash
# Figures for `git par run` (issue 4): 8 tasks of `sleep 1` with -j 8 on a 100,000-file
# repository. Prints the time `git par start` takes for the 8 worktrees, the wall time of
# `git par run -j 8 --start t1..t8 -- sleep 1`, the difference, the wall time of the same run
# on existing tasks, and git-par's own peak memory (VmHWM of the git-par process, sampled from
# /proc; /usr/bin/time would report the biggest child instead, a git checkout).
#
#   bench/run-figures.sh [FILES]      (default 100000; needs python3 and a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100000}
cargo build --release --locked -q
bin=$PWD/target/release/git-par
gen=${GEN_REPO:-bench/gen_repo.py}
[ -f "$gen" ] || gen=/work/h-bench/bench/gen_repo.py
bare=$(python3 "$gen" --files "$files")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/gitconfig
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"
tasks=(t1 t2 t3 t4 t5 t6 t7 t8)
now() { date +%s.%N; }

clone() { git clone -q "$bare" "$work/$1"; }

# Peak resident memory of a git-par process, sampled until it exits: prints kB.
peak() {
  local pid=$1 hwm=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && hwm=$v
    sleep 0.01
  done
  echo "$hwm"
}

clone a
t0=$(now)
for t in "${tasks[@]}"; do (cd "$work/a" && "$bin" start "$t" >/dev/null 2>&1); done
t1=$(now)
start_s=$(echo "$t1 - $t0" | bc)

clone b
t0=$(now)
(cd "$work/b" && exec "$bin" run -j 8 --start "${tasks[@]}" -- sleep 1 >/dev/null 2>"$work/run.err") &
pid=$!
hwm_start=$(peak "$pid")
wait "$pid"
t1=$(now)
run_s=$(echo "$t1 - $t0" | bc)

t0=$(now)
(cd "$work/b" && exec "$bin" run -j 8 "${tasks[@]}" -- sleep 1 >/dev/null 2>&1) &
pid=$!
hwm_run=$(peak "$pid")
wait "$pid"
t1=$(now)
again_s=$(echo "$t1 - $t0" | bc)

printf 'repository:                              %s files (%s)\n' "$files" "$bare"
printf '8 x git par start:                        %.3f s\n' "$start_s"
printf 'git par run -j 8 --start t1..t8 sleep 1:  %.3f s\n' "$run_s"
printf '  beyond creating the worktrees:          %.3f s (of which 1 s is the sleep)\n' "$(echo "$run_s - $start_s" | bc)"
printf 'git par run -j 8 t1..t8 sleep 1 (exist):  %.3f s (%.3f s beyond the sleep)\n' "$again_s" "$(echo "$again_s - 1" | bc)"
printf 'git-par peak RSS, run with --start:       %s kB\n' "$hwm_start"
printf 'git-par peak RSS, run on existing tasks:  %s kB\n' "$hwm_run"
