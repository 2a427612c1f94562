//! The engine: configuration, the host ISA, signature interning and trampoline caches.

use crate::config::{Config, OptLevel};
use crate::gctypes::{KeyComposite, KeySub, TypeInfo, TypeRegistry, key_val};
use crate::trap::{Error, Result};
use crate::types::{FuncType, RefType, ValType};
use crate::vm::code::CodeMemory;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Global compilation environment, cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) config: Config,
    pub(crate) isa: OwnedTargetIsa,
    /// Canonical types (`gctypes.rs`); a function type's id is its signature id.
    pub(crate) types: Mutex<TypeRegistry>,
    /// Per-signature trampolines: (host->wasm array entry, wasm->host shim).
    pub(crate) trampolines: Mutex<HashMap<u32, Arc<Trampolines>>>,
}

pub(crate) struct Trampolines {
    pub(crate) _code: Arc<CodeMemory>,
    pub(crate) array_entry: usize,
    pub(crate) host_shim: usize,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::new()).expect("host ISA is supported")
    }
}

impl Engine {
    pub fn new(config: &Config) -> Result<Engine> {
        let mut flags = settings::builder();
        let opt = match config.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| Error::Compile(format!("setting {k}: {e}")))
        };
        set(&mut flags, "opt_level", opt)?;
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if config.verifier { "true" } else { "false" },
        )?;
        set(&mut flags, "unwind_info", "false")?;
        set(
            &mut flags,
            "enable_nan_canonicalization",
            if config.canonicalize_nans {
                "true"
            } else {
                "false"
            },
        )?;
        let isa_builder =
            cranelift_native::builder().map_err(|e| Error::Compile(format!("host ISA: {e}")))?;
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::Compile(format!("host ISA: {e}")))?;
        crate::vm::traps::init_handlers();
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                isa,
                types: Mutex::new(TypeRegistry::default()),
                trampolines: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The type registry, locked.
    pub(crate) fn registry(&self) -> std::sync::MutexGuard<'_, TypeRegistry> {
        self.inner.types.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Engine-wide id of a signature (a final function type of its own recursion group);
    /// equal types get equal ids.
    pub(crate) fn sig_id(&self, ty: &FuncType) -> u32 {
        let key = KeySub {
            is_final: true,
            supertype: None,
            composite: KeyComposite::Func(
                ty.params().iter().map(|&t| key_val(t)).collect(),
                ty.results().iter().map(|&t| key_val(t)).collect(),
            ),
        };
        self.registry().intern_group(vec![key])
    }

    pub(crate) fn sig_type(&self, id: u32) -> FuncType {
        self.registry()
            .get(id)
            .and_then(|t| t.func().cloned())
            .unwrap_or_default()
    }

    pub(crate) fn type_info(&self, id: u32) -> Option<Arc<TypeInfo>> {
        self.registry().get(id).cloned()
    }

    /// Reference subtyping with the engine's declared subtypes.
    pub fn ref_subtype(&self, a: RefType, b: RefType) -> bool {
        self.registry().ref_subtype(a, b)
    }

    /// Value subtyping with the engine's declared subtypes.
    pub fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        self.registry().val_subtype(a, b)
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Trampolines for a signature, compiled on first use.
    pub(crate) fn trampolines(&self, sig: u32) -> Result<Arc<Trampolines>> {
        if let Some(t) = self
            .inner
            .trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sig)
        {
            return Ok(t.clone());
        }
        let ty = self.sig_type(sig);
        let t = Arc::new(crate::compile::compile_trampolines(self, &ty)?);
        let mut map = self
            .inner
            .trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Ok(map.entry(sig).or_insert(t).clone())
    }
}
