//! Everything that deletes a folder tree goes through the removal gate (`src/ops/gate.rs`),
//! which proves ownership first; the walker that deletes (`src/delete/`) is called from
//! nowhere else, and std's `remove_dir_all` from nowhere at all.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_gate_deletes_folder_trees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut offenders = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let walker = code.contains("delete_tree(")
                && rel != "src/ops/gate.rs"
                && !rel.starts_with("src/delete/");
            if code.contains("remove_dir_all") || walker {
                offenders.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "deletes outside the gate:\n{}",
        offenders.join("\n")
    );
}
