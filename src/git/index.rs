//! Reads git's index file (formats 2, 3 and 4) straight from disk. `git par list` compares
//! each entry's stat data with the worktree, and libgit2's reader (checksum, an allocation per
//! entry) costs about as much as that whole comparison on a 100,000-file worktree. It also
//! gives what libgit2 keeps to itself: the cache tree, which tells whether anything is staged
//! without reading a single tree object.
//!
//! Anything this reader does not know (a split or sparse index, a required extension it has
//! never heard of, a damaged or unsorted file) is an error: the caller then asks git.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// SHA-1: git2, and so git-par, reads no other object format.
const HASH_LEN: usize = 20;
const EMPTY_BLOB: [u8; HASH_LEN] = [
    0xe6, 0x9d, 0xe2, 0x9b, 0xb2, 0xd1, 0xd6, 0x43, 0x4b, 0x8b, 0x29, 0xae, 0x77, 0x5a, 0xd8, 0xc2,
    0xe4, 0x8c, 0x53, 0x91,
];

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("could not read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("index not understood: {0}")]
    Unsupported(String),
}

type Result<T> = std::result::Result<T, IndexError>;

/// What git recorded of a file when it last saw it unchanged (its `stat` data, each field
/// cut to 32 bits as git stores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub ino: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub stat: Stat,
    /// `0o100644`, `0o100755`, `0o120000` (symlink) or `0o160000` (submodule).
    pub mode: u32,
    /// 0 for a merged entry; 1 to 3 for the sides of a conflict.
    pub stage: u8,
    /// `git update-index --assume-unchanged`: git does not look at the file.
    pub assume_valid: bool,
    /// Outside the sparse checkout: git does not look at the file.
    pub skip_worktree: bool,
    /// `git add -N`: in the index with no content yet.
    pub intent_to_add: bool,
    /// The object is the empty blob (git's test for a racily smudged entry).
    pub empty_blob: bool,
    pub(crate) path: Range<usize>,
}

#[derive(Debug, Default)]
pub struct Index {
    pub entries: Vec<Entry>,
    /// The tree the whole index would be written as, when the cache tree knows it.
    pub tree: Option<[u8; HASH_LEN]>,
    /// The second the index file was last written: a file changed in that second or later
    /// may differ from its entry even where its stat data matches ("racy git").
    pub written: i64,
    /// Which file this was read from ([`identity`]).
    pub identity: String,
    /// git's file-system monitor extension (`FSMN`, version 2 only), when present.
    pub fsmonitor: Option<Fsmonitor>,
    paths: Vec<u8>,
}

/// What the index says of the file-system monitor: the token to ask it with, and the
/// entries git has not vouched for since (positions in `entries`).
#[derive(Debug, Default)]
pub struct Fsmonitor {
    pub token: Vec<u8>,
    pub unvouched: Vec<usize>,
}

impl Index {
    pub fn path(&self, entry: &Entry) -> &[u8] {
        &self.paths[entry.path.clone()]
    }
}

pub fn read(file: &Path) -> Result<Index> {
    let io = |e| IndexError::Io(file.display().to_string(), e);
    let f = File::open(file).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    let mut index = parse_from(f, meta.len()).map_err(|e| match e {
        IndexError::Io(_, e) => io(e),
        e => e,
    })?;
    index.written = meta.mtime();
    index.identity = identity_of(&meta);
    Ok(index)
}

/// The index file at `file` as it is now on disk: device, inode, size and times to the
/// nanosecond. git writes a new file and renames it into place, so an index with the same
/// identity has the same content.
pub fn identity(file: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(file).map_err(|e| IndexError::Io(file.display().to_string(), e))?;
    Ok(identity_of(&meta))
}

