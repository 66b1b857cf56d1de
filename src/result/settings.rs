//! The settings of one analysis, resolved in one step from what a front end asks for
//! ([`Requested`]: in the binary, the command line) and the configuration file. Nothing
//! downstream re-reads raw options: the entry points of [`super::run`] take a [`Settings`].
//!
//! Precedence is fixed here: what the front end asks for wins over the configuration file, which
//! wins over the defaults. Every value is validated once; an error names the option or points
//! into the configuration file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{suppress, FileFilter, RuleSettings};
use crate::config::{self, Config, ConfigError, FailOn};
use crate::load::{self, FileSource, WalkOptions};
use crate::model::build::LoadOptions;
use crate::profile::Profile;
use crate::rules;

/// What a front end asks for; `None` and empty lists leave the choice to the configuration file
/// and the defaults.
#[derive(Clone, Debug)]
pub struct Requested {
    /// Files and folders to analyse; empty: the current folder (or, with `only_files`, the
    /// repository root).
    pub paths: Vec<PathBuf>,
    /// The configuration file; `None`: discovered from the first path upwards.
    pub config: Option<PathBuf>,
    /// Globs (gitignore syntax) relative to each scanned path.
    pub excludes: Vec<String>,
    pub default_namespace: Option<String>,
    pub max_file_size: u64,
    pub profile: Option<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    /// An earlier JSON or SARIF result whose findings are not reported again.
    pub baseline: Option<PathBuf>,
    /// Report only findings located in these files.
    pub only_files: Vec<PathBuf>,
    /// Report only what the working tree adds over this git revision.
    pub diff_base: Option<String>,
    /// Keep file texts, for source snippets and suppression comments (`check` needs them).
    pub keep_text: bool,
    /// The one scope `graph` and `explain` answer for.
    pub scope: Option<String>,
    /// A document stream read from standard input (the PATH `-`), analysed with the paths; with
    /// no other path, nothing else is read.
    pub stdin: Option<std::sync::Arc<String>>,
}

impl Default for Requested {
    fn default() -> Self {
        Requested {
            paths: Vec::new(),
            config: None,
            excludes: Vec::new(),
            default_namespace: None,
            max_file_size: WalkOptions::default().max_file_size,
            profile: None,
            select: Vec::new(),
            ignore: Vec::new(),
            fail_on: None,
            baseline: None,
            only_files: Vec::new(),
            diff_base: None,
            keep_text: true,
            scope: None,
            stdin: None,
        }
    }
}

impl Requested {
    /// The paths analysed: those asked for, else the current folder, or the repository root when
    /// only some files are reported (a few files from pre-commit still need the rest of the
    /// repository for context).
    pub fn scanned_paths(&self) -> Vec<PathBuf> {
        if !self.paths.is_empty() {
            self.paths.clone()
        } else if self.stdin.is_some() {
            Vec::new()
        } else if !self.only_files.is_empty() {
            vec![load::repository_root(Path::new("."))]
        } else {
            vec![PathBuf::from(".")]
        }
    }

    /// The configuration file that applies to `paths`: the one asked for, else the one discovered
    /// from the first path upwards (from the current folder for standard input alone).
    pub fn config_file(&self, paths: &[PathBuf]) -> Option<PathBuf> {
        self.config.clone().or_else(|| config::discover(paths.first().map_or(Path::new("."), |p| p)))
    }
}

/// The validated settings of one analysis.
#[derive(Clone, Debug)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    /// The configuration file in use, if any (`check --watch` watches it).
    pub config_path: Option<PathBuf>,
    pub load: LoadOptions,
    pub profile: Profile,
    pub rules: RuleSettings,
    pub fail_on: FailOn,
    /// Logical keys of the baseline's findings.
    pub baseline: Option<BTreeSet<String>>,
    pub only_files: Option<FileFilter>,
    pub diff_base: Option<String>,
    /// The one scope `graph` and `explain` answer for.
    pub scope: Option<String>,
}

impl Settings {
    /// The profile of a scope's cluster.
    pub fn profile_for(&self, _scope: &crate::model::build::ScopeSettings) -> &Profile {
        &self.profile
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("unknown rule `{0}` (see `kubereach rules`)")]
    UnknownRule(String),
    #[error("cannot read baseline `{path}`: {message}")]
    Baseline { path: String, message: String },
    #[error("default namespace `{0}` is not a namespace name (lowercase letters, digits and `-`, at most 63)")]
    Namespace(String),
}

/// Checks rule ids given by a front end (`all` stands for every rule).
pub fn check_rule_ids(ids: &[String]) -> Result<(), SettingsError> {
    match ids.iter().find(|id| *id != "all" && rules::find(id).is_none()) {
        Some(id) => Err(SettingsError::UnknownRule(id.clone())),
        None => Ok(()),
    }
}

impl Settings {
    /// Resolves what was asked for against the configuration file (read here: `requested.config`,
    /// else the one discovered from the first path).
    pub fn resolve(requested: &Requested) -> Result<Settings, SettingsError> {
        check_rule_ids(&requested.select)?;
        check_rule_ids(&requested.ignore)?;
        let paths = requested.scanned_paths();
        let config_path = requested.config_file(&paths);
        let config = match &config_path {
            Some(path) => config::load(path)?,
            None => Config::default(),
        };
        let load = load_options(requested, &config)?;
        let profile = config.resolve_profile(requested.profile.as_deref())?;
        let baseline = match &requested.baseline {
            None => None,
            Some(path) => {
                let failed = |message: String| SettingsError::Baseline { path: path.display().to_string(), message };
                let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
                Some(super::baseline::parse(&text).map_err(|e| failed(e.to_string()))?)
            }
        };
        let rules = RuleSettings {
            select: if requested.select.is_empty() { config.select.clone() } else { requested.select.clone() },
            ignore: config.ignore.iter().chain(requested.ignore.iter()).cloned().collect(),
            levels: config.levels.clone(),
        };
        Ok(Settings {
            paths,
            config_path,
            load,
            profile,
            rules,
            fail_on: requested.fail_on.or(config.fail_on).unwrap_or(FailOn::Warning),
            baseline,
            only_files: (!requested.only_files.is_empty()).then(|| FileFilter::new(&requested.only_files)),
            diff_base: requested.diff_base.clone(),
            scope: requested.scope.clone(),
        })
    }
}

fn load_options(requested: &Requested, config: &Config) -> Result<LoadOptions, SettingsError> {
    // Configuration patterns are relative to the configuration's folder, as in a .gitignore.
    let anchored_excludes = match (&config.path, config.exclude.is_empty()) {
        (Some(path), false) => {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            Some((load::canonical_path(&base), config.exclude.clone()))
        }
        _ => None,
    };
    // The configuration's value was validated where it was read, with its location.
    let default_namespace = match &requested.default_namespace {
        Some(ns) if !config::is_namespace_name(ns) => return Err(SettingsError::Namespace(ns.clone())),
        Some(ns) => ns.clone(),
        None => config.default_namespace.clone().unwrap_or_else(|| "default".to_string()),
    };
    Ok(LoadOptions {
        walk: WalkOptions {
            excludes: requested.excludes.clone(),
            anchored_excludes,
            max_file_size: requested.max_file_size,
        },
        default_namespace,
        // Suppression comments need their file's text; a report reads the others back.
        keep_text: if requested.keep_text {
            load::KeepText::Containing(suppress::MARKER)
        } else {
            load::KeepText::None
        },
        source: FileSource::Disk,
        render: crate::load::render::RenderOptions { enabled: true, ..Default::default() },
        scoping: None,
        stdin: requested.stdin.clone(),
    })
}
