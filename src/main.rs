//! The `kubereach` binary: runs the command line and is the only place that prints a top-level
//! error and picks its exit code (2: usage, configuration or internal error).

use std::process::ExitCode;

// Loading allocates many small strings and vectors on every worker thread; mimalloc keeps that
// fast and compact where the system allocator spends a large share of the time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its index in the v3 header, the version `libmimalloc-sys`
/// builds by default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // A run is short and its YAML trees are built and dropped file after file: returning freed
    // pages to the kernel between files only makes the kernel zero fresh memory again.
    #[allow(unsafe_code)]
    // SAFETY: sets a process-wide allocator option before any thread is started; it takes a
    // plain integer and mimalloc reads it atomically.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    match kubereach::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kubereach: error: {err}");
            ExitCode::from(2)
        }
    }
}