fn identity_of(meta: &std::fs::Metadata) -> String {
    format!(
        "{}:{}:{}:{}.{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

fn unsupported<T>(what: impl Into<String>) -> Result<T> {
    Err(IndexError::Unsupported(what.into()))
}

/// Reads the index front to back through a small window (the file is never held whole: on
/// a 100,000-file worktree it is 9 MB, which beside its parsed entries doubled what each of
/// `git par list`'s threads held, and a fresh buffer per task cost more in page faults than
/// the read). At most `limit` bytes are handed out: the file without its checksum.
struct Reader<R> {
    src: R,
    window: Vec<u8>,
    /// The bytes of `window` read and not yet handed out.
    start: usize,
    end: usize,
    /// How many bytes have been handed out, and how many may be.
    pos: usize,
    limit: usize,
}

impl<R: Read> Reader<R> {
    fn new(src: R, limit: usize) -> Self {
        Reader {
            src,
            window: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            pos: 0,
            limit,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.limit
    }

    /// Makes up to `n` bytes ready in the window; returns how many are (fewer only at the
    /// end).
    fn fill(&mut self, n: usize) -> Result<usize> {
        let n = n.min(self.limit - self.pos);
        if self.end - self.start < n {
            self.window.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.window.len() < n {
                self.window.resize(n, 0);
            }
            while self.end < n {
                match self.src.read(&mut self.window[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(IndexError::Io(String::new(), e)),
                }
            }
        }
        Ok((self.end - self.start).min(n))
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.fill(n)? < n {
            return unsupported("truncated");
        }
        let at = self.start;
        self.start += n;
        self.pos += n;
        Ok(&self.window[at..at + n])
    }

    /// Passes over `n` bytes without keeping them (an extension this reader does not use).
    fn skip(&mut self, mut n: usize) -> Result<()> {
        while n > 0 {
            let k = self.fill(n.min(64 * 1024))?;
            if k == 0 {
                return unsupported("truncated");
            }
            self.start += k;
            self.pos += k;
            n -= k;
        }
        Ok(())
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Up to the next NUL, which is consumed.
    fn c_str(&mut self) -> Result<&[u8]> {
        let mut want = 256;
        loop {
            let have = self.fill(want)?;
            let ready = &self.window[self.start..self.start + have];
            if let Some(len) = ready.iter().position(|&b| b == 0) {
                let at = self.start;
                self.start += len + 1;
                self.pos += len + 1;
                return Ok(&self.window[at..at + len]);
            }
            if have < want {
                return unsupported("unterminated path");
            }
            want *= 2;
        }
    }

    /// git's `decode_varint` (index format 4's path compression).
    fn varint(&mut self) -> Result<usize> {
        let mut byte = self.take(1)?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1)?[0];
            value = value
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .map(|v| v + usize::from(byte & 0x7f))
                .ok_or(IndexError::Unsupported("varint overflow".into()))?;
        }
        Ok(value)
    }
}

/// Smallest an entry can be on disk: the stat data, object id and flags (62 bytes) and the
/// NUL of its path.
const SMALLEST_ENTRY: usize = 63;

pub fn parse(buf: &[u8]) -> Result<Index> {
    parse_from(buf, buf.len() as u64)
}

/// The index in the `len` bytes of `src`.
fn parse_from(src: impl Read, len: u64) -> Result<Index> {
    let Some(limit) = usize::try_from(len)
        .ok()
        .and_then(|len| len.checked_sub(HASH_LEN))
        .filter(|&limit| limit >= 12)
    else {
        return unsupported("too short");
    };
    let mut r = Reader::new(src, limit);
    if r.take(4)? != b"DIRC" {
        return unsupported("no DIRC signature");
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return unsupported(format!("version {version}"));
    }
    let count = r.u32()? as usize;
    let mut index = Index {
        // A count read from the file is believed only as far as the file's size allows.
        entries: Vec::with_capacity(count.min(limit / SMALLEST_ENTRY)),
        paths: Vec::with_capacity(limit.min(count.saturating_mul(64))),
        ..Index::default()
    };
    let mut previous = 0..0;
    for _ in 0..count {
        let entry = read_entry(&mut r, version, &mut index.paths, previous.clone())?;
        let (path, prev) = (&index.paths[entry.path.clone()], &index.paths[previous]);
        if path < prev
            || (path == prev && index.entries.last().map(|e| e.stage) >= Some(entry.stage))
        {
            return unsupported("entries out of order");
        }
        previous = entry.path.clone();
        index.entries.push(entry);
    }
    while !r.at_end() {
        let signature: [u8; 4] = r
            .take(4)?
            .try_into()
            .map_err(|_| IndexError::Unsupported("truncated".into()))?;
        let size = r.u32()? as usize;
        match &signature {
            b"TREE" => index.tree = root_tree(r.take(size)?),
            b"FSMN" => index.fsmonitor = fsmonitor(r.take(size)?),
            [b'A'..=b'Z', ..] => r.skip(size)?,
            _ => return unsupported(format!("extension {}", String::from_utf8_lossy(&signature))),
        }
    }
    Ok(index)
}

/// The `FSMN` extension: version 2, the token up to a NUL, then an EWAH bitmap of the
/// entries that are not "fsmonitor valid". `None` for anything else (then it is not used).
fn fsmonitor(data: &[u8]) -> Option<Fsmonitor> {
    let mut r = Reader::new(data, data.len());
    if r.u32().ok()? != 2 {
        return None;
    }
    let token = r.c_str().ok()?.to_vec();
    let size = r.u32().ok()? as usize;
    let unvouched = ewah_bits(r.take(size).ok()?)?;
    Some(Fsmonitor { token, unvouched })
}

/// The set bits of git's EWAH-compressed bitmap (`ewah/ewah_io.c`): bit count, word count,
/// the 64-bit words (each run-length word: bit 0 the running bit, 32 bits of run length in
/// words, 31 bits of literal words that follow), the last run-length word's position.
fn ewah_bits(data: &[u8]) -> Option<Vec<usize>> {
    let mut r = Reader::new(data, data.len());
    let bits = r.u32().ok()? as usize;
    let count = r.u32().ok()? as usize;
    let mut words = Vec::with_capacity(count.min(data.len() / 8));
    for _ in 0..count {
        let w = r.take(8).ok()?;
        words.push(u64::from_be_bytes(w.try_into().ok()?));
    }
    let mut set = Vec::new();
    let (mut i, mut at) = (0usize, 0usize);
    while i < words.len() {
        let rlw = words[i];
        let run = ((rlw >> 1) & 0xffff_ffff) as usize;
        let literals = (rlw >> 33) as usize;
        if rlw & 1 == 1 {
            set.extend(at..(at + run * 64).min(bits));
        }
        at += run * 64;
        for k in 1..=literals {
            let w = *words.get(i + k)?;
            set.extend(
                (0..64)
                    .filter(|b| w >> b & 1 == 1)
                    .map(|b| at + b)
                    .filter(|&b| b < bits),
            );
            at += 64;
        }
        i += 1 + literals;
    }
    Some(set)
}

fn read_entry<R: Read>(
    r: &mut Reader<R>,
    version: u32,
    paths: &mut Vec<u8>,
    previous: Range<usize>,
) -> Result<Entry> {
    let start = r.pos;
    let mut words = [0u32; 10];
    for word in &mut words {
        *word = r.u32()?;
    }
    let [ctime_s, ctime_ns, mtime_s, mtime_ns, _dev, ino, mode, uid, gid, size] = words;
    let empty_blob = r.take(HASH_LEN)? == EMPTY_BLOB;
    let flags = r.u16()?;
    let extended = if flags & 0x4000 != 0 {
        if version < 3 {
            return unsupported("extended flags in version 2");
        }
        r.u16()?
    } else {
        0
    };
    let path_start = paths.len();
    if version == 4 {
        let strip = r.varint()?;
        let Some(keep) = previous.len().checked_sub(strip) else {
            return unsupported("bad path compression");
        };
        paths.extend_from_within(previous.start..previous.start + keep);
        paths.extend_from_slice(r.c_str()?);
    } else {
        paths.extend_from_slice(r.c_str()?);
        // Entries are padded with NULs to a multiple of 8 bytes.
        let len = r.pos - start;
        r.take((8 - len % 8) % 8)?;
    }
    Ok(Entry {
        stat: Stat {
            ctime: (ctime_s, ctime_ns),
            mtime: (mtime_s, mtime_ns),
            ino,
            uid,
            gid,
            size,
        },
        mode,
        stage: ((flags >> 12) & 3) as u8,
        assume_valid: flags & 0x8000 != 0,
        skip_worktree: extended & 0x4000 != 0,
        intent_to_add: extended & 0x2000 != 0,
        empty_blob,
        path: path_start..paths.len(),
    })
}

/// The first cache-tree entry is the root: `\0<entries> <subtrees>\n<oid>`, with entries
/// -1 (and no oid) when it is invalid.
fn root_tree(data: &[u8]) -> Option<[u8; HASH_LEN]> {
    let rest = data.strip_prefix(b"\0")?;
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let counts = std::str::from_utf8(&rest[..newline]).ok()?;
    let entries: i64 = counts.split(' ').next()?.parse().ok()?;
    if entries < 0 {
        return None;
    }
    rest.get(newline + 1..newline + 1 + HASH_LEN)?
        .try_into()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_it_does_not_know() {
        assert!(parse(b"").is_err());
        let mut header = b"DIRC\0\0\0\x05\0\0\0\0".to_vec();
        header.extend_from_slice(&[0; HASH_LEN]);
        assert!(parse(&header).is_err(), "version 5");
        let mut link = b"DIRC\0\0\0\x02\0\0\0\0link\0\0\0\0".to_vec();
        link.extend_from_slice(&[0; HASH_LEN]);
        assert!(parse(&link).is_err(), "split index");
    }

    #[test]
    fn reads_the_root_of_the_cache_tree() {
        let mut data = b"\x003 1\n".to_vec();
        data.extend_from_slice(&[7; HASH_LEN]);
        assert_eq!(root_tree(&data), Some([7; HASH_LEN]));
        assert_eq!(root_tree(b"\0-1 0\n"), None);
    }

    #[test]
    fn decodes_git_ewah_bitmaps() {
        // 200 bits: a run of one clean word, then two literal words (bits 64, 66 and 130),
        // then a run of one set word cut off at bit 200.
        let words: [u64; 4] = [(1 << 1) | (2 << 33), 0b101, 0b100, 1 | (1 << 1)];
        let mut data = 200u32.to_be_bytes().to_vec();
        data.extend_from_slice(&(words.len() as u32).to_be_bytes());
        for w in words {
            data.extend_from_slice(&w.to_be_bytes());
        }
        data.extend_from_slice(&3u32.to_be_bytes());
        let mut want = vec![64, 66, 130];
        want.extend(192..200);
        assert_eq!(ewah_bits(&data), Some(want));
        assert_eq!(ewah_bits(&data[..9]), None, "truncated");
    }
}
