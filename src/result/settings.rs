//! The settings of one analysis, resolved in one step from what a front end asks for
//! ([`Requested`]: in the binary, the command line) and the configuration file. Nothing
//! downstream re-reads raw options: the entry points of [`super::run`] take a [`Settings`].
//!
//! Precedence is fixed here: what the front end asks for wins over the configuration file, which
//! wins over the defaults. Every value is validated once; an error names the option or points
//! into the configuration file.
//!
//! Configuration is per folder ([`FolderSettings`]): each PATH is governed by the configuration
//! found from it upwards, and every `.kubereach.yaml` below a PATH governs the files of its folder
//! and below, down to the next folder with its own file. The closest file wins and is the whole
//! configuration of its subtree: nothing is merged from a file further up (ruff's rule, chosen so
//! that a run from the repository root and a run from the folder read the same single file for
//! the folder's files). `--config FILE` turns discovery off: that file governs everything. What
//! stays global is what only the command line says (the paths, the baseline, `--only-files`,
//! `--diff-base`, `--scope`) and `fail-on`, which comes from the PATHs' own configurations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{suppress, FileFilter, RuleSettings, RuleSource};
use crate::config::{self, Config, ConfigError, FailOn, PathGlobs};
use crate::graph::expect::Expectation;
use crate::load::render::RenderOptions;
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
    /// The configuration file, governing every path; `None`: discovered per folder.
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
    /// Analyse only this scope (`--scope NAME`).
    pub scope: Option<String>,
    /// Read kustomizations and charts as plain files (`--no-render`), whatever the files say.
    pub no_render: bool,
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
            no_render: false,
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

    /// The configuration files that apply to `paths`, without reading them: the one asked for;
    /// else, for each path, the one found from it upwards, then every one below the paths (the
    /// walk's ignore rules and `--exclude` respected). Each is resolved to an absolute path.
    pub fn config_files(&self, paths: &[PathBuf]) -> Result<Vec<PathBuf>, load::LoadError> {
        if let Some(explicit) = &self.config {
            return Ok(vec![load::canonical_path(explicit)]);
        }
        // Standard input alone: the configuration of the current folder.
        let mut files: Vec<PathBuf> = match paths {
            [] => config::discover(Path::new(".")).into_iter().collect(),
            _ => paths.iter().filter_map(|p| config::discover(p)).collect(),
        };
        // A missing path is the load's to report.
        let existing: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
        files.extend(
            load::find_named(&existing, config::FILE_NAME, &self.excludes)?.iter().map(|p| load::canonical_path(p)),
        );
        files.sort();
        files.dedup();
        Ok(files)
    }
}

/// The settings of the files of one folder: those of the configuration file that governs it, with
/// what the front end asked for over them.
#[derive(Clone, Debug)]
pub struct FolderSettings {
    /// The folder governed (absolute, links resolved): the configuration file's folder, or a PATH
    /// that no configuration governs.
    pub root: PathBuf,
    /// The configuration file, when there is one.
    pub config_path: Option<PathBuf>,
    /// Which rules run on the folder's files and how loud they are.
    pub rules: RuleSettings,
    pub profile: Profile,
    pub default_namespace: String,
    /// The file's `exclude` patterns, relative to `root` (the walk applies them).
    pub excludes: Vec<String>,
    /// The file's `fail-on`.
    pub fail_on: Option<FailOn>,
    /// Declared scopes, in order: plain manifests that a scope's globs match are analysed together
    /// (the first matching scope wins).
    pub scopes: Vec<ScopeSpec>,
    /// Folders that are each a scope of their own ([`PathGlobs::matching_folder`]).
    pub independent: Option<PathGlobs>,
    /// How kustomizations and charts are rendered (`enabled: false` under `--no-render`).
    pub render: RenderOptions,
    /// The configuration's reachability expectations, checked against every scope the folder
    /// governs.
    pub expectations: Vec<crate::graph::expect::Expectation>,
}

