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
    // The loader frees every file's YAML tree as soon as the file is modelled. Returning freed
    // pages to the kernel within 10 ms (rather than mimalloc's longer default) keeps peak memory
    // at what the model and the graph need: about a fifth less on a large repository, at no
    // measurable cost in time. (Purging at once, a delay of 0, is ten times slower.)
    #[allow(unsafe_code)]
    // SAFETY: sets a process-wide allocator option before any thread is started; the option takes
    // a plain integer and mimalloc reads it atomically.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10);
    }
    // mimalloc asks the kernel for transparent huge pages, and a freed page purged and touched
    // again then costs the kernel 2 MiB of zeroing, not 4 KiB: a sixth of the CPU time of a large
    // repository went to `clear_page`, and peak memory was a tenth higher, for pages only partly
    // used. mimalloc reads its own option too early for `main` to set it; this flag is what that
    // option sets. A failure only leaves huge pages on.
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes integers only and changes a flag of
    // this process's memory map; no memory is read or written through pointers.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    match kubereach::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kubereach: error: {err}");
            ExitCode::from(2)
        }
    }
}
