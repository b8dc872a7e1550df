#!/usr/bin/env bash
# Issue 11: `git par run` as an orchestrator's whole engine, against what such a tool does
# by hand. Both sides take 12 tasks, 6 at a time, on a fresh clone of the generated
# repository; each task gets a branch and worktree, runs a one-second command that commits
# a file, is merged into main, and is removed.
#
#   par:   git par run -j 6 --start --finish t1 … t12 -- sh -c '<command>'
#   xargs: xargs -P 6 over: git worktree add -b (under flock: git's worktree add is not safe
#          to run twice at once), the command, then under the same flock the merge into
#          main, git worktree remove and git branch -d.
#
# The two sides alternate which runs first in each round, and `sync` runs before each
# timing (deleting files already flushed to disk is slower than fresh ones). Prints each
# round's wall times and the ratio par/xargs; the target is at most 0.8.
#
#   bench/run-engine.sh [FILES] [ROUNDS]     (default 20000 files, 2 rounds)
#   GIT_PAR_BIN=…  the binary (default: target/release/git-par, else target/debug/git-par)
#   SHORT=1        CI's short mode: 1,000 files, 1 round, 4 tasks of 0.2 s (checks it runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
files=${1:-20000}
rounds=${2:-2}
tasks=12 jobs=6 pause=1
if [ -n "${SHORT:-}" ]; then files=1000 rounds=1 tasks=4 jobs=2 pause=0.2; fi
bin=${GIT_PAR_BIN:-}
if [ -z "$bin" ]; then
  for b in target/release/git-par target/debug/git-par; do
    if [ -x "$b" ]; then bin=$root/$b; break; fi
  done
fi
[ -x "${bin:-}" ] || { echo "build git-par first (cargo build --locked)" >&2; exit 2; }
bare=$(python3 bench/gen_repo.py --files "$files")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/gitconfig HOME=$work
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"
names=()
for n in $(seq 1 "$tasks"); do names+=("t$n"); done
command="sleep $pause; echo \$GIT_PAR_TASK > \$GIT_PAR_TASK.txt && git add \$GIT_PAR_TASK.txt && git commit -qm \$GIT_PAR_TASK"

# One task by hand, as an orchestrator script does it.
cat >"$work/by-hand.sh" <<EOF
#!/bin/sh
set -e
t=\$1
cd "\$2"
flock "\$2/.git/bench.lock" git worktree add -q -b "par/\$t" "../wt/\$t"
(cd "../wt/\$t" && sleep $pause && echo "\$t" > "\$t.txt" && git add "\$t.txt" && git commit -qm "\$t")
flock "\$2/.git/bench.lock" sh -c "git merge -q --no-edit par/\$t && git worktree remove ../wt/\$t && git branch -q -d par/\$t"
EOF
chmod +x "$work/by-hand.sh"

now() { date +%s.%N; }

side() {
  local which=$1 dir=$work/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  git clone -q "$bare" "$dir/repo"
  sync
  local t0 t1
  t0=$(now)
  case $which in
    par)
      (cd "$dir/repo" && "$bin" run -j "$jobs" --start --finish "${names[@]}" -- sh -c "$command" >/dev/null 2>"$dir/stderr") \
        || { cat "$dir/stderr" >&2; exit 1; } ;;
    xargs)
      printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} "$work/by-hand.sh" {} "$dir/repo" ;;
  esac
  t1=$(now)
  # Both must have merged every task and left nothing behind.
  local merged left
  merged=$(git -C "$dir/repo" log --format=%s main | grep -c '^t[0-9]*$' || true)
  left=$(git -C "$dir/repo" worktree list | wc -l)
  [ "$merged" = "$tasks" ] && [ "$left" = 1 ] \
    || { echo "$which: merged $merged of $tasks, $left worktree(s) left" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

echo "git par run vs xargs -P $jobs: $tasks tasks, $files files, a ${pause}s command; $bin"
total_par=0 total_xargs=0
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order="par xargs"; else order="xargs par"; fi
  for which in $order; do
    s=$(side "$which")
    eval "t_$which=$s"
  done
  printf 'round %d (%s first): par %.2fs  xargs %.2fs  ratio %.2f\n' "$round" "${order%% *}" \
    "$t_par" "$t_xargs" "$(echo "$t_par / $t_xargs" | bc -l)"
  total_par=$(echo "$total_par + $t_par" | bc)
  total_xargs=$(echo "$total_xargs + $t_xargs" | bc)
done
printf 'total: par %.2fs  xargs %.2fs  ratio %.2f (target: at most 0.80)\n' \
  "$total_par" "$total_xargs" "$(echo "$total_par / $total_xargs" | bc -l)"
