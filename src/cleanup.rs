//! Signal handling: the one place for `unsafe`.
//!
//! SIGINT, SIGTERM and SIGHUP only record that they arrived; the command notices at its next
//! step boundary (or when a child it waits for is interrupted), rolls back what it started,
//! and re-raises the signal with the default action so the calling shell sees it.
//! git forwards a Ctrl-C to its dashed subcommand while the terminal sends one too, so
//! signals that arrive within [`DEBOUNCE`] of the first count as one press.

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};

use crate::error::{Error, Result};

const DEBOUNCE: Duration = Duration::from_millis(300);

static PENDING: AtomicI32 = AtomicI32::new(0);
static NO_RETURN: AtomicBool = AtomicBool::new(false);
static PRESSES: AtomicU32 = AtomicU32::new(0);
static LAST_AT_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

extern "C" fn on_signal(signum: i32) {
    // Only async-signal-safe work here: atomics and the clock.
    let now = now_ms();
    let last = LAST_AT_MS.swap(now, Ordering::SeqCst);
    if PENDING.load(Ordering::SeqCst) == 0 {
        PENDING.store(signum, Ordering::SeqCst);
        PRESSES.store(1, Ordering::SeqCst);
    } else if now.saturating_sub(last) > DEBOUNCE.as_millis() as u64 {
        PRESSES.fetch_add(1, Ordering::SeqCst);
    }
}

const HANDLED: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Installs the recording handler. Without SA_RESTART, so a blocking `waitpid` returns
/// `EINTR` and the waiter can react at once.
pub fn install() {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in HANDLED {
        // SAFETY: the handler only touches atomics and reads the clock.
        let _ = unsafe { signal::sigaction(sig, &action) };
    }
}

/// The first signal received, if any.
pub fn pending() -> Option<Signal> {
    Signal::try_from(PENDING.load(Ordering::SeqCst)).ok()
}

/// How many separate presses arrived (signals closer than the debounce count once).
pub fn presses() -> u32 {
    PRESSES.load(Ordering::SeqCst)
}

/// Fails with [`Error::interrupted`] once a signal has arrived: call between steps.
pub fn check() -> Result<()> {
    match pending() {
        Some(sig) => Err(Error::interrupted(sig)),
        None => Ok(()),
    }
}

/// Marks the command as past its point of no return (a merge made, work saved): from now on
/// a signal no longer stops any step; it is acted on once the command is complete.
pub fn past_point_of_no_return() {
    NO_RETURN.store(true, Ordering::SeqCst);
}

/// True once [`past_point_of_no_return`] was called, or a signal is already being handled:
/// every step must then run to its end.
pub fn must_complete() -> bool {
    NO_RETURN.load(Ordering::SeqCst) || pending().is_some()
}

/// Forgets a recorded signal (after a prompt handled a Ctrl-C as "cancel", for example).
pub fn clear() {
    PENDING.store(0, Ordering::SeqCst);
    PRESSES.store(0, Ordering::SeqCst);
}

/// Waits until no echo of the last signal can still arrive (see [`DEBOUNCE`]), then forgets
/// it: for clean-up that must run git after an interrupt it has already acted on. A signal
/// that arrives after this is a new press.
pub fn settle() {
    let since = now_ms().saturating_sub(LAST_AT_MS.load(Ordering::SeqCst));
    let debounce = DEBOUNCE.as_millis() as u64;
    if pending().is_some() && since < debounce {
        std::thread::sleep(Duration::from_millis(debounce - since));
    }
    clear();
}

/// Has the process that `cmd` starts killed when git-par dies, even by SIGKILL, so no
/// command outlives the run that started it. The kernel sends the signal when the *thread*
/// that forked dies: spawn from the main thread.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec the hook only makes two system calls (prctl, getppid),
    // both async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // git-par may have died before the prctl took effect.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
}

/// Without Linux's parent-death signal (macOS, the BSDs) a command outlives a git-par that is
/// killed, unless it runs under a [`GroupKeeper`] (a run of many tasks), which stops its group.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn die_with_parent(_cmd: &mut std::process::Command) {}