/// A scope that a configuration file declares.
#[derive(Clone, Debug)]
pub struct ScopeSpec {
    pub name: String,
    /// The files it takes in (relative to the configuration's folder).
    pub paths: PathGlobs,
    /// Its own profile; `None`: the folder's (always `None` under `--profile`, which wins).
    pub profile: Option<Profile>,
    /// Its own default namespace; `None`: the folder's (always `None` under
    /// `--default-namespace`).
    pub default_namespace: Option<String>,
}

/// The validated settings of one analysis.
#[derive(Clone, Debug)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    /// Every configuration file in use (`check --watch` watches them).
    pub config_paths: Vec<PathBuf>,
    /// How the repository is walked and read: every configuration's excludes anchored at its
    /// folder; the default namespace is the first PATH's folder's, until scopes split the load.
    pub load: LoadOptions,
    /// The first PATH's folder's profile (a folder's own is [`FolderSettings::profile`]).
    pub profile: Profile,
    /// The settings of each governed folder: one per configuration file in use, and one per PATH
    /// that none governs; the first PATH's comes first, then the others from the shallowest.
    pub folders: Vec<FolderSettings>,
    /// What applies where no folder does (a path outside every PATH): the defaults, with what the
    /// front end asked for.
    pub defaults: FolderSettings,
    /// `--config` was given: its folder governs every path.
    pub explicit_config: bool,
    pub fail_on: FailOn,
    /// Logical keys of the baseline's findings.
    pub baseline: Option<BTreeSet<String>>,
    pub only_files: Option<FileFilter>,
    pub diff_base: Option<String>,
    /// Analyse only this scope (`--scope NAME`).
    pub scope: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("unknown rule `{0}`{hint}; `kubereach rules` lists them", hint = rules::did_you_mean(.0))]
    UnknownRule(String),
    #[error("--profile: unknown profile `{0}`; expected {names}", names = crate::profile::built_in_names())]
    Profile(String),
    #[error("cannot read baseline `{path}`: {message}")]
    Baseline { path: String, message: String },
    #[error("default namespace `{0}` is not a namespace name (lowercase letters, digits and `-`, at most 63)")]
    Namespace(String),
    #[error(transparent)]
    Walk(#[from] load::LoadError),
}

/// Checks rule ids given by a front end (`all` stands for every rule; an id may carry the
/// `kubereach::` prefix the human report prints).
pub fn check_rule_ids(ids: &[String]) -> Result<(), SettingsError> {
    match ids.iter().find(|id| rules::canonical_id(id) != "all" && rules::find(id).is_none()) {
        Some(id) => Err(SettingsError::UnknownRule(id.clone())),
        None => Ok(()),
    }
}

/// Rule ids as the selection compares them: without the `kubereach::` prefix.
fn canonical_ids(ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| rules::canonical_id(id).to_string()).collect()
}

impl FolderSettings {
    /// A folder's settings: `config` (the defaults when it was read from no file), with what was
    /// asked for over it.
    fn resolve(root: PathBuf, config: &Config, requested: &Requested) -> Result<FolderSettings, SettingsError> {
        // The configuration's value was validated where it was read, with its location.
        let default_namespace = match &requested.default_namespace {
            Some(ns) if !config::is_namespace_name(ns) => return Err(SettingsError::Namespace(ns.clone())),
            Some(ns) => ns.clone(),
            None => config.default_namespace.clone().unwrap_or_else(|| "default".to_string()),
        };
        let cli_profile = requested.profile.as_deref();
        let mut scopes = Vec::with_capacity(config.scopes.len());
        for scope in &config.scopes {
            scopes.push(ScopeSpec {
                name: scope.name.clone(),
                paths: scope.paths.clone(),
                profile: config.resolve_scope_profile(scope, cli_profile)?,
                default_namespace: if requested.default_namespace.is_some() {
                    None
                } else {
                    scope.default_namespace.clone()
                },
            });
        }
        let mut render = config.render.clone();
        if requested.no_render {
            render.enabled = false;
        }
        Ok(FolderSettings {
            root,
            config_path: config.path.clone(),
            rules: RuleSettings {
                select: if requested.select.is_empty() {
                    config.select.clone()
                } else {
                    canonical_ids(&requested.select)
                },
                ignore: config.ignore.iter().cloned().chain(canonical_ids(&requested.ignore)).collect(),
                levels: config.levels.clone(),
            },
            profile: config.resolve_profile(cli_profile)?,
            default_namespace,
            excludes: config.exclude.clone(),
            fail_on: config.fail_on,
            scopes,
            independent: config.independent.clone(),
            render,
            expectations: config.expect.clone(),
        })
    }
}

