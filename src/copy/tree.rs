//! The copy itself: folders and files under one source folder into one destination folder,
//! without ever leaving either. Every name is opened relative to its parent's descriptor with
//! `O_NOFOLLOW`, so a symlinked folder on the way, or a symlink swapped in while the copy runs,
//! fails that one open instead of leading outside; new files are made with `O_EXCL`, so
//! nothing that is already there (a symlink among it) is written through or overwritten.
//! Files are cloned (`FICLONE`) where the filesystem shares extents, else copied by the
//! kernel (`copy_file_range`), by several workers at once (one file: `file.rs`); modes and
//! times are kept.

use std::collections::HashSet;
use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::file::{self, times, Modes};
use crate::cleanup;
use crate::error::{Error, Result};

/// What a copy did, for the message after it.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub symlinks: u64,
    pub dirs: u64,
    /// Files whose data was cloned rather than copied.
    pub reflinked: u64,
    /// Nested repositories and worktrees left out, relative to the source.
    pub repositories: Vec<PathBuf>,
    /// Sockets, fifos and devices, and entries that were already there: left alone.
    pub left_alone: Vec<PathBuf>,
    /// The progress line was drawn (the copy outlasted its delay).
    pub progress_shown: bool,
}

/// Batches waiting for a worker; each holds two folder descriptors open.
const QUEUE: usize = 128;

struct Batch {
    src: Arc<OwnedFd>,
    dst: Arc<OwnedFd>,
    dir: PathBuf,
    names: Vec<CString>,
    /// How new files in `dst` get their modes.
    modes: Modes,
}

struct Shared {
    modes: Modes,
    /// Cleared at the first file the filesystem cannot clone: the rest are copied.
    try_reflink: AtomicBool,
    stop: AtomicBool,
    files: AtomicU64,
    bytes: AtomicU64,
    reflinked: AtomicU64,
    failure: Mutex<Option<Error>>,
    left_alone: Mutex<Vec<PathBuf>>,
    progress: ProgressBar,
    /// When the hidden progress bar is to be drawn, if ever; cleared once it is.
    reveal: Mutex<Option<std::time::Instant>>,
}

impl Shared {
    fn fail(&self, err: Error) {
        self.stop.store(true, Ordering::SeqCst);
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        failure.get_or_insert(err);
    }

    /// Draws the progress bar once the copy has taken long enough to be worth watching.
    fn reveal_progress(&self) {
        let mut reveal = lock(&self.reveal);
        if reveal.is_some_and(|at| std::time::Instant::now() >= at) {
            *reveal = None;
            self.progress
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.progress
                .enable_steady_tick(std::time::Duration::from_millis(200));
        }
    }

    /// False once the copy must end: a failure, or a signal.
    fn going(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        if let Some(sig) = cleanup::pending() {
            self.fail(Error::interrupted(sig));
            return false;
        }
        true
    }
}

/// A folder's descriptor, opened without following a symlink at its last component.
pub(super) fn open_dir(parent: &OwnedFd, name: &CStr) -> rustix::io::Result<OwnedFd> {
    rfs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The root of a copy: the path may pass through symlinks the user set up (a home on another
/// disk), but the folder itself must not be one.
pub fn open_root(path: &Path) -> Result<OwnedFd> {
    rfs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::failed(format!("could not open {}: {e}", path.display())))
}

fn cname(name: &OsStr) -> Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| Error::failed(format!("bad file name {}", Path::new(name).display())))
}

/// `name` for a system call: a name holding a NUL byte is no valid name.
pub(super) fn cstring(name: &OsStr) -> rustix::io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| Errno::INVAL)
}

