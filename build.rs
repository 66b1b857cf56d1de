//! Build script: sets `KUBEREACH_VERSION`, the text `kubereach --version` prints after the name.
//!
//! It is the package version, followed by `git describe --tags --always --dirty` in parentheses
//! when the package is built from its own git checkout (a clone, or pre-commit's copy of one). A
//! build from a package archive, without git, or from a folder inside some other repository gets
//! the package version alone.
//!
//! The script is rerun when `HEAD` or a ref changes (a commit, a checkout, a new tag), not on every
//! edit: an edit after the last build leaves a `-dirty` mark out until the next commit, which is the
//! price of not rebuilding the crate on every change of the working tree.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let package = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    let version = match describe(&manifest_dir) {
        Some(described) => format!("{package} ({described})"),
        None => package,
    };
    println!("cargo:rustc-env=KUBEREACH_VERSION={version}");
}

/// `git describe` of the checkout at `dir`, when `dir` is the top of one; also asks cargo to rerun
/// the script when the checkout's `HEAD` or refs change.
fn describe(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    // In a linked worktree, `HEAD` lives in the worktree's own git folder and the refs in the
    // common one; in a plain clone both are `.git`.
    let git_dir = PathBuf::from(git(dir, &["rev-parse", "--absolute-git-dir"])?);
    let common_dir = git(dir, &["rev-parse", "--git-common-dir"]).map_or_else(|| git_dir.clone(), |c| dir.join(c));
    for watched in [git_dir.join("HEAD"), common_dir.join("packed-refs"), common_dir.join("refs")] {
        // A path that does not exist would make cargo rerun the script on every build.
        if watched.exists() {
            println!("cargo:rerun-if-changed={}", watched.display());
        }
    }
    git(dir, &["describe", "--tags", "--always", "--dirty"])
}

/// The trimmed standard output of a successful `git` command run in `dir`.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
