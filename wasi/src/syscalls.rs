//! The WASI preview1 calls, written once against [`WasiCtx`] and [`GuestMemory`].
//!
//! Calls not implemented here are still linked (see [`unsupported`]) and return `ENOSYS`, so a
//! program that probes for them gets an error it can handle instead of a link failure.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use cap_std::fs::{Dir, Metadata, OpenOptions};

use crate::ctx::{Entry, WasiCtx};
use crate::memory::{GuestMemory, GuestMemoryExt, MemoryError};

/// The import module of WASI preview1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// Sightglass's measurement markers.
pub const BENCH_MODULE: &str = "bench";

/// A WASI error number (preview1 `errno`).
pub type Errno = u16;
pub mod errno {
    use super::Errno;
    pub const SUCCESS: Errno = 0;
    pub const ACCES: Errno = 2;
    pub const BADF: Errno = 8;
    pub const EXIST: Errno = 20;
    pub const FAULT: Errno = 21;
    pub const INVAL: Errno = 28;
    pub const IO: Errno = 29;
    pub const ISDIR: Errno = 31;
    pub const LOOP: Errno = 32;
    pub const NAMETOOLONG: Errno = 37;
    pub const NOENT: Errno = 44;
    pub const NOSYS: Errno = 52;
    pub const NOTDIR: Errno = 54;
    pub const NOTEMPTY: Errno = 55;
    pub const PERM: Errno = 63;
    pub const SPIPE: Errno = 70;
    pub const NOTCAPABLE: Errno = 76;
}

/// How a call leaves the guest instead of returning to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("exit with code {0}")]
    Exit(u32),
    #[error("{0}")]
    Trap(String),
}

/// A host function's value type (WASI uses only these two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
}

/// One importable host function.
#[derive(Debug)]
pub struct ImportDef {
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [Ty],
    pub results: &'static [Ty],
}

use Ty::{I32, I64};
const ERRNO: &[Ty] = &[I32];

const fn wasi(name: &'static str, params: &'static [Ty]) -> ImportDef {
    ImportDef {
        module: WASI_MODULE,
        name,
        params,
        results: ERRNO,
    }
}

/// Every function the host provides, in the order [`call`] indexes them.
pub const FUNCS: &[ImportDef] = &[
    wasi("args_get", &[I32, I32]),
    wasi("args_sizes_get", &[I32, I32]),
    wasi("environ_get", &[I32, I32]),
    wasi("environ_sizes_get", &[I32, I32]),
    wasi("clock_res_get", &[I32, I32]),
    wasi("clock_time_get", &[I32, I64, I32]),
    wasi("random_get", &[I32, I32]),
    wasi("fd_write", &[I32, I32, I32, I32]),
    wasi("fd_read", &[I32, I32, I32, I32]),
    wasi("fd_seek", &[I32, I64, I32, I32]),
    wasi("fd_tell", &[I32, I32]),
    wasi("fd_close", &[I32]),
    wasi("fd_fdstat_get", &[I32, I32]),
    wasi("fd_prestat_get", &[I32, I32]),
    wasi("fd_prestat_dir_name", &[I32, I32, I32]),
    wasi("fd_filestat_get", &[I32, I32]),
    wasi("fd_readdir", &[I32, I32, I32, I64, I32]),
    wasi("path_filestat_get", &[I32, I32, I32, I32, I32]),
    wasi("path_open", &[I32, I32, I32, I32, I32, I64, I64, I32, I32]),
    wasi("sched_yield", &[]),
    ImportDef {
        module: WASI_MODULE,
        name: "proc_exit",
        params: &[I32],
        results: &[],
    },
    ImportDef {
        module: BENCH_MODULE,
        name: "start",
        params: &[],
        results: &[],
    },
    ImportDef {
        module: BENCH_MODULE,
        name: "end",
        params: &[],
        results: &[],
    },
];

/// The index in [`FUNCS`] of an import, if the host provides it.
pub fn lookup(module: &str, name: &str) -> Option<usize> {
    FUNCS
        .iter()
        .position(|f| f.module == module && f.name == name)
}

/// Whether an import the host does not provide should still link, returning `ENOSYS`.
pub fn unsupported(module: &str) -> bool {
    module == WASI_MODULE
}

/// The `ENOSYS` result of an unsupported WASI call (its only result is an errno).
pub const ENOSYS_RESULT: i32 = errno::NOSYS as i32;

