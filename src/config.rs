//! `par.*` settings, read through `git config` itself so that `git -c`, includes and every
//! scope behave exactly as they do for git.

use std::path::Path;
use std::time::Duration;

use crate::cli::Strategy;
use crate::error::{Error, Result};
use crate::git::{git, Repo};

pub const DEFAULT_BRANCH_PREFIX: &str = "par/";
pub const DEFAULT_WORKTREE_DIR: &str = "../{repo}.par";
const DEFAULT_MIN_FREE_SPACE: u64 = 100 << 20;
/// One checkout worker per core (git's `checkout.workers = 0`). Measured on this project's
/// two-core ext4 machine under load (20,000 files, paired rounds): 2.7-6.7 s with two
/// workers against 25-42 s with git's default of one, since each worker process gets its own
/// share of a busy CPU; see the issue 14 note for the figures.
pub const DEFAULT_CHECKOUT_WORKERS: i64 = 0;

#[derive(Debug, Clone)]
pub struct Config {
    pub branch_prefix: String,
    pub worktree_dir: String,
    pub min_free_space: u64,
    pub finish_strategy: Strategy,
    pub max_workers: usize,
    pub kill_timeout: Duration,
    /// How long a `git par run` command may take (`par.runTimeout`); none: no limit.
    pub run_timeout: Option<Duration>,
    pub color_ui: Option<String>,
    /// Ignored files that are work, not build output (gitignore patterns; several values).
    pub keep_ignored: Vec<String>,
    /// Delete a finished or dropped task's files in a detached background process.
    pub remove_in_background: bool,
    /// Workers for the checkout of a new task (`checkout.workers`; 0: one per core).
    pub checkout_workers: i64,
    /// `start` copies ignored files from where it runs into the new task.
    pub copy_ignored: bool,
    /// Gitignore patterns of ignored files `start` never copies (several values).
    pub copy_ignored_exclude: Vec<String>,
    /// `par.hook.<event>` commands, in the order git lists them.
    pub hooks: Vec<(crate::hooks::Event, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            branch_prefix: DEFAULT_BRANCH_PREFIX.into(),
            worktree_dir: DEFAULT_WORKTREE_DIR.into(),
            min_free_space: DEFAULT_MIN_FREE_SPACE,
            finish_strategy: Strategy::Merge,
            max_workers: 3,
            kill_timeout: Duration::from_secs(10),
            run_timeout: None,
            color_ui: None,
            keep_ignored: Vec::new(),
            remove_in_background: true,
            checkout_workers: DEFAULT_CHECKOUT_WORKERS,
            copy_ignored: false,
            copy_ignored_exclude: Vec::new(),
            hooks: Vec::new(),
        }
    }
}

impl Config {
    pub fn load(dir: &Path) -> Result<Config> {
        let out = git(
            dir,
            ["config", "-z", "--get-regexp", r"^(par\.|color\.ui$)"],
        )
        .output()?;
        let mut config = Config::default();
        // `git config -z` prints `key\nvalue\0` for each entry; the last one wins, as in git.
        for entry in out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let (key, value) = entry.split_once('\n').unwrap_or((&entry, "true"));
            config.set(key, value)?;
        }
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bad = || {
            Error::usage(format!("bad value '{value}' for config key {key}"))
                .hint("see 'git par --help' for the values it takes")
        };
        match key {
            "par.branchprefix" => {
                // The prefix is checked as git checks branch names, with a task name after it.
                if !git2::Reference::is_valid_name(&format!("refs/heads/{value}task")) {
                    return Err(Error::usage(format!(
                        "bad value '{value}' for par.branchPrefix: git takes no branch named '{value}<task>'"
                    ))
                    .hint("use something like 'par/' or 'agent-', or '' for none")
                    .hint("nothing was changed"));
                }
                self.branch_prefix = value.to_string()
            }
            "par.worktreedir" => self.worktree_dir = value.to_string(),
            "par.minfreespace" => self.min_free_space = parse_size(value).ok_or_else(bad)?,
            "par.finishstrategy" => {
                self.finish_strategy = match value {
                    "merge" => Strategy::Merge,
                    "squash" => Strategy::Squash,
                    "rebase" => Strategy::Rebase,
                    _ => return Err(bad()),
                }
            }
            "par.maxworkers" => {
                self.max_workers = value.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?
            }
            "par.killtimeout" => {
                self.kill_timeout = Duration::from_secs(value.parse().map_err(|_| bad())?)
            }
            "par.runtimeout" => {
                self.run_timeout = match parse_duration(value).ok_or_else(bad)? {
                    d if d.is_zero() => None,
                    d => Some(d),
                }
            }
            // Multi-valued; an empty value forgets the ones before it, as in git's own lists.
            "par.keepignored" if value.is_empty() => self.keep_ignored.clear(),
            "par.keepignored" => self.keep_ignored.push(value.to_string()),
            "par.removeinbackground" => {
                self.remove_in_background = parse_bool(value).ok_or_else(bad)?
            }
            "par.checkoutworkers" => {
                self.checkout_workers = value.parse().ok().filter(|n| *n >= 0).ok_or_else(bad)?
            }
            "par.copyignored" => self.copy_ignored = parse_bool(value).ok_or_else(bad)?,
            "par.copyignoredexclude" if value.is_empty() => self.copy_ignored_exclude.clear(),
            "par.copyignoredexclude" => self.copy_ignored_exclude.push(value.to_string()),
            _ if key.starts_with("par.hook.") => {
                let event = crate::hooks::Event::from_key(&key["par.hook.".len()..]);
                match event {
                    Some(event) if value.is_empty() => self.hooks.retain(|(e, _)| *e != event),
                    Some(event) => self.hooks.push((event, value.to_string())),
                    None => {}
                }
            }
            "color.ui" => self.color_ui = Some(value.to_ascii_lowercase()),
            _ => {}
        }
        Ok(())
    }
}

/// Refuses a worktree dir that would put tasks where removing one could hit the repository:
/// inside the git dir, or around the main worktree (`.`, `..`).
pub fn check_worktree_dir(repo: &Repo, dir: &Path) -> Result<()> {
    let dir = crate::fsutil::resolve(dir);
    let why = if dir.starts_with(&repo.common_dir) {
        Some("it is inside the repository's git dir")
    } else if repo.main_worktree.starts_with(&dir) {
        Some("it holds the main worktree")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(Error::usage(format!(
            "bad value for par.worktreeDir: {} {why}",
            dir.display()
        ))
        .hint(format!(
            "set it to a folder of its own, such as the default: git config par.worktreeDir '{DEFAULT_WORKTREE_DIR}'"
        ))
        .hint("nothing was changed")),
    }
}

/// git's boolean syntax: true, yes, on, 1 and false, no, off, 0, and the empty value.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

/// git's integer syntax: a number with an optional k, m or g suffix (powers of 1024).
pub fn parse_size(value: &str) -> Option<u64> {
    let value = value.trim();
    let (digits, shift) = match value.chars().last()?.to_ascii_lowercase() {
        'k' => (&value[..value.len() - 1], 10),
        'm' => (&value[..value.len() - 1], 20),
        'g' => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A duration: `90` (seconds), `90s`, `15m`, `2h`, `1d`, or several such as `1h30m`.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = std::mem::take(&mut digits).parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    digits.is_empty().then(|| Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_size};
    use std::time::Duration;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        for bad in ["", "m", "5x", "1h3", "-1"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_follow_git_suffixes() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("x"), None);
    }
}
