//! The `kubereach` binary: runs the command line and is the only place that prints a top-level
//! error and picks its exit code (2: usage, configuration or internal error).

use std::process::ExitCode;

// Loading allocates many small strings and vectors on every worker thread; mimalloc keeps that
// fast and compact where the system allocator spends a large share of the time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match kubereach::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kubereach: error: {err}");
            ExitCode::from(2)
        }
    }
}
