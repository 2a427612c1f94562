//! Preopen escapes (`..`, absolute paths, symlinks) are refused; paths inside work.

use lockstep_wasi::WasiCtx;
use lockstep_wasi::syscalls::{self, errno};

/// path_open(fd 3, path at 1024) into a 64 KiB memory; returns the errno.
fn open(ctx: &mut WasiCtx, path: &str) -> i32 {
    let mut mem = vec![0u8; 65536];
    mem[1024..1024 + path.len()].copy_from_slice(path.as_bytes());
    let index = syscalls::lookup(syscalls::WASI_MODULE, "path_open").unwrap();
    let rights = 1u64 << 1; // fd_read
    let args = [3, 0, 1024, path.len() as u64, 0, rights, 0, 0, 2048];
    syscalls::call(ctx, &mut mem, index, &args)
        .unwrap()
        .unwrap()
}

#[test]
fn preopen_escapes_are_refused() {
    let root = std::env::temp_dir().join(format!("lockstep-wasi-sandbox-{}", std::process::id()));
    let inside = root.join("inside");
    std::fs::create_dir_all(inside.join("sub")).unwrap();
    std::fs::write(root.join("secret"), b"outside").unwrap();
    std::fs::write(inside.join("file"), b"inside").unwrap();
    let _ = std::os::unix::fs::symlink(root.join("secret"), inside.join("link-out"));
    let _ = std::os::unix::fs::symlink("file", inside.join("link-in"));
    let mut ctx = WasiCtx::builder()
        .preopen_dir(&inside, ".")
        .unwrap()
        .build();

    assert_eq!(open(&mut ctx, "file"), 0);
    assert_eq!(open(&mut ctx, "sub/../file"), 0);
    assert_eq!(open(&mut ctx, "link-in"), 0);
    for escape in ["../secret", "sub/../../secret", "link-out"] {
        assert_eq!(
            open(&mut ctx, escape),
            i32::from(errno::NOTCAPABLE),
            "{escape}"
        );
    }
    let abs = root.join("secret");
    assert_eq!(
        open(&mut ctx, abs.to_str().unwrap()),
        i32::from(errno::NOTCAPABLE)
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn nothing_is_preopened_by_default() {
    let mut ctx = WasiCtx::builder().build();
    assert_eq!(open(&mut ctx, "file"), i32::from(errno::BADF));
}
