//! Runs `examples/hello.rs` as a test.

#[path = "../examples/hello.rs"]
mod hello;

#[test]
fn example_runs() {
    hello::main().expect("example succeeds");
}
