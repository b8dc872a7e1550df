//! What a rescue commit holds, written into its message: one line per parent (and per saved
//! commit that a parent already contains), so that `git par rescued`, and anyone reading
//! `git log`, can tell the pieces apart and say where each came from.

use serde::Serialize;

/// Where a saved commit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The task's worktree: its HEAD, HEAD reflog, staged files or per-worktree refs.
    Worktree,
    /// The task's branch.
    Branch,
    /// A submodule checked out in the worktree.
    Submodule,
    /// A repository inside the worktree that is not a submodule (an agent's clone, say).
    Nested,
}

impl Source {
    fn word(self) -> &'static str {
        match self {
            Source::Worktree => "worktree",
            Source::Branch => "branch",
            Source::Submodule => "submodule",
            Source::Nested => "nested",
        }
    }

    fn from_word(word: &str) -> Option<Source> {
        [
            Source::Worktree,
            Source::Branch,
            Source::Submodule,
            Source::Nested,
        ]
        .into_iter()
        .find(|s| s.word() == word)
    }
}

/// One saved commit, as the main repository knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub commit: String,
    pub source: Source,
    /// What it is where it came from: `HEAD`, `tip`, `reflog`, `staged`, `files` (uncommitted
    /// files as a commit on top of HEAD), or a ref's name.
    pub what: String,
    /// The repository's folder inside the worktree, for submodules and nested repositories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Piece {
    pub fn new(commit: &str, source: Source, what: &str, path: Option<&str>) -> Piece {
        Piece {
            commit: commit.to_string(),
            source,
            what: what.to_string(),
            path: path.map(str::to_string),
        }
    }

    fn line(&self, tag: &str) -> String {
        let mut line = format!("{tag} {} {} {}", self.commit, self.source.word(), self.what);
        if let Some(path) = &self.path {
            // One line per piece: a newline in a folder name is written as `\n`.
            line.push(' ');
            line.push_str(&path.replace('\\', "\\\\").replace('\n', "\\n"));
        }
        line
    }

    fn parse(line: &str) -> Option<(&str, Piece)> {
        let mut fields = line.splitn(5, ' ');
        let tag = fields.next()?;
        let commit = fields.next()?;
        let source = Source::from_word(fields.next()?)?;
        let what = fields.next()?;
        let path = fields.next().map(unescape);
        if commit.len() < 40 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((tag, Piece::new(commit, source, what, path.as_deref())))
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// The base of the task whose work was saved, as its record had it: what a restored task
/// starts from again, so that `finish` and `sync` know where it belongs. Written as
/// `base <commit> [<branch>]` (rescues from before it was kept have none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskBase {
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

impl TaskBase {
    fn line(&self) -> String {
        match &self.branch {
            Some(branch) => format!("base {} {branch}", self.commit),
            None => format!("base {}", self.commit),
        }
    }

    fn parse(line: &str) -> Option<TaskBase> {
        let mut fields = line.strip_prefix("base ")?.split(' ');
        let commit = fields.next()?;
        let branch = fields.next().map(str::to_string);
        let hex = commit.len() >= 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
        let valid = branch.as_deref().map_or(true, |b| {
            git2::Reference::is_valid_name(&format!("refs/heads/{b}"))
        });
        (hex && valid && fields.next().is_none()).then(|| TaskBase {
            commit: commit.to_string(),
            branch,
        })
    }
}

/// The task base a rescue commit's message names, if it names one.
pub fn parse_base(message: &str) -> Option<TaskBase> {
    message.lines().find_map(TaskBase::parse)
}

/// The message of a rescue commit whose first parent is `parents[0]`.
pub fn message(
    subject: &str,
    why: &str,
    files: bool,
    parents: &[Piece],
    holds: &[Piece],
    base: Option<&TaskBase>,
) -> String {
    let tree = if files {
        "Its tree is the worktree's files (untracked ones and par.keepIgnored ones included)."
    } else {
        "Its tree is the first parent's."
    };
    let mut text = format!(
        "{subject}\n\nSaved by git par {why}. {tree}\nEach parent, in order, and where it came from:\n"
    );
    for piece in parents {
        text.push_str(&piece.line("parent"));
        text.push('\n');
    }
    if !holds.is_empty() {
        text.push_str("Also saved, inside the parents above:\n");
        for piece in holds {
            text.push_str(&piece.line("holds"));
            text.push('\n');
        }
    }
    if let Some(base) = base {
        text.push_str("The task's base, which restoring it starts from again:\n");
        text.push_str(&base.line());
        text.push('\n');
    }
    text
}

/// The parents and the other saved commits a rescue commit's message lists (none for a
/// rescue that is a plain commit of the task's).
pub fn parse(message: &str) -> (Vec<Piece>, Vec<Piece>) {
    let (mut parents, mut holds) = (Vec::new(), Vec::new());
    for (tag, piece) in message.lines().filter_map(Piece::parse) {
        match tag {
            "parent" => parents.push(piece),
            "holds" => holds.push(piece),
            _ => {}
        }
    }
    (parents, holds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_lists_what_it_parses_back() {
        let sha = "a".repeat(40);
        let parents = vec![
            Piece::new(&sha, Source::Worktree, "HEAD", None),
            Piece::new(&sha, Source::Nested, "files", Some("odd dir/with\nnewline")),
        ];
        let holds = vec![Piece::new(
            &sha,
            Source::Submodule,
            "refs/heads/x",
            Some("lib"),
        )];
        let base = TaskBase {
            commit: "b".repeat(40),
            branch: Some("feature/x".into()),
        };
        let text = message(
            "git-par: saved work of task t",
            "drop",
            true,
            &parents,
            &holds,
            Some(&base),
        );
        assert_eq!(parse(&text), (parents, holds));
        assert_eq!(parse_base(&text), Some(base));
    }

    #[test]
    fn a_base_line_is_believed_only_when_well_formed() {
        let sha = "c".repeat(40);
        assert_eq!(parse_base("no base here"), None);
        assert_eq!(parse_base(&format!("base {sha} a b")), None);
        assert_eq!(parse_base(&format!("base {sha} bad..name")), None);
        assert_eq!(parse_base("base 1234 main"), None);
        assert_eq!(
            parse_base(&format!("base {sha}")),
            Some(TaskBase {
                commit: sha,
                branch: None
            })
        );
    }
}