/// A pipe whose ends are not inherited by commands git-par starts.
fn cloexec_pipe() -> nix::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    #[cfg(not(target_vendor = "apple"))]
    {
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
    }
    // macOS has no pipe2: the flag is set right after (the keeper is made before any command
    // is started, so no fork can come between).
    #[cfg(target_vendor = "apple")]
    {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag};
        let (read, write) = nix::unistd::pipe()?;
        for fd in [&read, &write] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        }
        Ok((read, write))
    }
}

/// Stops the process groups of a run's commands if git-par dies without doing so itself
/// (SIGKILL, a crash). [`die_with_parent`] reaches only each command's own process; this
/// small forked helper reaches what the command started too. git-par tells it each group
/// as it starts and ends; when its pipe closes it kills the groups still listed.
pub struct GroupKeeper {
    pipe: std::fs::File,
}

/// Groups a keeper can hold at once (far more than anyone runs at a time).
const KEEPER_SLOTS: usize = 1024;

impl GroupKeeper {
    pub fn spawn() -> Result<GroupKeeper> {
        use nix::unistd::{fork, ForkResult};
        let (read, write) =
            cloexec_pipe().map_err(|e| Error::failed(format!("could not create a pipe: {e}")))?;
        // SAFETY: the child makes only async-signal-safe calls (read, kill, raise) and
        // allocates nothing, so forking is sound even if other threads hold locks.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(write);
                keeper(read)
            }
            Ok(ForkResult::Parent { .. }) => {
                drop(read);
                Ok(GroupKeeper { pipe: write.into() })
            }
            Err(e) => Err(Error::failed(format!("could not fork: {e}"))),
        }
    }

    /// A command now leads process group `pgid`.
    pub fn add(&mut self, pgid: u32) {
        use std::io::Write;
        let _ = writeln!(self.pipe, "+{pgid}");
    }

    /// Group `pgid` is gone (or was emptied by git-par itself).
    pub fn remove(&mut self, pgid: u32) {
        use std::io::Write;
        let _ = writeln!(self.pipe, "-{pgid}");
    }
}

fn keeper(pipe: std::os::fd::OwnedFd) -> ! {
    use nix::unistd::{read, Pid};
    let mut groups = [0i32; KEEPER_SLOTS];
    let mut buf = [0u8; 256];
    let (mut adding, mut number) = (true, 0i32);
    loop {
        let n = match read(&pipe, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        };
        for &byte in &buf[..n] {
            match byte {
                b'+' | b'-' => (adding, number) = (byte == b'+', 0),
                b'0'..=b'9' => {
                    number = number
                        .saturating_mul(10)
                        .saturating_add((byte - b'0') as i32)
                }
                b'\n' => {
                    let (find, put) = if adding { (0, number) } else { (number, 0) };
                    if let Some(slot) = groups.iter_mut().find(|g| **g == find) {
                        *slot = put;
                    }
                }
                _ => {}
            }
        }
    }
    for &group in groups.iter().filter(|g| **g > 1) {
        let _ = signal::killpg(Pid::from_raw(group), Signal::SIGKILL);
    }
    // Not `exit`: no atexit handlers or stdio locks in a forked copy of git-par.
    loop {
        let _ = signal::raise(Signal::SIGKILL);
    }
}