enum Fail {
    Errno(Errno),
    Host(HostError),
}

impl From<MemoryError> for Fail {
    fn from(e: MemoryError) -> Fail {
        match e {
            MemoryError::OutOfBounds => Fail::Errno(errno::FAULT),
            MemoryError::Unavailable(msg) => Fail::Host(HostError::Trap(msg)),
        }
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        Fail::Errno(io_errno(&e))
    }
}

/// Host I/O errors as WASI errnos. cap-std reports a path that would leave its directory
/// as `PermissionDenied` without an OS code: that is `ENOTCAPABLE`.
fn io_errno(e: &std::io::Error) -> Errno {
    use std::io::ErrorKind as K;
    // Linux errno values.
    match e.raw_os_error() {
        Some(1) => return errno::PERM,
        Some(2) => return errno::NOENT,
        Some(13) => return errno::ACCES,
        Some(17) => return errno::EXIST,
        Some(20) => return errno::NOTDIR,
        Some(21) => return errno::ISDIR,
        Some(22) => return errno::INVAL,
        Some(36) => return errno::NAMETOOLONG,
        Some(39) => return errno::NOTEMPTY,
        Some(40) => return errno::LOOP,
        _ => {}
    }
    match e.kind() {
        K::NotFound => errno::NOENT,
        K::PermissionDenied => errno::NOTCAPABLE,
        K::AlreadyExists => errno::EXIST,
        K::InvalidInput => errno::INVAL,
        _ => errno::IO,
    }
}

/// Run host function `index` of [`FUNCS`] with its arguments (each zero-extended to 64 bits).
/// Returns the errno for WASI calls, `None` for the functions without results.
pub fn call(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    index: usize,
    a: &[u64],
) -> Result<Option<i32>, HostError> {
    let def = &FUNCS[index];
    let w = |i: usize| a[i] as u32;
    let r = match (def.module, def.name) {
        (BENCH_MODULE, "start") => {
            ctx.bench_start = Some(ctx.bench_now());
            return Ok(None);
        }
        (BENCH_MODULE, "end") => {
            let now = ctx.bench_now();
            ctx.bench_elapsed = ctx.bench_start.map(|s| now.saturating_sub(s));
            return Ok(None);
        }
        (_, "proc_exit") => return Err(HostError::Exit(w(0))),
        (_, "args_get") => strings_get(mem, &ctx.args, w(0), w(1)),
        (_, "args_sizes_get") => strings_sizes(mem, &ctx.args, w(0), w(1)),
        (_, "environ_get") => strings_get(mem, &ctx.env, w(0), w(1)),
        (_, "environ_sizes_get") => strings_sizes(mem, &ctx.env, w(0), w(1)),
        (_, "clock_res_get") => clock_res_get(mem, w(0), w(1)),
        (_, "clock_time_get") => clock_time_get(ctx, mem, w(0), w(2)),
        (_, "random_get") => random_get(ctx, mem, w(0), w(1)),
        (_, "fd_write") => fd_write(ctx, mem, w(0), w(1), w(2), w(3)),
        (_, "fd_read") => fd_read(ctx, mem, w(0), w(1), w(2), w(3)),
        (_, "fd_seek") => fd_seek(ctx, mem, w(0), a[1] as i64, w(2), w(3)),
        (_, "fd_tell") => fd_seek(ctx, mem, w(0), 0, 1, w(1)),
        (_, "fd_close") => fd_close(ctx, w(0)),
        (_, "fd_fdstat_get") => fd_fdstat_get(ctx, mem, w(0), w(1)),
        (_, "fd_prestat_get") => fd_prestat_get(ctx, mem, w(0), w(1)),
        (_, "fd_prestat_dir_name") => fd_prestat_dir_name(ctx, mem, w(0), w(1), w(2)),
        (_, "fd_filestat_get") => fd_filestat_get(ctx, mem, w(0), w(1)),
        (_, "fd_readdir") => fd_readdir(ctx, mem, w(0), w(1), w(2), a[3], w(4)),
        (_, "path_filestat_get") => path_filestat_get(ctx, mem, w(0), w(1), w(2), w(3), w(4)),
        (_, "path_open") => path_open(ctx, mem, a),
        (_, "sched_yield") => Ok(()),
        _ => Err(Fail::Errno(errno::NOSYS)),
    };
    match r {
        Ok(()) => Ok(Some(0)),
        Err(Fail::Errno(e)) => Ok(Some(e.into())),
        Err(Fail::Host(h)) => Err(h),
    }
}