impl Settings {
    /// Resolves what was asked for against the configuration files (read here: `requested.config`,
    /// else every one that governs a part of the paths).
    pub fn resolve(requested: &Requested) -> Result<Settings, SettingsError> {
        check_rule_ids(&requested.select)?;
        check_rule_ids(&requested.ignore)?;
        // A wrong `--profile` is the command line's mistake, not that of the file it would refine.
        if let Some(name) = requested.profile.as_deref() {
            if crate::profile::Profile::built_in(name).is_none() {
                return Err(SettingsError::Profile(name.to_string()));
            }
        }
        let paths = requested.scanned_paths();
        let mut folders: Vec<FolderSettings> = Vec::new();
        // Shallow folders first, so that a folder's file is read before the files below it, which
        // it may leave out by excluding their folder.
        let mut config_files = requested.config_files(&paths)?;
        config_files.sort_by_key(|p| p.components().count());
        for file in &config_files {
            let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
            if requested.config.is_none() && excluded_by_folders_above(&root, &folders)? {
                continue;
            }
            let config = config::load(file).map_err(shown)?;
            folders.push(FolderSettings::resolve(root, &config, requested).map_err(|e| match e {
                SettingsError::Config(e) => SettingsError::Config(shown(e)),
                other => other,
            })?);
        }
        let config_paths: Vec<PathBuf> = folders.iter().filter_map(|f| f.config_path.clone()).collect();
        let explicit_config = requested.config.is_some();
        let defaults = FolderSettings::resolve(load::canonical_path(Path::new(".")), &Config::default(), requested)?;
        if !explicit_config {
            // A PATH that no configuration governs is a folder of its own, with the defaults.
            for path in &paths {
                let root = load::canonical_path(path);
                if !folders.iter().any(|f| root.starts_with(&f.root)) {
                    folders.push(FolderSettings { root, ..defaults.clone() });
                }
            }
        }
        let baseline = match &requested.baseline {
            None => None,
            Some(path) => {
                let failed = |message: String| SettingsError::Baseline { path: path.display().to_string(), message };
                let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
                Some(super::baseline::parse(&text).map_err(|e| failed(e.to_string()))?)
            }
        };
        let mut settings = Settings {
            paths,
            config_paths,
            load: LoadOptions::default(),
            profile: defaults.profile.clone(),
            folders,
            defaults,
            explicit_config,
            fail_on: FailOn::Warning,
            baseline,
            only_files: (!requested.only_files.is_empty()).then(|| FileFilter::new(&requested.only_files)),
            diff_base: requested.diff_base.clone(),
            scope: requested.scope.clone(),
        };
        // The first PATH's folder comes first: what a scope without settings of its own
        // (`ScopeSettings::default()`) is governed by.
        if let Some(first) = settings.paths.first() {
            let root = settings.for_path(first).root.clone();
            if let Some(i) = settings.folders.iter().position(|f| f.root == root) {
                let primary = settings.folders.remove(i);
                settings.folders.insert(0, primary);
            }
        }
        let primary = settings.folders.first().cloned().unwrap_or_else(|| settings.defaults.clone());
        // `fail-on` is the PATHs' own configurations' (not a folder's below them): with several,
        // the strictest, so that no PATH passes what its own file would fail.
        let from_files = match settings.paths.is_empty() {
            // Standard input alone: the current folder's configuration.
            true => settings.folders.first().and_then(|f| f.fail_on),
            false => settings.paths.iter().filter_map(|p| settings.for_path(p).fail_on).min_by_key(|f| strictness(*f)),
        };
        settings.fail_on = requested.fail_on.or(from_files).unwrap_or(FailOn::Warning);
        settings.load = load_options(requested, &settings.folders, &primary, settings.explicit_config);
        settings.profile = primary.profile;
        Ok(settings)
    }