/// The folder at `rel` under `root`, each step opened without following symlinks; with
/// `make`, missing folders are created (a sparse checkout may lack a tracked folder).
pub(super) fn open_beneath(root: &OwnedFd, rel: &Path, make: bool) -> rustix::io::Result<OwnedFd> {
    let mut dir = rustix::io::dup(root)?;
    for part in rel.components() {
        let Component::Normal(name) = part else {
            return Err(Errno::INVAL);
        };
        let name = cstring(name)?;
        if make {
            match rfs::mkdirat(&dir, name.as_c_str(), Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        dir = open_dir(&dir, &name)?;
    }
    Ok(dir)
}

/// A small regular file directly in `root` (`.worktreeinclude`), if there is one.
pub fn read_small_file(root: &OwnedFd, name: &str, limit: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let what = |e: &dyn std::fmt::Display| Error::failed(format!("could not read {name}: {e}"));
    let fd = match rfs::openat(
        root,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(what(&e)),
    };
    let stat = rfs::fstat(&fd).map_err(|e| what(&e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || stat.st_size as u64 > limit
    {
        return Err(what(&"not a regular file of a reasonable size"));
    }
    let mut bytes = Vec::new();
    File::from(fd)
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| what(&e))?;
    Ok(Some(bytes))
}

/// Copies `entries` (relative to `source`) into `dest`, leaving out everything at a path in
/// `skip` and every folder that holds a `.git` (another repository or worktree).
/// `reveal`: when the hidden `progress` bar is to be drawn on stderr (a copy that takes
/// long enough to be worth watching), if ever.
pub fn copy(
    source: &OwnedFd,
    dest: &OwnedFd,
    entries: &[PathBuf],
    skip: &HashSet<PathBuf>,
    progress: ProgressBar,
    reveal: Option<std::time::Instant>,
) -> Result<Summary> {
    let shared = Shared {
        modes: Modes::of_process(),
        try_reflink: AtomicBool::new(true),
        stop: AtomicBool::new(false),
        files: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        reflinked: AtomicU64::new(0),
        failure: Mutex::new(None),
        left_alone: Mutex::new(Vec::new()),
        progress,
        reveal: Mutex::new(reveal),
    };
    // Twice the cores: a worker waiting on the disk or the filesystem's log leaves its core
    // to another. Measured on 2 cores (1 GB in 20,000 files, a fresh journal-less ext4, the
    // machine loaded by other builds): 1, 2, 4 and 8 workers took 0.8-1.3, 0.6-1.3, 0.7-1.2
    // and 0.4-1.1 s against cp -a's 1.5-2.3 s; no count was better beyond the noise, and more
    // than one gains where a core is free.
    let workers = std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).clamp(4, 16));
    let (tx, rx) = sync_channel::<Batch>(QUEUE);
    let rx = Mutex::new(rx);
    let mut walker = Walker {
        shared: &shared,
        skip,
        tx,
        summary: Summary::default(),
        made: Vec::new(),
        sent_one: false,
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(&shared, &rx));
        }
        for rel in entries {
            if !shared.going() {
                break;
            }
            walker.top(source, dest, rel);
        }
        // Closing the queue lets the workers end once it is empty.
        drop(std::mem::replace(&mut walker.tx, sync_channel(0).0));
    });
    // Folders last, deepest first: writing into a folder changes its time, and a read-only
    // one would have refused the files.
    let made = std::mem::take(&mut walker.made);
    let mut summary = walker.summary;
    if let Some(err) = shared
        .failure
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        return Err(err);
    }
    for (rel, stat) in made.iter().rev() {
        let fixed = open_beneath(dest, rel, false).and_then(|fd| {
            rfs::fchmod(&fd, Mode::from_raw_mode(stat.st_mode & 0o7777))?;
            rfs::futimens(&fd, &times(stat))
        });
        if let Err(e) = fixed {
            return Err(Error::failed(format!(
                "could not set the mode and times of {}: {e}",
                rel.display()
            )));
        }
    }
    let pending = shared
        .reveal
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    summary.progress_shown = reveal.is_some() && pending.is_none();
    summary.files = shared.files.into_inner();
    summary.bytes = shared.bytes.into_inner();
    summary.reflinked = shared.reflinked.into_inner();
    summary.left_alone.extend(
        shared
            .left_alone
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
    Ok(summary)
}

struct Walker<'a> {
    shared: &'a Shared,
    skip: &'a HashSet<PathBuf>,
    tx: std::sync::mpsc::SyncSender<Batch>,
    summary: Summary,
    /// Folders this copy created, parents first, with the source's stat.
    made: Vec<(PathBuf, Stat)>,
    sent_one: bool,
}