type R = Result<(), Fail>;

fn bad(e: Errno) -> Fail {
    Fail::Errno(e)
}

fn strings_get(mem: &mut dyn GuestMemory, list: &[Vec<u8>], ptrs: u32, buf: u32) -> R {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        mem.write_u32(ptrs.wrapping_add(4 * i as u32), at)?;
        mem.write(at, s)?;
        at = at.wrapping_add(s.len() as u32);
    }
    Ok(())
}

fn strings_sizes(mem: &mut dyn GuestMemory, list: &[Vec<u8>], count: u32, size: u32) -> R {
    mem.write_u32(count, list.len() as u32)?;
    mem.write_u32(size, list.iter().map(|s| s.len() as u32).sum())?;
    Ok(())
}

fn clock_res_get(mem: &mut dyn GuestMemory, id: u32, out: u32) -> R {
    if id > 3 {
        return Err(bad(errno::INVAL));
    }
    mem.write_u64(out, 1_000)?;
    Ok(())
}

fn clock_time_get(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, id: u32, out: u32) -> R {
    let now = if let Some(d) = &mut ctx.deterministic {
        d.clock += 1_000_000;
        d.clock
    } else {
        match id {
            0 => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            // Monotonic, and the CPU-time clocks approximated by it.
            1..=3 => ctx.start.map_or(0, |s| s.elapsed().as_nanos() as u64),
            _ => return Err(bad(errno::INVAL)),
        }
    };
    mem.write_u64(out, now)?;
    Ok(())
}

