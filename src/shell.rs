//! Changing the user's directory, which a program cannot do for its parent shell: the
//! functions that `git par shell-init` prints set `GIT_PAR_CD_FILE`, and commands that want
//! the shell somewhere write the path there for the function to `cd` into.

use std::path::Path;

use crate::cli::Shell;

pub const CD_FILE_ENV: &str = "GIT_PAR_CD_FILE";

/// Asks the shell integration, when it is active, to `cd` to `path` after the command.
pub fn request_cd(path: &Path) {
    if let Some(file) = std::env::var_os(CD_FILE_ENV).filter(|f| !f.is_empty()) {
        let _ = std::fs::write(file, path.as_os_str().as_encoded_bytes());
    }
}

/// After the folder the user's shell stands in was removed: through the shell integration,
/// the shell goes to `path`; without it, the user is told the `cd` line to run (stderr, so
/// stdout stays a command's result).
pub fn leave_removed_folder(ui: &mut crate::ui::Ui, path: &Path) {
    if integration_active() {
        request_cd(path);
        return;
    }
    ui.note("Your shell is in the folder that was just removed; go on from here:");
    ui.note(&format!("  cd {}", quote(path)));
}

/// Whether this command runs under the shell integration, so [`request_cd`] takes effect.
pub fn integration_active() -> bool {
    std::env::var_os(CD_FILE_ENV).is_some_and(|f| !f.is_empty())
}

/// The shell code `git par shell-init <shell>` prints.
pub fn init_script(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash | Shell::Zsh => include_str!("shell/init.sh"),
        Shell::Fish => include_str!("shell/init.fish"),
    }
}

/// The startup file of `shell` and the line that loads the integration from it.
pub fn rc_line(shell: Shell) -> (&'static str, &'static str) {
    match shell {
        Shell::Bash => ("~/.bashrc", r#"eval "$(git par shell-init bash)""#),
        Shell::Zsh => ("~/.zshrc", r#"eval "$(git par shell-init zsh)""#),
        Shell::Fish => (
            "~/.config/fish/config.fish",
            "git par shell-init fish | source",
        ),
    }
}

/// The user's shell, from `$SHELL`, when it is one the integration supports.
pub fn user_shell() -> Option<Shell> {
    let shell = std::env::var_os("SHELL")?;
    match Path::new(&shell).file_name()?.to_str()? {
        "bash" => Some(Shell::Bash),
        "zsh" => Some(Shell::Zsh),
        "fish" => Some(Shell::Fish),
        _ => None,
    }
}

/// `path` as one word for a POSIX shell: bare when it is only safe characters, else in single
/// quotes.
pub fn quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.into_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}