/// Dies by `sig` with its default action, so the parent sees "killed by signal", as fd does.
pub fn reraise(sig: Signal) -> ! {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: restoring the default disposition has no preconditions.
    let _ = unsafe { signal::sigaction(sig, &default) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    let _ = signal::raise(sig);
    std::process::exit(128 + sig as i32)
}

/// Test hook: when `GIT_PAR_FAILPOINT` is `<name>` or `<name>=<SIGNAL>`, sends this process
/// that signal (SIGKILL by default) at the named step, so tests can crash or interrupt a
/// command at an exact point. With `<name>=<SIGNAL>+git`, the signal arrives instead while the
/// next git command after that step runs. Costs one environment lookup.
pub fn failpoint(name: &str) {
    let Ok(spec) = std::env::var("GIT_PAR_FAILPOINT") else {
        return;
    };
    let (point, sig) = spec.split_once('=').unwrap_or((spec.as_str(), "SIGKILL"));
    if point != name {
        return;
    }
    let (sig, in_git) = match sig.strip_suffix("+git") {
        Some(sig) => (sig, true),
        None => (sig, false),
    };
    let sig = sig.parse::<Signal>().unwrap_or(Signal::SIGKILL);
    if in_git {
        IN_NEXT_GIT.store(sig as i32, Ordering::SeqCst);
    } else {
        let _ = signal::raise(sig);
    }
}

static IN_NEXT_GIT: AtomicI32 = AtomicI32::new(0);

/// Called by the git runner once a git command has started: fires a `+git` failpoint.
pub fn git_started() {
    let sig = IN_NEXT_GIT.swap(0, Ordering::SeqCst);
    if let Ok(sig) = Signal::try_from(sig) {
        let _ = signal::raise(sig);
    }
}

/// The CPU niceness of a detached deletion: far behind the user's own work, but not 19,
/// which on a machine loaded with builds or agents gets so little CPU that the trash piles
/// up (seen here: a nice-19 deleter of 20,000 files still at work after 40 s, load 10, two
/// cores).
const NICENESS: i32 = 10;

/// The file descriptor on which a detached process receives the lock it inherits.
const HANDED_FD: i32 = 3;

/// Starts `cmd` detached from git-par and its terminal (a new session, reparented to init by
/// a second fork, so it outlives the command and leaves no zombie), at a low CPU
/// priority ([`NICENESS`]) and the lowest best-effort I/O priority, holding the lock of `lock` on fd 3.
/// Best-effort rather than idle I/O: on a disk that is never idle (a build, an agent's
/// test loop) the idle class could put the deletion off for ever while the disk fills up.
pub fn spawn_detached(
    cmd: &mut std::process::Command,
    lock: nix::fcntl::Flock<std::fs::File>,
) -> Result<()> {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::process::CommandExt;
    let fd = lock.as_raw_fd();
    // SAFETY: between fork and exec the hook makes only async-signal-safe system calls
    // (dup2, fcntl, setsid, setpriority, ioprio_set, fork, _exit) and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let fail = || Err(std::io::Error::last_os_error());
            if fd == HANDED_FD {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return fail();
                }
            } else if libc::dup2(fd, HANDED_FD) < 0 {
                return fail();
            }
            if libc::setsid() < 0 {
                return fail();
            }
            libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS);
            // IOPRIO_WHO_PROCESS, this process, IOPRIO_CLASS_BE << 13 | level 7 (the lowest).
            // Linux only; elsewhere the CPU niceness is all the deletion yields.
            #[cfg(target_os = "linux")]
            libc::syscall(libc::SYS_ioprio_set, 1, 0, (2 << 13) | 7);
            match libc::fork() {
                -1 => fail(),
                0 => Ok(()),
                _ => libc::_exit(0),
            }
        });
    }
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Error::failed(format!("could not start a background process: {e}")))?;
    // The intermediate process exits at once; the detached one is init's (or a subreaper's).
    let _ = child.wait();
    // Closed without unlocking: the lock lives on in the detached process's descriptor.
    std::mem::forget(lock);
    // SAFETY: `fd` belonged to the forgotten lock's File, which will never use or close it.
    drop(unsafe { std::fs::File::from_raw_fd(fd) });
    Ok(())
}

/// The lock a detached process was handed on fd 3 by [`spawn_detached`].
pub fn handed_lock() -> Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // fstat tells whether fd 3 is open at all before anything takes ownership of it.
    nix::sys::stat::fstat(unsafe { std::os::fd::BorrowedFd::borrow_raw(HANDED_FD) })
        .map_err(|e| Error::failed(format!("no lock was handed over on fd {HANDED_FD}: {e}")))?;
    // SAFETY: fd 3 is open (checked above), nothing else in this process owns it (std opens
    // its own files above it only after start-up, and this runs first), and the File
    // returned becomes its only owner.
    Ok(unsafe { std::fs::File::from_raw_fd(HANDED_FD) })
}