fn random_get(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, buf: u32, len: u32) -> R {
    let mut bytes = vec![0u8; len as usize];
    if let Some(d) = &mut ctx.deterministic {
        for chunk in bytes.chunks_mut(8) {
            d.random = d.random.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = d.random;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    } else {
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    }
    mem.write(buf, &bytes)?;
    Ok(())
}

/// The `(ptr, len)` pairs of an iovec array.
fn iovecs(mem: &mut dyn GuestMemory, iovs: u32, n: u32) -> Result<Vec<(u32, u32)>, Fail> {
    (0..n)
        .map(|i| {
            let at = iovs.wrapping_add(8 * i);
            Ok((mem.read_u32(at)?, mem.read_u32(at.wrapping_add(4))?))
        })
        .collect()
}

fn entry(ctx: &mut WasiCtx, fd: u32) -> Result<&mut Entry, Fail> {
    ctx.fds.get_mut(&fd).ok_or(bad(errno::BADF))
}

fn fd_write(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> R {
    let mut data = Vec::new();
    for (ptr, len) in iovecs(mem, iovs, n)? {
        data.extend(mem.read_bytes(ptr, len)?);
    }
    match ctx.fds.get_mut(&fd).ok_or(bad(errno::BADF))? {
        Entry::Stdout => ctx.stdout.write(&data, false),
        Entry::Stderr => ctx.stderr.write(&data, true),
        Entry::File { file } => file.write_all(&data)?,
        Entry::Dir { .. } => return Err(bad(errno::ISDIR)),
        Entry::Stdin => return Err(bad(errno::BADF)),
    }
    mem.write_u32(out, data.len() as u32)?;
    Ok(())
}

fn fd_read(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> R {
    let vecs = iovecs(mem, iovs, n)?;
    let mut total = 0u32;
    match entry(ctx, fd)? {
        // stdin is empty: programs run sandboxed.
        Entry::Stdin => {}
        Entry::File { file } => {
            for (ptr, len) in vecs {
                let mut buf = vec![0; len as usize];
                let got = file.read(&mut buf)?;
                mem.write(ptr, &buf[..got])?;
                total += got as u32;
                if got < len as usize {
                    break;
                }
            }
        }
        Entry::Dir { .. } => return Err(bad(errno::ISDIR)),
        Entry::Stdout | Entry::Stderr => return Err(bad(errno::BADF)),
    }
    mem.write_u32(out, total)?;
    Ok(())
}

fn fd_seek(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    off: i64,
    whence: u32,
    out: u32,
) -> R {
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(off).map_err(|_| bad(errno::INVAL))?),
        1 => SeekFrom::Current(off),
        2 => SeekFrom::End(off),
        _ => return Err(bad(errno::INVAL)),
    };
    let new = match entry(ctx, fd)? {
        Entry::File { file } => file.seek(pos)?,
        Entry::Dir { .. } => return Err(bad(errno::BADF)),
        _ => return Err(bad(errno::SPIPE)),
    };
    mem.write_u64(out, new)?;
    Ok(())
}

fn fd_close(ctx: &mut WasiCtx, fd: u32) -> R {
    ctx.fds.remove(&fd).map(drop).ok_or(bad(errno::BADF))
}

/// preview1 `filetype`.
mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// Every right preview1 defines (bits 0..=29): the sandbox is the preopen, not the rights.
const ALL_RIGHTS: u64 = (1 << 30) - 1;
/// fd_read, fd_write, fd_fdstat_set_flags, poll_fd_readwrite: a stream, not seekable.
const STREAM_RIGHTS: u64 = (1 << 1) | (1 << 6) | (1 << 3) | (1 << 27);

fn fd_fdstat_get(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, fd: u32, out: u32) -> R {
    let (ty, rights) = match entry(ctx, fd)? {
        Entry::Stdin | Entry::Stdout | Entry::Stderr => (filetype::CHARACTER_DEVICE, STREAM_RIGHTS),
        Entry::Dir { .. } => (filetype::DIRECTORY, ALL_RIGHTS),
        Entry::File { .. } => (filetype::REGULAR_FILE, ALL_RIGHTS),
    };
    let mut st = [0u8; 24];
    st[0] = ty;
    st[8..16].copy_from_slice(&rights.to_le_bytes());
    st[16..24].copy_from_slice(&rights.to_le_bytes());
    mem.write(out, &st)?;
    Ok(())
}

fn preopen_name(ctx: &mut WasiCtx, fd: u32) -> Result<Vec<u8>, Fail> {
    match entry(ctx, fd)? {
        Entry::Dir {
            preopen: Some(name),
            ..
        } => Ok(name.clone().into_bytes()),
        _ => Err(bad(errno::BADF)),
    }
}

fn fd_prestat_get(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, fd: u32, out: u32) -> R {
    let name = preopen_name(ctx, fd)?;
    let mut st = [0u8; 8];
    st[4..].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write(out, &st)?;
    Ok(())
}

fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    buf: u32,
    len: u32,
) -> R {
    let name = preopen_name(ctx, fd)?;
    if name.len() > len as usize {
        return Err(bad(errno::NAMETOOLONG));
    }
    mem.write(buf, &name)?;
    Ok(())
}

/// The preview1 file type of a host file type (`fd_filestat_get` and `fd_readdir` alike).
fn filetype_of(ft: cap_std::fs::FileType) -> u8 {
    if ft.is_dir() {
        filetype::DIRECTORY
    } else if ft.is_file() {
        filetype::REGULAR_FILE
    } else if ft.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else {
        filetype::UNKNOWN
    }
}

/// A preview1 `filestat` (64 bytes). Device and inode numbers are left 0: they differ between
/// hosts and no program should depend on them.
fn write_filestat(ctx: &WasiCtx, mem: &mut dyn GuestMemory, out: u32, md: &Metadata) -> R {
    let ft = md.file_type();
    let ty = filetype_of(ft);
    let time = |t: std::io::Result<cap_std::time::SystemTime>| -> u64 {
        if ctx.deterministic.is_some() {
            return 0;
        }
        t.ok()
            .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64)
    };
    let mut st = [0u8; 64];
    st[16] = ty;
    st[24..32].copy_from_slice(&1u64.to_le_bytes());
    st[32..40].copy_from_slice(&md.len().to_le_bytes());
    st[40..48].copy_from_slice(&time(md.accessed()).to_le_bytes());
    st[48..56].copy_from_slice(&time(md.modified()).to_le_bytes());
    st[56..64].copy_from_slice(&time(md.modified()).to_le_bytes());
    mem.write(out, &st)?;
    Ok(())
}

fn fd_filestat_get(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, fd: u32, out: u32) -> R {
    let md = match entry(ctx, fd)? {
        Entry::File { file } => file.metadata()?,
        Entry::Dir { dir, .. } => dir.dir_metadata()?,
        _ => {
            let mut st = [0u8; 64];
            st[16] = filetype::CHARACTER_DEVICE;
            mem.write(out, &st)?;
            return Ok(());
        }
    };
    write_filestat(ctx, mem, out, &md)
}

