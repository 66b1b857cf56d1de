//! kubereach: who can reach what in a repository of Kubernetes manifests.
//!
//! # Codemap
//! The pipeline is the architecture. The stages, in order; a module may use the stages above it,
//! never one below (`tests/architecture.rs` holds the code to this list and forbids import cycles):
//!
//! 1. [`span`]: source positions (`Pos`, `Span`, `Location`). Depends on nothing.
//! 2. [`load`]: finds and reads manifest files and parses YAML and JSON with spans. The only code
//!    that reads the repository from the disk or from git; broken input is recorded, never aborts.
//! 3. [`model`]: typed Kubernetes objects from spanned nodes (extraction is pure); [`model::build`]
//!    drives load and extraction file by file in parallel, and its `Session` re-reads only what
//!    changed (`check --watch`).
//! 4. [`profile`]: what the manifests cannot say about the cluster: which dataplane enforces
//!    policy, whether nodes are public, who the ingress controllers are (controller identity).
//! 5. [`graph`]: the reachability engine, computed once from the model and the profile;
//!    deterministic, knows nothing of rules or formats. Also the ways in from the internet, the
//!    answers of `explain`, the connections a change adds and removes, and the types and the
//!    evaluation of reachability expectations ([`graph::expect`]: the configuration reads them,
//!    the rules word their findings, and neither may use the other).
//! 6. [`finding`]: what a rule reports: level, message, locations, logical key.
//! 7. [`rules`]: read the model and the graph, return findings; never see raw YAML, never print.
//! 8. [`config`]: `.kubereach.yaml`, read and validated into settings (rule ids, levels, the
//!    profile's refinements), every error located in the file.
//! 9. [`result`]: from findings to what is reported: selection, suppressions, levels, baseline,
//!    the diff against a base revision, the report order and the logical keys.
//! 10. [`suggest`]: NetworkPolicies that close the gaps of the findings while keeping what the
//!     repository intends, applied in memory and proven by re-analysis (`kubereach suggest`).
//! 11. [`report`]: the only code that formats, for people and for tools.
//! 12. [`cli`]: turns arguments into settings and runs a command; writes the outputs. `main.rs`
//!     only prints top-level errors and picks the exit code.

#![forbid(unsafe_code)]

/// The version `--version` prints: the package version, followed by `git describe` of the
/// checkout it was built from when there was one (set by `build.rs`).
pub const VERSION: &str = env!("KUBEREACH_VERSION");

pub mod cli;
pub mod config;
pub mod finding;
pub mod graph;
pub mod load;
pub mod model;
pub mod profile;
pub mod report;
pub mod result;
pub mod rules;
pub mod span;
pub mod suggest;
