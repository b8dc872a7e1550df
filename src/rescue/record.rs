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

/// The message of a rescue commit whose first parent is `parents[0]`.
pub fn message(
    subject: &str,
    why: &str,
    files: bool,
    parents: &[Piece],
    holds: &[Piece],
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
        let text = message(
            "git-par: saved work of task t",
            "drop",
            true,
            &parents,
            &holds,
        );
        assert_eq!(parse(&text), (parents, holds));
    }
}