fn dir(ctx: &mut WasiCtx, fd: u32) -> Result<&Dir, Fail> {
    match entry(ctx, fd)? {
        Entry::Dir { dir, .. } => Ok(dir),
        _ => Err(bad(errno::NOTDIR)),
    }
}

/// A guest path: UTF-8, and relative (cap-std refuses absolute paths as escapes too; refusing
/// them here gives the same errno whatever cap-std's message).
fn guest_path(mem: &mut dyn GuestMemory, ptr: u32, len: u32) -> Result<String, Fail> {
    let bytes = mem.read_bytes(ptr, len)?;
    let path = String::from_utf8(bytes).map_err(|_| bad(errno::INVAL))?;
    if path.starts_with('/') {
        return Err(bad(errno::NOTCAPABLE));
    }
    Ok(path)
}

const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    flags: u32,
    ptr: u32,
    len: u32,
    out: u32,
) -> R {
    let path = guest_path(mem, ptr, len)?;
    let d = dir(ctx, fd)?;
    let md = if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        d.metadata(&path)?
    } else {
        d.symlink_metadata(&path)?
    };
    write_filestat(ctx, mem, out, &md)
}

mod oflags {
    pub const CREAT: u32 = 1;
    pub const DIRECTORY: u32 = 2;
    pub const EXCL: u32 = 4;
    pub const TRUNC: u32 = 8;
}
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const FDFLAG_APPEND: u32 = 1;

fn path_open(ctx: &mut WasiCtx, mem: &mut dyn GuestMemory, a: &[u64]) -> R {
    let (fd, ptr, len, of, rights, fdflags, out) = (
        a[0] as u32,
        a[2] as u32,
        a[3] as u32,
        a[4] as u32,
        a[5],
        a[7] as u32,
        a[8] as u32,
    );
    let path = guest_path(mem, ptr, len)?;
    let d = dir(ctx, fd)?;
    let creating = of & (oflags::CREAT | oflags::TRUNC) != 0;
    let is_dir = !creating && d.metadata(&path).is_ok_and(|m| m.is_dir());
    let new = if of & oflags::DIRECTORY != 0 || is_dir {
        Entry::Dir {
            dir: d.open_dir(&path)?,
            preopen: None,
        }
    } else {
        let write = rights & RIGHT_FD_WRITE != 0;
        let mut o = OpenOptions::new();
        o.read(rights & RIGHT_FD_READ != 0 || !write)
            .write(write)
            .append(fdflags & FDFLAG_APPEND != 0)
            .truncate(of & oflags::TRUNC != 0);
        if of & oflags::EXCL != 0 {
            o.create_new(true);
        } else {
            o.create(of & oflags::CREAT != 0);
        }
        Entry::File {
            file: d.open_with(&path, &o)?,
        }
    };
    let new_fd = (0..).find(|n| !ctx.fds.contains_key(n)).unwrap_or(u32::MAX);
    ctx.fds.insert(new_fd, new);
    mem.write_u32(out, new_fd)?;
    Ok(())
}

fn fd_readdir(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    out: u32,
) -> R {
    let d = dir(ctx, fd)?;
    // "." and "..", then the entries sorted by name: the same order on every engine and host.
    let mut names = vec![
        (b".".to_vec(), filetype::DIRECTORY),
        (b"..".to_vec(), filetype::DIRECTORY),
    ];
    let mut rest = Vec::new();
    for e in d.entries()? {
        let e = e?;
        let ft = e.file_type()?;
        let ty = filetype_of(ft);
        rest.push((e.file_name().into_encoded_bytes(), ty));
    }
    rest.sort();
    names.extend(rest);
    let mut bytes = Vec::new();
    for (i, (name, ty)) in names
        .iter()
        .enumerate()
        .skip(cookie.min(usize::MAX as u64) as usize)
    {
        bytes.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&[*ty, 0, 0, 0]);
        bytes.extend_from_slice(name);
        if bytes.len() >= buf_len as usize {
            break;
        }
    }
    // A full buffer tells the guest to call again from its last complete entry.
    bytes.truncate(buf_len as usize);
    mem.write(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)?;
    Ok(())
}
