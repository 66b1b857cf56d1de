//! `kubereach suggest`: NetworkPolicies that close the gaps, written one file per namespace, with
//! the proof of the re-analysis; in SARIF and JSON, the findings they close carry them as fixes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{finish_write, open_output, thread_pool, CliError, CommonArgs};
use crate::report;
use crate::result::pipeline::{self, PipelineError};
use crate::result::settings::Settings;
use crate::result::RuleSource;
use crate::suggest;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SuggestFormat {
    /// The proof and the review items (the YAML too, when no `-o` folder is given)
    Human,
    /// The JSON report of the findings with their fixes, and the suggestion under `suggestion`
    Json,
    /// SARIF 2.1.0 of the findings, with a `fix` adding the policy file on each that it closes
    Sarif,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Suggest for this namespace only
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Write one `<namespace>.yaml` per namespace into this folder (created when missing)
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// What to print on standard output
    #[arg(long, value_enum, default_value_t = SuggestFormat::Human)]
    pub format: SuggestFormat,
}

pub(super) fn run(mut args: SuggestArgs) -> Result<ExitCode, CliError> {
    args.common.read_stdin()?;
    let pool = thread_pool(args.common.threads)?;
    let settings = Settings::resolve(&args.common.requested(true))?;
    // The containers' environment and command lines, which analysis leaves unread, name Services.
    crate::load::yaml::read_references();
    let checked = pool.install(|| pipeline::check(&settings, pipeline::Source::Fresh, &mut |_| {}))?;
    let loaded = &checked.loaded;
    let index = pipeline::choose_scope(loaded, settings.scope.as_deref())?.unwrap_or(0);
    let (Some(scope), Some(graph)) = (loaded.scopes.get(index), checked.graphs.get(index)) else {
        return Err(PipelineError::ScopeNeeded { available: Vec::new() }.into());
    };
    let enabled = |id: &str| settings.any_enabled(id);
    // The configuration's expectations that hold before the suggestions: each must still hold
    // after them (those already broken are `check`'s to report).
    let expectations: Vec<crate::graph::expect::Expectation> = {
        use crate::result::RuleSource as _;
        let list = settings.expectations(&scope.settings).map(|(_, list)| list.to_vec()).unwrap_or_default();
        let before = crate::graph::expect::evaluate(graph, &scope.model, &list);
        list.into_iter()
            .zip(before)
            .filter(|(_, o)| !matches!(o.status, crate::graph::expect::Status::Violated { .. }))
            .map(|(e, _)| e)
            .collect()
    };
    let hook = |model: &crate::model::Model, after: &crate::graph::Graph| -> Vec<String> {
        crate::graph::expect::evaluate(after, model, &expectations)
            .into_iter()
            .filter_map(|o| match o.status {
                crate::graph::expect::Status::Violated { count, .. } => {
                    let e = &expectations[o.expectation];
                    let name = e.name.clone().unwrap_or_else(|| format!("#{}", e.index));
                    Some(format!("expectation {name} would no longer hold ({count} pair(s) break it)"))
                }
                _ => None,
            })
            .collect()
    };
    let options = suggest::Options {
        namespace: args.namespace.clone(),
        enabled: &enabled,
        expectations: (!expectations.is_empty()).then_some(&hook as &suggest::ExpectationsHook),
    };
    let suggestion = pool.install(|| suggest::suggest(scope, graph, &options));

    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Write { what: dir.display().to_string(), source })?;
        for f in &suggestion.files {
            let path = dir.join(&f.file_name);
            std::fs::write(&path, &f.text)
                .map_err(|source| CliError::Write { what: path.display().to_string(), source })?;
        }
    }
    let folder = args.output.as_ref().map_or_else(|| "kubereach-suggested".to_string(), |d| d.display().to_string());
    let by_key = suggest::fixes(&suggestion, &folder);
    let outcome = &checked.outcome;
    let fixes = |i: usize| -> Vec<suggest::Fix> {
        let Some(f) = outcome.findings.get(i) else { return Vec::new() };
        let key = (f.rule.to_string(), f.key.object.clone(), f.key.field.clone(), f.key.peer.clone());
        by_key.get(&key).cloned().unwrap_or_default()
    };
    let mut out = open_output(None)?;
    let written = match args.format {
        SuggestFormat::Human => {
            let mut w = Ok(());
            if args.output.is_none() {
                for f in &suggestion.files {
                    w = w.and_then(|()| writeln!(out, "# file: {}\n{}", f.file_name, f.text));
                }
            }
            w.and_then(|()| {
                report::suggest::write_summary(
                    &suggestion,
                    &loaded.files,
                    Some(&folder).filter(|_| args.output.is_some()).map(String::as_str),
                    &mut out,
                )
            })
        }
        SuggestFormat::Json => report::suggest::write_json(&suggestion, outcome, &loaded.files, &fixes, &mut out),
        SuggestFormat::Sarif => {
            let root = crate::load::repository_root(settings.paths.first().map_or(std::path::Path::new("."), |p| p));
            let options = report::sarif::SarifOptions { category: None, root, ..Default::default() };
            report::sarif::write_with_fixes(outcome, &loaded.files, &options, &fixes, &mut out)
        }
    }
    .and_then(|()| out.flush());
    finish_write(written, "the suggestion")?;
    Ok(ExitCode::SUCCESS)
}