impl Walker<'_> {
    fn top(&mut self, source: &OwnedFd, dest: &OwnedFd, rel: &Path) {
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return;
        };
        let opened = open_beneath(source, parent, false).and_then(|src| {
            let dst = open_beneath(dest, parent, true)?;
            Ok((src, dst))
        });
        let (src, dst) = match opened {
            Ok(pair) => pair,
            // A folder on the way was replaced by a symlink (or removed) since git listed it.
            Err(_) => {
                self.summary.left_alone.push(rel.to_path_buf());
                return;
            }
        };
        let Ok(name) = cname(name) else {
            self.summary.left_alone.push(rel.to_path_buf());
            return;
        };
        let mut batch = Vec::new();
        let (src, dst) = (Arc::new(src), Arc::new(dst));
        self.entry(&src, &dst, parent, &name, None, &mut batch);
        self.send(&src, &dst, parent, batch);
    }

    fn send(&mut self, src: &Arc<OwnedFd>, dst: &Arc<OwnedFd>, dir: &Path, names: Vec<CString>) {
        if names.is_empty() {
            return;
        }
        let batch = Batch {
            src: src.clone(),
            dst: dst.clone(),
            dir: dir.to_path_buf(),
            names,
            modes: self.shared.modes.in_folder(dst),
        };
        if self.tx.send(batch).is_err() {
            self.shared.stop.store(true, Ordering::SeqCst);
        }
        if !self.sent_one {
            self.sent_one = true;
            cleanup::failpoint("start:copying");
        }
    }

    fn fail(&self, rel: &Path, what: &str, e: Errno) {
        self.shared.fail(Error::failed(format!(
            "could not {what} {}: {e}",
            rel.display()
        )));
    }

    /// One entry of folder `dir`: a file joins `batch`; a symlink and a folder are made here.
    fn entry(
        &mut self,
        src: &Arc<OwnedFd>,
        dst: &Arc<OwnedFd>,
        dir: &Path,
        name: &CStr,
        kind: Option<FileType>,
        batch: &mut Vec<CString>,
    ) {
        let rel = dir.join(OsStr::from_bytes(name.to_bytes()));
        if self.skip.contains(&rel) {
            return;
        }
        self.shared.reveal_progress();
        let kind = match kind.filter(|k| *k != FileType::Unknown) {
            Some(kind) => kind,
            None => match rfs::statat(&**src, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                Err(Errno::NOENT) => return,
                Err(e) => return self.fail(&rel, "read", e),
            },
        };
        match kind {
            FileType::RegularFile => {
                // A folder's files go to one worker: files made in one folder at once queue
                // on that folder's lock in the kernel (ext4 spent more CPU than it saved).
                batch.push(name.to_owned());
            }
            FileType::Symlink => self.symlink(src, dst, name, &rel),
            FileType::Directory => self.folder(src, dst, name, &rel),
            _ => self.summary.left_alone.push(rel),
        }
    }

    fn symlink(&mut self, src: &OwnedFd, dst: &OwnedFd, name: &CStr, rel: &Path) {
        let made = rfs::readlinkat(src, name, Vec::new()).and_then(|target| {
            let stat = rfs::statat(src, name, AtFlags::SYMLINK_NOFOLLOW)?;
            rfs::symlinkat(target.as_c_str(), dst, name)?;
            rfs::utimensat(dst, name, &times(&stat), AtFlags::SYMLINK_NOFOLLOW)
        });
        match made {
            Ok(()) => self.summary.symlinks += 1,
            Err(Errno::EXIST) => self.summary.left_alone.push(rel.to_path_buf()),
            Err(Errno::NOENT | Errno::INVAL) => {}
            Err(e) => self.fail(rel, "copy the symlink", e),
        }
    }

    fn folder(&mut self, src: &OwnedFd, dst: &OwnedFd, name: &CStr, rel: &Path) {
        let sfd = match open_dir(src, name) {
            Ok(fd) => fd,
            // Gone, or swapped for a symlink since it was listed: not followed.
            Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => return,
            Err(e) => return self.fail(rel, "open", e),
        };
        if rfs::statat(&sfd, ".git", AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            self.summary.repositories.push(rel.to_path_buf());
            return;
        }
        let stat = match rfs::fstat(&sfd) {
            Ok(stat) => stat,
            Err(e) => return self.fail(rel, "read", e),
        };
        let created = match rfs::mkdirat(dst, name, Mode::from_raw_mode(0o700)) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return self.fail(rel, "create", e),
        };
        let dfd = match open_dir(dst, name) {
            Ok(fd) => fd,
            // Something other than a folder was there already: left as it is.
            Err(Errno::LOOP | Errno::NOTDIR) => {
                self.summary.left_alone.push(rel.to_path_buf());
                return;
            }
            Err(e) => return self.fail(rel, "open the new", e),
        };
        if created {
            self.made.push((rel.to_path_buf(), stat));
        }
        self.summary.dirs += 1;
        self.walk(Arc::new(sfd), Arc::new(dfd), rel);
    }

    fn walk(&mut self, src: Arc<OwnedFd>, dst: Arc<OwnedFd>, rel: &Path) {
        let dir = match rfs::Dir::read_from(&*src) {
            Ok(dir) => dir,
            Err(e) => return self.fail(rel, "list", e),
        };
        let mut batch = Vec::new();
        for entry in dir {
            if !self.shared.going() {
                return;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return self.fail(rel, "list", e),
            };
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            self.entry(&src, &dst, rel, name, Some(entry.file_type()), &mut batch);
        }
        self.send(&src, &dst, rel, batch);
    }
}

