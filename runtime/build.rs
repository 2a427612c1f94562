fn main() {
    println!("cargo:rerun-if-changed=src/vm/helpers.c");
    cc::Build::new()
        .file("src/vm/helpers.c")
        .flag_if_supported("-fno-omit-frame-pointer")
        .compile("lockstep_helpers");
}
