//! Helm charts rendered with `helm template`, each document mapped back to its template.
//!
//! kubereach runs the real helm (configured, else `helm` found on PATH) on the chart's folder,
//! with the values files, release name and namespace the configuration gives for that chart, and
//! maps what helm prints through its `# Source:` comments ([`super::sourced`]). Which folders are
//! rendered: a chart root (a folder with `Chart.yaml`) that is no subchart of another chart and
//! no library chart ([`renderable_charts`]). A chart that helm refuses is one
//! [`RenderFailure`] at its `Chart.yaml`, with helm's own message.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{sourced, ChartOptions, RenderFailure, RenderOptions, Rendered};
use crate::span::{Pos, Span};

/// How long one `helm template` may run. Rendering a chart takes well under a second; a helm
/// that hangs (a plugin, a network lookup) must not hang the analysis.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The helm command to run: the configured one, else `helm` when it is on PATH; `None`: charts
/// are not rendered.
pub fn command(options: &RenderOptions) -> Option<Vec<String>> {
    match &options.helm {
        Some(command) if !command.is_empty() => Some(command.clone()),
        _ => on_path("helm").map(|p| vec![p.to_string_lossy().into_owned()]),
    }
}

/// An executable named `name` in one of the PATH's folders.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// The charts among `roots` (folders holding a `Chart.yaml`) that are rendered on their own: not
/// a subchart (`<chart>/charts/<name>/`, rendered with its parent) and not a library chart
/// (`type: library`, which renders nothing by itself).
pub fn renderable_charts(roots: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    roots.iter().filter(|root| !is_subchart(root, roots) && !is_library(root)).cloned().collect()
}

fn is_subchart(root: &Path, roots: &BTreeSet<PathBuf>) -> bool {
    root.ancestors().skip(1).any(|folder| {
        folder.file_name().is_some_and(|n| n == "charts")
            && folder.parent().is_some_and(|parent| roots.contains(parent) || parent.join("Chart.yaml").is_file())
    })
}

/// Whether the chart's `Chart.yaml` says `type: library`.
pub fn is_library(chart: &Path) -> bool {
    sourced::chart_field(chart, "type").as_deref() == Some("library")
}

/// What the configuration says of this chart (matched on the folder, however it is written).
fn chart_options<'a>(chart: &Path, options: &'a RenderOptions) -> Option<&'a ChartOptions> {
    let chart = crate::load::canonical_path(chart);
    options.charts.iter().find(|c| crate::load::canonical_path(&c.dir) == chart)
}

/// A release name helm accepts, made from a folder's name: lowercase letters, digits and `-`,
/// at most 53 characters.
fn release_name(chart: &Path) -> String {
    let folder = crate::load::canonical_path(chart);
    let name = folder.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' }).collect();
    let trimmed: String = cleaned.trim_matches('-').chars().take(53).collect();
    let trimmed = trimmed.trim_end_matches('-');
    if trimmed.is_empty() {
        "release".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The arguments after the command: `template <release> <chart> [--namespace NS] [-f values]…`.
fn arguments(chart: &Path, options: &RenderOptions) -> Vec<String> {
    let configured = chart_options(chart, options);
    let release = configured.and_then(|c| c.release.clone()).unwrap_or_else(|| release_name(chart));
    let mut args = vec!["template".to_string(), release, chart.to_string_lossy().into_owned()];
    if let Some(namespace) = configured.and_then(|c| c.namespace.as_ref()) {
        args.extend(["--namespace".to_string(), namespace.clone()]);
    }
    for values in configured.map(|c| c.values.as_slice()).unwrap_or_default() {
        args.extend(["-f".to_string(), values.to_string_lossy().into_owned()]);
    }
    args
}

/// Renders the chart in `chart` with `command` (from [`command`]) and maps the output back to its
/// templates.
pub fn render(chart: &Path, command: &[String], options: &RenderOptions) -> Result<Rendered, RenderFailure> {
    let failure = |message: String| RenderFailure {
        file: chart.join("Chart.yaml"),
        span: Span { start: Pos { line: 1, col: 1 }, end: Pos { line: 1, col: 1 } },
        message,
    };
    let Some((program, leading)) = command.split_first() else {
        return Err(failure("no helm command is configured".to_string()));
    };
    let output = run(program, leading.iter().cloned().chain(arguments(chart, options)), TIMEOUT)
        .map_err(|e| failure(format!("cannot run `{program}`: {e}")))?;
    if !output.success {
        let message = String::from_utf8_lossy(&output.stderr);
        let message = message.trim();
        let message = message.strip_prefix("Error: ").unwrap_or(message);
        return Err(failure(if message.is_empty() {
            format!("`{program} template` failed ({})", output.status)
        } else {
            format!("`helm template` failed: {message}")
        }));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| failure("`helm template` printed something that is not UTF-8 text".to_string()))?;
    let name = sourced::chart_name(chart);
    let resolve = |source: &str| sourced::resolve_source(chart, name.as_deref(), source);
    let mut rendered = sourced::map_sourced(text, &resolve);
    rendered.read.extend(chart_files(chart));
    for values in chart_options(chart, options).map(|c| c.values.as_slice()).unwrap_or_default() {
        rendered.read.insert(values.clone());
    }
    Ok(rendered)
}

/// The files a chart's rendering reads: `Chart.yaml`, its lock and values files, and everything
/// under `templates/` and `charts/` (subcharts and their archives).
fn chart_files(chart: &Path) -> BTreeSet<PathBuf> {
    let mut files: BTreeSet<PathBuf> =
        ["Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json", "requirements.yaml"]
            .iter()
            .map(|f| chart.join(f))
            .filter(|p| p.is_file())
            .collect();
    for folder in ["templates", "charts"] {
        let mut pending = vec![chart.join(folder)];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                match entry.file_type() {
                    Ok(t) if t.is_dir() => pending.push(path),
                    Ok(t) if t.is_file() => {
                        files.insert(path);
                    }
                    _ => {}
                }
            }
        }
    }
    files
}