/// A worker: takes batches until the queue closes or the copy stops.
fn work(shared: &Shared, rx: &Mutex<Receiver<Batch>>) {
    loop {
        let batch = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            rx.recv()
        };
        let Ok(batch) = batch else { return };
        for name in &batch.names {
            if !shared.going() {
                // Drain without copying, so the walker is never blocked on a full queue.
                break;
            }
            let copied = file::copy(
                &batch.src,
                &batch.dst,
                name,
                batch.modes,
                &shared.try_reflink,
            );
            if let Ok(c) = &copied {
                shared.files.fetch_add(1, Ordering::Relaxed);
                shared.bytes.fetch_add(c.size, Ordering::Relaxed);
                if c.cloned {
                    shared.reflinked.fetch_add(1, Ordering::Relaxed);
                }
                shared.progress.inc(c.size);
            }
            // After each file: a long copy of few folders is long after the walk is done.
            shared.reveal_progress();
            if let Err((what, e)) = copied {
                let rel = batch.dir.join(OsStr::from_bytes(name.to_bytes()));
                match e {
                    Errno::EXIST => lock(&shared.left_alone).push(rel),
                    // Gone, or swapped for a symlink or something else since it was listed.
                    Errno::NOENT | Errno::LOOP | Errno::NXIO => {}
                    e => shared.fail(Error::failed(format!(
                        "could not {what} {}: {e}",
                        rel.display()
                    ))),
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::atomic::AtomicBool;

    /// A folder inside the source is swapped for a symlink to a folder outside, back and
    /// forth, while copies run: no copy may ever hold what is outside, and nothing may be
    /// written there.
    #[test]
    fn a_symlink_swapped_in_during_the_copy_is_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let (src, outside) = (root.path().join("src"), root.path().join("outside"));
        fs::create_dir_all(src.join("target/a")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        for i in 0..200 {
            fs::write(src.join(format!("target/a/f{i}")), "mine").unwrap();
            fs::write(outside.join(format!("f{i}")), "SECRET").unwrap();
        }
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let (a, real) = (src.join("target/a"), src.join("target/a.real"));
                while !done.load(Ordering::Relaxed) {
                    let _ = fs::rename(&a, &real);
                    let _ = std::os::unix::fs::symlink(&outside, &a);
                    std::thread::yield_now();
                    let _ = fs::remove_file(&a);
                    let _ = fs::rename(&real, &a);
                }
            });
            for round in 0..15 {
                let dest = root.path().join(format!("dest{round}"));
                fs::create_dir(&dest).unwrap();
                let (s, d) = (open_root(&src).unwrap(), open_root(&dest).unwrap());
                let entries = [PathBuf::from("target")];
                copy(
                    &s,
                    &d,
                    &entries,
                    &HashSet::new(),
                    ProgressBar::hidden(),
                    None,
                )
                .unwrap();
                for file in walk(&dest) {
                    let meta = fs::symlink_metadata(&file).unwrap();
                    if meta.is_file() {
                        assert_eq!(fs::read_to_string(&file).unwrap(), "mine", "{file:?}");
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
        });
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 200);
    }

    /// Regression: only the walker drew the progress line, and it had queued every folder
    /// long before the delay was up, so a long copy of few folders showed nothing.
    #[test]
    fn progress_appears_when_the_copy_outlasts_its_delay_after_the_walk_is_done() {
        let root = tempfile::tempdir().unwrap();
        let (src, dest) = (root.path().join("src"), root.path().join("dest"));
        fs::create_dir_all(src.join("target")).unwrap();
        fs::create_dir(&dest).unwrap();
        fs::write(src.join("target/big"), vec![7u8; 64 << 20]).unwrap();
        let (s, d) = (open_root(&src).unwrap(), open_root(&dest).unwrap());
        let reveal = std::time::Instant::now() + std::time::Duration::from_millis(1);
        let entries = [PathBuf::from("target")];
        let summary = copy(
            &s,
            &d,
            &entries,
            &HashSet::new(),
            ProgressBar::hidden(),
            Some(reveal),
        )
        .unwrap();
        assert!(summary.progress_shown);
        let quick = copy(&s, &d, &[], &HashSet::new(), ProgressBar::hidden(), None).unwrap();
        assert!(!quick.progress_shown);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
        out
    }
}
