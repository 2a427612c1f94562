//! Preopen escapes (`..`, absolute paths, symlinks) are refused on both engines: a wasm
//! module calls `path_open` through each engine's binding, so the path goes through guest
//! memory and the engine's host-call path, not only through the shared host code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lockstep_wasi::WasiCtx;
use lockstep_wasi::runtime::RuntimeWasi;
use lockstep_wasi::syscalls::errno;

/// `open(ptr, len)`: `path_open` beneath fd 3 for reading, the errno as result; the new fd at
/// 2048. `read(fd)`: the first byte of the file (or -errno).
const OPENER: &str = r#"(module
    (import "wasi_snapshot_preview1" "path_open"
        (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_read"
        (func $fd_read (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "open") (param $ptr i32) (param $len i32) (result i32)
        (call $path_open (i32.const 3) (i32.const 0) (local.get $ptr) (local.get $len)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 2048)))
    (func (export "first_byte") (result i32)
        (local $e i32)
        ;; One iovec at 3000: 1 byte at 3100.
        (i32.store (i32.const 3000) (i32.const 3100))
        (i32.store (i32.const 3004) (i32.const 1))
        (local.set $e (call $fd_read (i32.load (i32.const 2048)) (i32.const 3000) (i32.const 1)
            (i32.const 3008)))
        (if (result i32) (local.get $e)
            (then (i32.sub (i32.const 0) (local.get $e)))
            (else (i32.load8_u (i32.const 3100))))))"#;

const PATH_AT: u32 = 1024;

/// One engine with the module instantiated: `open` returns the errno.
trait Opener {
    fn open(&mut self, path: &str) -> i32;
    fn first_byte(&mut self) -> i32;
}

struct Runtime {
    store: lockstep_runtime::Store<RuntimeWasi>,
    instance: lockstep_runtime::Instance,
}

impl Runtime {
    fn new(ctx: WasiCtx) -> Runtime {
        use lockstep_runtime as rt;
        let engine = rt::Engine::new(&rt::Config::new()).unwrap();
        let module = rt::Module::new(&engine, wat::parse_str(OPENER).unwrap()).unwrap();
        let mut linker = rt::Linker::<RuntimeWasi>::new(&engine);
        lockstep_wasi::runtime::add_to_linker(&mut linker, |s| s).unwrap();
        let mut store = rt::Store::new(&engine, RuntimeWasi { ctx, memory: None });
        let instance = linker.instantiate(&mut store, &module).unwrap();
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        Runtime { store, instance }
    }
    fn call(&mut self, name: &str, args: &[lockstep_runtime::Val]) -> i32 {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut out = [lockstep_runtime::Val::I32(0)];
        f.call(&mut self.store, args, &mut out).unwrap();
        match out[0] {
            lockstep_runtime::Val::I32(e) => e,
            ref v => panic!("{v:?}"),
        }
    }
}

impl Opener for Runtime {
    fn open(&mut self, path: &str) -> i32 {
        let m = self.store.data().memory.unwrap();
        let at = PATH_AT as usize;
        m.data_mut(&mut self.store)[at..at + path.len()].copy_from_slice(path.as_bytes());
        use lockstep_runtime::Val::I32;
        self.call("open", &[I32(PATH_AT as i32), I32(path.len() as i32)])
    }
    fn first_byte(&mut self) -> i32 {
        self.call("first_byte", &[])
    }
}

struct Oracle {
    store: lockstep_oracle::Store,
    instance: lockstep_oracle::InstanceAddr,
}

impl Oracle {
    fn new(ctx: WasiCtx) -> Oracle {
        use lockstep_oracle as or;
        let mut store = or::Store::new(or::Config::default());
        let module = store.compile(&wat::parse_str(OPENER).unwrap()).unwrap();
        let ctx = Arc::new(Mutex::new(ctx));
        let imports = lockstep_wasi::oracle::resolve_imports(&mut store, &module, &ctx).unwrap();
        let instance = store.instantiate(&module, &imports).unwrap();
        Oracle { store, instance }
    }
    fn call(&mut self, name: &str, args: &[lockstep_oracle::Value]) -> i32 {
        let Some(lockstep_oracle::Extern::Func(f)) = self.store.export(self.instance, name) else {
            panic!("no {name}");
        };
        match self.store.invoke(f, args).unwrap()[..] {
            [lockstep_oracle::Value::I32(e)] => e as i32,
            ref v => panic!("{v:?}"),
        }
    }
}

impl Opener for Oracle {
    fn open(&mut self, path: &str) -> i32 {
        let Some(lockstep_oracle::Extern::Memory(m)) = self.store.export(self.instance, "memory")
        else {
            panic!("no memory");
        };
        let at = PATH_AT as usize;
        self.store.memory_data_mut(m)[at..at + path.len()].copy_from_slice(path.as_bytes());
        use lockstep_oracle::Value::I32;
        self.call("open", &[I32(PATH_AT), I32(path.len() as u32)])
    }
    fn first_byte(&mut self) -> i32 {
        self.call("first_byte", &[])
    }
}

/// `root/inside` (the preopen: `file`, `sub/`, `link-in` -> file, `link-out` -> ../secret) and
/// `root/secret`; removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new(engine: &str) -> Tree {
        let root = std::env::temp_dir().join(format!(
            "lockstep-wasi-engines-{engine}-{}",
            std::process::id()
        ));
        let inside = root.join("inside");
        std::fs::create_dir_all(inside.join("sub")).unwrap();
        std::fs::write(root.join("secret"), b"outside").unwrap();
        std::fs::write(inside.join("file"), b"inside").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), inside.join("link-out")).unwrap();
        std::os::unix::fs::symlink("../secret", inside.join("link-up")).unwrap();
        std::os::unix::fs::symlink("file", inside.join("link-in")).unwrap();
        Tree(root)
    }
    fn inside(&self) -> PathBuf {
        self.0.join("inside")
    }
    fn ctx(&self) -> WasiCtx {
        WasiCtx::builder()
            .preopen_dir(&self.inside(), ".")
            .unwrap()
            .build()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check_escapes(e: &mut dyn Opener, root: &Path) {
    let notcapable = i32::from(errno::NOTCAPABLE);
    for inside in ["file", "sub/../file", "./file", "link-in"] {
        assert_eq!(e.open(inside), 0, "{inside}");
        assert_eq!(e.first_byte(), i32::from(b'i'), "{inside}");
    }
    let abs = root.join("secret");
    let abs = abs.to_str().unwrap();
    for escape in [
        "../secret",
        "sub/../../secret",
        "link-out",
        "link-up",
        abs,
        "/etc/passwd",
    ] {
        assert_eq!(e.open(escape), notcapable, "{escape}");
    }
}

#[test]
fn preopen_escapes_are_refused_on_the_runtime() {
    let tree = Tree::new("runtime");
    check_escapes(&mut Runtime::new(tree.ctx()), &tree.0);
}

#[test]
fn preopen_escapes_are_refused_on_the_oracle() {
    let tree = Tree::new("oracle");
    check_escapes(&mut Oracle::new(tree.ctx()), &tree.0);
}

#[test]
fn nothing_is_preopened_by_default_on_either_engine() {
    let badf = i32::from(errno::BADF);
    let none = || WasiCtx::builder().build();
    assert_eq!(Runtime::new(none()).open("file"), badf);
    assert_eq!(Oracle::new(none()).open("file"), badf);
}