/// What a finished child process yields.
struct Output {
    success: bool,
    status: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `program` with `args`, reading both outputs as it runs (a full pipe would block it), and
/// kills it after `timeout`.
fn run(program: &str, args: impl Iterator<Item = String>, timeout: Duration) -> std::io::Result<Output> {
    let mut child = super::spawn(
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()),
    )?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("it did not finish within {} seconds", timeout.as_secs()),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Output {
        success: status.success(),
        status: status.to_string(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_made_acceptable_to_helm() {
        assert_eq!(release_name(Path::new("charts/Shop_Web")), "shop-web");
        assert_eq!(release_name(Path::new("x/---")), "release");
    }

    #[test]
    fn the_configured_chart_gives_release_namespace_and_values() {
        let options = RenderOptions {
            charts: vec![ChartOptions {
                dir: PathBuf::from("deploy/chart/."),
                values: vec![PathBuf::from("deploy/prod.yaml")],
                namespace: Some("shop".to_string()),
                release: Some("web".to_string()),
            }],
            ..RenderOptions::default()
        };
        assert_eq!(
            arguments(Path::new("deploy/chart"), &options),
            ["template", "web", "deploy/chart", "--namespace", "shop", "-f", "deploy/prod.yaml"]
        );
        assert_eq!(arguments(Path::new("other/app"), &options), ["template", "app", "other/app"]);
    }

    #[test]
    fn subcharts_and_library_charts_are_not_rendered_on_their_own() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let app = dir.path().join("app");
        let sub = app.join("charts/db");
        let lib = dir.path().join("common");
        for (folder, chart) in [(&app, "name: app\n"), (&sub, "name: db\n"), (&lib, "name: common\ntype: library\n")] {
            std::fs::create_dir_all(folder).expect("folder");
            std::fs::write(folder.join("Chart.yaml"), chart).expect("write");
        }
        let roots: BTreeSet<PathBuf> = [app.clone(), sub, lib].into_iter().collect();
        assert_eq!(renderable_charts(&roots), vec![app]);
    }

    #[test]
    fn sources_resolve_inside_the_chart_only() {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(dir.path().join("templates")).expect("folder");
        std::fs::write(dir.path().join("templates/a.yaml"), "kind: Service\n").expect("write");
        let chart = dir.path();
        assert_eq!(
            sourced::resolve_source(chart, Some("shop"), "shop/templates/a.yaml"),
            Some(chart.join("templates/a.yaml"))
        );
        assert_eq!(sourced::resolve_source(chart, Some("shop"), "other/templates/a.yaml"), None);
        assert_eq!(sourced::resolve_source(chart, Some("shop"), "shop/templates/missing.yaml"), None);
        assert_eq!(sourced::resolve_source(chart, Some("shop"), "shop/../templates/a.yaml"), None);
        // A subchart's template: helm names it below the parent's `charts/`.
        std::fs::create_dir_all(dir.path().join("charts/db/templates")).expect("folder");
        std::fs::write(dir.path().join("charts/db/templates/svc.yaml"), "kind: Service\n").expect("write");
        assert_eq!(
            sourced::resolve_source(chart, Some("shop"), "shop/charts/db/templates/svc.yaml"),
            Some(chart.join("charts/db/templates/svc.yaml"))
        );
    }
}
