//! `--stats`: time and peak memory per stage, for the benchmarks.
//!
//! Peak memory is the kernel's high-water mark of resident memory (`VmHWM`), reset at the start of
//! each stage where the kernel allows it (`/proc/self/clear_refs`), so each figure is that stage's
//! own peak. Linux only; elsewhere memory figures are absent.

use std::time::Instant;

use crate::result::pipeline::StageDone;

pub struct Stats {
    enabled: bool,
    started: Instant,
    peak_kib: u64,
}

fn read_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

impl Stats {
    pub fn new(enabled: bool) -> Stats {
        if enabled {
            reset_hwm();
        }
        Stats { enabled, started: Instant::now(), peak_kib: 0 }
    }

    /// Reports a finished stage; `volume` is (bytes, objects) for throughput.
    pub fn stage(&mut self, done: StageDone) {
        let StageDone { name, started, volume, took } = done;
        if !self.enabled {
            return;
        }
        let secs = took.unwrap_or_else(|| started.elapsed()).as_secs_f64();
        let peak = read_hwm_kib().unwrap_or(0);
        self.peak_kib = self.peak_kib.max(peak);
        let mut line = format!("stats: stage={name} ms={:.1} peak_rss_kib={peak}", secs * 1000.0);
        if let Some((bytes, objects)) = volume {
            let mb = bytes as f64 / 1e6;
            line.push_str(&format!(
                " bytes={bytes} objects={objects} mb_per_s={:.1} objects_per_s={:.0}",
                mb / secs.max(1e-9),
                objects as f64 / secs.max(1e-9)
            ));
        }
        eprintln!("{line}");
        reset_hwm();
    }

    pub fn finish(&self, edges: usize, classes: usize, peers: usize) {
        if self.enabled {
            eprintln!(
                "stats: stage=total ms={:.1} peak_rss_kib={} edges={edges} classes={classes} peers={peers}",
                self.started.elapsed().as_secs_f64() * 1000.0,
                self.peak_kib
            );
        }
    }
}