    /// The settings that govern `path` (a file or folder, in any spelling): the folder's whose
    /// root is the closest above it; the `--config` file's for every path; the defaults outside
    /// every folder.
    pub fn for_path(&self, path: &Path) -> &FolderSettings {
        if self.explicit_config {
            return self.folders.first().unwrap_or(&self.defaults);
        }
        let absolute = load::canonical_path(path);
        self.folders
            .iter()
            .filter(|f| absolute.starts_with(&f.root))
            .max_by_key(|f| f.root.components().count())
            .unwrap_or(&self.defaults)
    }

    /// The profile of a scope's cluster: its declared scope's own, else its folder's.
    pub fn profile_for(&self, scope: &crate::model::build::ScopeSettings) -> &Profile {
        let Some(folder) = self.folders.get(scope.folder) else { return &self.profile };
        scope.declared.and_then(|d| folder.scopes.get(d)).and_then(|d| d.profile.as_ref()).unwrap_or(&folder.profile)
    }

    /// The folders that have a configuration file of their own (absolute), in the order of
    /// [`Settings::folders`].
    pub fn configuration_roots(&self) -> Vec<&Path> {
        self.folders.iter().filter(|f| f.config_path.is_some()).map(|f| f.root.as_path()).collect()
    }
}

/// How the configuration places plain files into scopes (DESIGN §11), for the load: a declared
/// scope whose globs match the file (the first); else a folder of `independent`; else the scope
/// of the configuration folder that governs the file. The first PATH's folder, and every folder
/// without a configuration file, is the repository's scope; any other folder with its own file
/// is a scope named after the folder, so that its files are analysed with the same settings and
/// the same neighbours whether the run starts at the repository root or in the folder. Scope
/// names of a folder other than the first PATH's are qualified with it (`team:prod`).
pub struct FolderScoping {
    folders: Vec<FolderSettings>,
    explicit_config: bool,
    /// One folder without declared or independent scopes: every file is the repository's, and
    /// no path needs resolving (the common case costs nothing per file).
    trivial: bool,
    /// What each folder of the walk already resolved to ([`load::canonical_path`] costs system
    /// calls per component, and globs cost matching): computed once per folder, not per file.
    dirs: std::sync::Mutex<std::collections::HashMap<PathBuf, DirPlace>>,
}

/// Where a folder of the walk stands.
#[derive(Clone)]
struct DirPlace {
    /// The folder, absolute, links resolved.
    absolute: PathBuf,
    /// The index of the configuration folder that governs it.
    folder: usize,
    /// The outermost `independent` folder at or above it, if any.
    independent: Option<PathBuf>,
}

impl FolderScoping {
    fn new(folders: &[FolderSettings], explicit_config: bool) -> FolderScoping {
        let trivial = (explicit_config || folders.len() <= 1)
            && folders.first().is_none_or(|f| f.scopes.is_empty() && f.independent.is_none());
        FolderScoping { folders: folders.to_vec(), explicit_config, trivial, dirs: Default::default() }
    }

    /// Where the folder `dir` (as the walk names it) stands; cached.
    fn dir_place(&self, dir: &Path) -> DirPlace {
        if let Some(known) = self.dirs.lock().ok().and_then(|d| d.get(dir).cloned()) {
            return known;
        }
        let absolute = load::canonical_path(if dir.as_os_str().is_empty() { Path::new(".") } else { dir });
        let folder = self.folder_of(&absolute);
        let independent = self
            .folders
            .get(folder)
            .and_then(|f| f.independent.as_ref())
            .and_then(|g| g.matching_folder_resolved(&absolute, true));
        let place = DirPlace { absolute, folder, independent };
        if let Ok(mut dirs) = self.dirs.lock() {
            dirs.insert(dir.to_path_buf(), place.clone());
        }
        place
    }

