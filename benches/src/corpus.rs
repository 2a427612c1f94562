//! The third-party modules in `../shared/corpus` (relative to the workspace root), read in
//! place and never copied. `LOCKSTEP_CORPUS` overrides the location.

use std::path::PathBuf;

/// The corpus folder, if present.
pub fn dir() -> Option<PathBuf> {
    let p = match std::env::var_os("LOCKSTEP_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    };
    p.is_dir().then_some(p)
}

/// The message printed when the corpus is absent.
pub fn absent_message() -> String {
    format!(
        "corpus not found at {} (set LOCKSTEP_CORPUS); skipping the corpus modules",
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus")
            .display()
    )
}

/// The CoreMark module, if present.
pub fn coremark() -> Option<PathBuf> {
    let p = dir()?.join("coremark/coremark-minimal.wasm");
    p.is_file().then_some(p)
}

/// Every `.wasm` module under `sightglass/`, as (name, path), sorted by name.
pub fn sightglass() -> Vec<(String, PathBuf)> {
    let Some(root) = dir().map(|d| d.join("sightglass")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wasm") {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                // Sightglass names most modules `benchmark.wasm`: use the folder's name.
                let name = if stem == "benchmark" {
                    d.file_name().unwrap().to_string_lossy().into_owned()
                } else {
                    stem
                };
                out.push((name, p));
            }
        }
    }
    out.sort();
    out
}

/// All corpus modules for compile benches: CoreMark first, then Sightglass.
pub fn modules() -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    if let Some(p) = coremark() {
        v.push(("coremark".to_string(), p));
    }
    v.extend(sightglass());
    v
}

/// Number of functions defined in (not imported by) a module.
pub fn defined_funcs(wasm: &[u8]) -> u64 {
    let mut n = 0;
    for payload in wasmparser_lite::sections(wasm) {
        if payload.0 == 10 {
            n = wasmparser_lite::leb_u32(payload.1).0 as u64;
        }
    }
    n
}

mod wasmparser_lite {
    //! Just enough of the binary format to count code-section entries.
    pub fn leb_u32(b: &[u8]) -> (u32, usize) {
        let (mut v, mut shift, mut i) = (0u32, 0, 0);
        while i < b.len() {
            let byte = b[i];
            v |= u32::from(byte & 0x7f) << shift;
            i += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        (v, i)
    }

    /// (section id, contents) for each section.
    pub fn sections(wasm: &[u8]) -> Vec<(u8, &[u8])> {
        let mut out = Vec::new();
        let mut i = 8;
        while i < wasm.len() {
            let id = wasm[i];
            let (len, used) = leb_u32(&wasm[i + 1..]);
            let start = i + 1 + used;
            let end = (start + len as usize).min(wasm.len());
            out.push((id, &wasm[start..end]));
            i = end;
        }
        out
    }
}
