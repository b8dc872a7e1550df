#!/usr/bin/env python3
"""Makes (once) and caches a large, deterministic git repository for the benchmark and the
torture test: N files of a few hundred bytes to a few KB in folders of 100, one commit on
`main`.

Why: git-par's costs (checkout, removal, status) only show on a repository of realistic size,
and a committed fixture of that size is out of the question. `git fast-import` builds it in
seconds; the bare result is cached and every measurement clones a fresh working copy from it.

    bench/gen_repo.py --files 100000            # prints the cached bare repository's path
    bench/gen_repo.py --files 2000 --cache DIR  # cache somewhere else (default: $BENCH_CACHE,
                                                # else $TMPDIR/git-par-bench)
"""

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

FILES_PER_DIR = 100
# Bump when the content changes, so a stale cache is not reused.
FORMAT = 1
# Fixed date: the same input gives the same commit id on every machine.
DATE = "1767225600 +0000"
WORDS = (
    "let mut fn impl struct enum match return self where async await pub use mod crate "
    "super const static type trait for while loop if else break continue move ref true "
    "false None Some Ok Err Result Option Vec String Box Path usize u8 i64 len push iter map"
).split()


def default_cache():
    return os.environ.get("BENCH_CACHE") or os.path.join(
        tempfile.gettempdir(), "git-par-bench"
    )


def hermetic_env(home):
    """A git environment that ignores this machine's config (and the user's)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_") and k not in ("HOME", "XDG_CONFIG_HOME")
    }
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "gitconfig")
    if not os.path.exists(config):
        with open(config, "w") as f:
            f.write(
                "[user]\n\tname = Bench User\n\temail = bench@example.com\n"
                "[init]\n\tdefaultBranch = main\n"
                "[advice]\n\tdetachedHead = false\n"
                "[gc]\n\tauto = 0\n"
            )
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=config,
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR=":",
        LC_ALL="C",
        TZ="UTC",
        NO_COLOR="1",
    )
    return env


def corpus(rng, size):
    """Source-like text to cut file contents from."""
    lines, total = [], 0
    while total < size:
        indent = "    " * rng.randint(0, 3)
        line = indent + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def files(count, seed=1):
    """(path, content) for every file, always the same for the same count and seed."""
    rng = random.Random(seed)
    text = corpus(rng, 1 << 20)
    for i in range(count):
        d, f = divmod(i, FILES_PER_DIR)
        path = f"src/m{d // 100:02d}/d{d % 100:02d}/f{f:02d}.rs"
        size = int(min(8000, max(200, rng.lognormvariate(math.log(1200), 0.7))))
        start = rng.randrange(0, len(text) - size)
        # The header makes every blob distinct, as in a real tree.
        yield path, f"// {path}\n".encode() + text[start : start + size]


def fast_import_stream(out, count, seed):
    paths = []
    for mark, (path, data) in enumerate(files(count, seed), start=1):
        out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        out.write(data)
        out.write(b"\n")
        paths.append(path)
    msg = f"Generated tree of {count} files".encode()
    out.write(b"commit refs/heads/main\n")
    out.write(f"author Bench User <bench@example.com> {DATE}\n".encode())
    out.write(f"committer Bench User <bench@example.com> {DATE}\n".encode())
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    for mark, path in enumerate(paths, start=1):
        out.write(b"M 100644 :%d %s\n" % (mark, path.encode()))
    # A .gitignore, so that ignored build output in the torture test is realistic.
    out.write(b"M 100644 inline .gitignore\ndata 8\n/target\n\n")
    out.write(b"done\n")


def ensure(count, cache=None, seed=1, quiet=False):
    """Path of the cached bare repository with `count` files, made if missing."""
    cache = cache or default_cache()
    os.makedirs(cache, exist_ok=True)
    repo = os.path.join(cache, f"repo-{count}-s{seed}-v{FORMAT}.git")
    if os.path.exists(os.path.join(repo, "git-par-bench-complete")):
        return repo
    tmp = repo + f".tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    env = hermetic_env(os.path.join(cache, "home"))
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", tmp], env=env, check=True)
    if not quiet:
        print(f"generating a {count}-file repository in {repo} ...", file=sys.stderr)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=tmp,
        env=env,
        stdin=subprocess.PIPE,
    )
    fast_import_stream(proc.stdin, count, seed)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"git fast-import failed for {tmp}")
    open(os.path.join(tmp, "git-par-bench-complete"), "w").close()
    shutil.rmtree(repo, ignore_errors=True)
    os.rename(tmp, repo)
    return repo


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--cache", default=None)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    print(ensure(a.files, a.cache, a.seed))


if __name__ == "__main__":
    main()