    /// The placement of `path`, a file or (`is_dir`) a rendered folder.
    fn place(&self, path: &Path, is_dir: bool) -> crate::model::build::Placement {
        use crate::model::build::{Placement, ScopeSettings, REPOSITORY_SCOPE};
        let repository = |namespace: &str| Placement {
            scope: REPOSITORY_SCOPE.to_string(),
            settings: ScopeSettings::default(),
            default_namespace: namespace.to_string(),
        };
        if self.trivial {
            return repository(self.folders.first().map_or("default", |f| f.default_namespace.as_str()));
        }
        let (absolute, dir) = match (is_dir, path.parent(), path.file_name()) {
            (false, Some(dir), Some(name)) => {
                let dir = self.dir_place(dir);
                (dir.absolute.join(name), dir)
            }
            _ => {
                let dir = self.dir_place(path);
                (dir.absolute.clone(), dir)
            }
        };
        let index = dir.folder;
        let Some(folder) = self.folders.get(index) else { return repository("default") };
        let declared = folder.scopes.iter().enumerate().find(|(_, s)| s.paths.matches_resolved(&absolute, is_dir));
        if let Some((j, declared)) = declared {
            return Placement {
                scope: self.qualified(index, &declared.name),
                settings: ScopeSettings { folder: index, declared: Some(j) },
                default_namespace: declared
                    .default_namespace
                    .clone()
                    .unwrap_or_else(|| folder.default_namespace.clone()),
            };
        }
        let settings = ScopeSettings { folder: index, declared: None };
        let default_namespace = folder.default_namespace.clone();
        if let Some(own) = dir.independent {
            return Placement { scope: load::display_path(&own), settings, default_namespace };
        }
        if index == 0 || folder.config_path.is_none() {
            // PATHs without configuration join the first PATH's scope, with its settings.
            return Placement {
                settings: ScopeSettings { folder: if is_dir { index } else { 0 }, declared: None },
                ..repository(&default_namespace)
            };
        }
        Placement { scope: load::display_path(&folder.root), settings, default_namespace }
    }

    /// The index of the folder that governs the absolute `path` (0, the first PATH's, outside
    /// every folder).
    fn folder_of(&self, absolute: &Path) -> usize {
        if self.explicit_config {
            return 0;
        }
        self.folders
            .iter()
            .enumerate()
            .filter(|(_, f)| absolute.starts_with(&f.root))
            .max_by_key(|(_, f)| f.root.components().count())
            .map_or(0, |(i, _)| i)
    }

    fn qualified(&self, folder: usize, name: &str) -> String {
        match self.folders.get(folder) {
            Some(f) if folder > 0 => format!("{}:{name}", load::display_path(&f.root)),
            _ => name.to_string(),
        }
    }
}

impl std::fmt::Debug for FolderScoping {
    /// What decides placements, compactly: the load's cache starts afresh when it changes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for folder in &self.folders {
            let scopes: Vec<(&str, &[String], Option<&str>)> = folder
                .scopes
                .iter()
                .map(|s| (s.name.as_str(), s.paths.patterns(), s.default_namespace.as_deref()))
                .collect();
            write!(
                f,
                "{:?}:{:?}:{:?}:{:?};",
                folder.root,
                folder.default_namespace,
                scopes,
                folder.independent.as_ref().map(PathGlobs::patterns)
            )?;
        }
        Ok(())
    }
}

impl crate::model::build::Scoping for FolderScoping {
    fn plain(&self, path: &Path) -> crate::model::build::Placement {
        self.place(path, false)
    }

    /// A rendered folder is a scope of its own (named after it); what it takes from the
    /// configuration is its folder's settings, or those of a declared scope that covers it.
    fn rendered(&self, dir: &Path) -> crate::model::build::Placement {
        self.place(dir, true)
    }
}

/// A configuration error with its file as users name it (relative to the working folder when
/// below it); files are read under their absolute paths, as their globs are anchored there.
fn shown(mut e: ConfigError) -> ConfigError {
    e.path = PathBuf::from(load::display_path(&e.path));
    e
}

/// Lower is stricter: `note` fails on the most.
fn strictness(f: FailOn) -> u8 {
    match f {
        FailOn::Note => 0,
        FailOn::Warning => 1,
        FailOn::Error => 2,
        FailOn::Never => 3,
    }
}

