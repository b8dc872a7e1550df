#!/usr/bin/env bash
# Figures for `git par run` (issue 4): 8 tasks of `sleep 1` with -j 8 on a 100,000-file
# repository.
#
# The time beyond creating the worktrees is measured inside one run, from its own plain
# output (stderr is a pipe here): each line is stamped as it arrives, and the run's time
# beyond creating is from the moment the last task's command starts ("t8: running") to the
# run's exit. Timing 8 separate `git par start`s against the run instead would compare two
# 2-minute checkout phases on a shared machine, whose noise is larger than the figure.
# Also: the same run on the existing tasks (no creation at all), and git-par's own peak
# memory (VmHWM of the git-par process, sampled from /proc; /usr/bin/time would report the
# biggest child instead, a git checkout).
#
#   bench/run-figures.sh [FILES]      (default 100000; needs python3, bc and a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100000}
cargo build --release --locked -q
bin=$PWD/target/release/git-par
gen=${GEN_REPO:-bench/gen_repo.py}
bare=$(python3 "$gen" --files "$files")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/gitconfig
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"
tasks=(t1 t2 t3 t4 t5 t6 t7 t8)
now() { date +%s.%N; }

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

stamp() { while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done; }

git clone -q "$bare" "$work/repo"
cd "$work/repo"
t0=$(now)
"$bin" run -j 8 --start "${tasks[@]}" -- sleep 1 2> >(stamp >"$work/stamped") >/dev/null &
pid=$!
hwm_start=$(peak "$pid")
wait "$pid"
t_end=$(now)
sleep 0.2
last_running=$(awk '/ t8: running/ {print $1}' "$work/stamped")
create_s=$(echo "$last_running - $t0" | bc)
beyond_s=$(echo "$t_end - $last_running" | bc)

t0=$(now)
"$bin" run -j 8 "${tasks[@]}" -- sleep 1 >/dev/null 2>&1 &
pid=$!
hwm_run=$(peak "$pid")
wait "$pid"
again_s=$(echo "$(now) - $t0" | bc)

printf 'repository:                                 %s files\n' "$files"
printf 'run -j 8 --start t1..t8 -- sleep 1:\n'
printf '  creating the 8 worktrees (to t8 running):  %.3f s\n' "$create_s"
printf '  beyond creating the worktrees:             %.3f s (1 s of it is the sleep)\n' "$beyond_s"
printf '  git-par peak RSS:                          %s kB\n' "$hwm_start"
printf 'run -j 8 t1..t8 -- sleep 1 (tasks exist):    %.3f s (%.3f s beyond the sleep)\n' "$again_s" "$(echo "$again_s - 1" | bc)"
printf '  git-par peak RSS:                          %s kB\n' "$hwm_run"
