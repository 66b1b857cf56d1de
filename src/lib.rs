//! kubereach: who can reach what in a repository of Kubernetes manifests.
//!
//! # Codemap
//! The pipeline is the architecture; each stage is a module, in order:
//!
//! * [`load`]: finds and reads manifest files, parses YAML and JSON with spans. The only code that
//!   touches the file system; parse errors become findings, never aborts.
//! * [`model`]: pure; spanned YAML in, typed Kubernetes objects out. Every field a finding may point
//!   at keeps its span.
//! * [`graph`]: the reachability engine, computed once from the model; deterministic, and knows
//!   nothing of rules or formats.
//! * [`rules`]: read the model and the graph, return findings; never see raw YAML, never print.
//!   [`check`] pools them with the loader's findings and applies selection, [`suppress`]ions,
//!   levels from [`config`] and the [`baseline`].
//! * [`report`]: the only code that formats.
//!
//! A [`profile`] says what the manifests cannot: which dataplane enforces policy, whether nodes are
//! public, who the ingress controllers are; the graph and the rules read it.
//!
//! [`diff`] compares the working tree with a base revision (read from git objects by
//! [`load::git`]): the findings and connections a change adds.
//!
//! [`analysis`] drives load and model in parallel; [`cli`] turns arguments into settings and runs a
//! command. `main.rs` only prints top-level errors and picks the exit code.

#![forbid(unsafe_code)]

/// The version `--version` prints: the package version, followed by `git describe` of the
/// checkout it was built from when there was one (set by `build.rs`).
pub const VERSION: &str = env!("KUBEREACH_VERSION");

pub mod analysis;
pub mod baseline;
pub mod check;
pub mod cli;
pub mod config;
pub mod diff;
pub mod finding;
pub mod graph;
pub mod load;
pub mod model;
pub mod profile;
pub mod report;
pub mod rules;
pub mod suppress;