/// Whether the configuration of a folder above `dir` excludes `dir` (or everything in it), as
/// the walk would: then `dir`'s own file is not read, as its files are not.
fn excluded_by_folders_above(dir: &Path, folders: &[FolderSettings]) -> Result<bool, SettingsError> {
    let mut list: Vec<(PathBuf, Vec<String>)> =
        folders.iter().filter(|f| f.config_path.is_some()).map(|f| (f.root.clone(), f.excludes.clone())).collect();
    list.push((dir.to_path_buf(), Vec::new()));
    let Some(anchored) = load::Anchored::new(&list)? else { return Ok(false) };
    Ok(dir.ancestors().any(|d| anchored.excluded(d, true)))
}

impl RuleSource for Settings {
    fn rules_for(&self, path: &Path) -> &RuleSettings {
        &self.for_path(path).rules
    }

    fn any_enabled(&self, id: &str) -> bool {
        match self.uniform() {
            Some(all) => all.enabled(id),
            None => self.defaults.rules.enabled(id) || self.folders.iter().any(|f| f.rules.enabled(id)),
        }
    }

    fn expectations(&self, scope: &crate::model::build::ScopeSettings) -> Option<(&Path, &[Expectation])> {
        let folder = self.folders.get(scope.folder)?;
        let path = folder.config_path.as_deref()?;
        (!folder.expectations.is_empty()).then_some((path, folder.expectations.as_slice()))
    }

    fn uniform(&self) -> Option<&RuleSettings> {
        match self.folders.as_slice() {
            [only, ..] if self.explicit_config => Some(&only.rules),
            // Every folder alike (no configuration, or none that speaks of rules): no lookups.
            folders if folders.iter().all(|f| f.rules == self.defaults.rules) => Some(&self.defaults.rules),
            _ => None,
        }
    }
}

/// How to render: the first PATH's folder's commands and switch, the charts every configuration
/// names (each names its own, relative to its folder), and the cache folder.
fn render_options(folders: &[FolderSettings], primary: &FolderSettings) -> RenderOptions {
    let mut render = primary.render.clone();
    for folder in folders.iter().filter(|f| f.root != primary.root) {
        render.charts.extend(folder.render.charts.iter().cloned());
    }
    if render.cache_dir.is_none() {
        render.cache_dir = cache_dir();
    }
    render
}

/// Where renderings are cached between runs (so that a pre-commit hook renders again only what
/// changed): `KUBEREACH_CACHE_DIR`, else the user's cache folder (`XDG_CACHE_HOME`, else
/// `~/.cache`) under `kubereach`. An empty `KUBEREACH_CACHE_DIR` turns the cache off.
fn cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(value) = std::env::var_os("KUBEREACH_CACHE_DIR") {
        return (!value.is_empty()).then(|| PathBuf::from(value));
    }
    non_empty("XDG_CACHE_HOME")
        .or_else(|| non_empty("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("kubereach"))
}

fn load_options(
    requested: &Requested,
    folders: &[FolderSettings],
    primary: &FolderSettings,
    explicit_config: bool,
) -> LoadOptions {
    // Configuration patterns are relative to the configuration's folder, as in a .gitignore; a
    // file without patterns still counts, as it governs its folder instead of the file above.
    let anchored_excludes =
        folders.iter().filter(|f| f.config_path.is_some()).map(|f| (f.root.clone(), f.excludes.clone())).collect();
    LoadOptions {
        walk: WalkOptions {
            excludes: requested.excludes.clone(),
            anchored_excludes,
            max_file_size: requested.max_file_size,
        },
        default_namespace: primary.default_namespace.clone(),
        // Suppression comments need their file's text; a report reads the others back.
        keep_text: if requested.keep_text {
            load::KeepText::Containing(suppress::MARKER)
        } else {
            load::KeepText::None
        },
        source: FileSource::Disk,
        render: render_options(folders, primary),
        scoping: Some(std::sync::Arc::new(FolderScoping::new(folders, explicit_config))),
        stdin: requested.stdin.clone(),
        // Findings about expectations point into their configuration file.
        located: folders.iter().filter(|f| !f.expectations.is_empty()).filter_map(|f| f.config_path.clone()).collect(),
    }
}
