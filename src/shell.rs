//! Changing the user's directory, which a program cannot do for its parent shell: the
//! function that `git par shell-init` installs sets `GIT_PAR_CD_FILE`, and commands that
//! want the shell somewhere write the path there for the function to `cd` into.

use std::path::Path;

pub const CD_FILE_ENV: &str = "GIT_PAR_CD_FILE";

/// Asks the shell integration, when it is active, to `cd` to `path` after the command.
pub fn request_cd(path: &Path) {
    if let Some(file) = std::env::var_os(CD_FILE_ENV).filter(|f| !f.is_empty()) {
        let _ = std::fs::write(file, path.as_os_str().as_encoded_bytes());
    }
}
