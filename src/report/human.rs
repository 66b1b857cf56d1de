//! `check --format human`: findings for people, rendered by miette with source snippets.
//!
//! Findings come grouped by file (a header line per file, in the order of `outcome.findings`,
//! which is already the report order) and each is a miette report: the code
//! `kubereach::<rule-id>`, the message, a snippet with the primary label at the finding's span and
//! the related locations of the same file as secondary labels, a `help:` line with the rule's
//! summary and where to read more, and `= note:` lines for related locations in other files,
//! `= path:` lines for the steps of an exposure path, `= at:` where no snippet can be shown. A summary line closes the report and says how much
//! was analysed; without findings it is the whole report, so that a run that found nothing to
//! analyse never looks like a clean repository.
//!
//! What is ours rather than miette's, and why:
//! - [`Snippets`], a [`SourceCode`] over one file with its line starts computed once. miette's own
//!   `SourceCode` for `str` scans the text from its start for every label, which makes a report of
//!   many findings in one large file quadratic; ours finds a line by binary search and hands miette
//!   only the lines it shows, so rendering stays linear in the size of the output.
//! - Positions: findings carry 1-based lines and columns counted in Unicode scalar values; they
//!   are turned into byte offsets here, clamped to the text so that a span outside it (a file
//!   that changed, an unreadable file with empty text) never panics. A file without text, or a
//!   line too long to show (minified JSON), is reported without a snippet.
//! - Colour comes only from the theme (`unicode()` or `unicode_nocolor()`), the width is fixed
//!   and messages are not wrapped, so the same input gives the same bytes whatever the terminal.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, Severity,
    SourceCode, SourceSpan, SpanContents,
};

use crate::finding::{Finding, Level, Related};
use crate::load::Files;
use crate::result::order::counts;
use crate::result::{Analysed, Outcome};
use crate::span::Pos;
use crate::span::{FileId, Location};

/// The width miette lays out for, terminal or not, so that output is the same everywhere (lines
/// themselves are not wrapped, see [`write`]).
const WIDTH: usize = 100;
/// A label on a line longer than this is listed as a note instead of drawn in a snippet.
const MAX_SNIPPET_LINE: usize = 400;
/// A span over more lines than this is drawn on its first line only.
const MAX_SPAN_LINES: usize = 6;

const BOLD: &str = "\x1b[1m";
/// miette's colour for `help:`.
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// How the report is written, beyond its findings.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions<'a> {
    pub color: bool,
    /// The findings only: no summary line (`--quiet`).
    pub quiet: bool,
    /// The revision of `--diff-base`, which the summary names when nothing is new.
    pub base: Option<&'a str>,
}

pub fn write(outcome: &Outcome, files: &Files, color: bool, out: &mut dyn Write) -> io::Result<()> {
    write_with(outcome, files, &HumanOptions { color, ..HumanOptions::default() }, out)
}

pub fn write_with(outcome: &Outcome, files: &Files, options: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let color = options.color;
    if outcome.findings.is_empty() {
        if options.quiet {
            return Ok(());
        }
        return writeln!(out, "{}", summary(outcome, 0, options));
    }
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // Lines are not wrapped: miette's wrapping breaks after `/` and `-`, inside the identifiers
    // and commands that messages quote, and one line per message is what grep wants.
    let handler = GraphicalReportHandler::new_themed(theme).with_width(WIDTH).with_wrap_lines(false).with_links(false);
    let mut cache = SnippetCache::default();
    let mut current: Option<FileId> = None;
    let mut files_with_findings = 0usize;
    let mut rendered = String::new();
    for finding in &outcome.findings {
        let file = finding.location.file;
        if current != Some(file) {
            if current.is_some() {
                out.write_all(b"\n")?;
            }
            current = Some(file);
            files_with_findings += 1;
            let path = files.display(file);
            if color {
                writeln!(out, "{BOLD}{path}{RESET}")?;
            } else {
                writeln!(out, "{path}")?;
            }
        }
        let source = cache.get(files, file);
        let report = FindingReport::new(finding, source, files);
        rendered.clear();
        // Rendering into a String cannot fail but for a defect in miette: say so rather than abort.
        if handler.render_report(&mut rendered, &report).is_err() {
            rendered.clear();
            rendered.push_str(&format!(
                "  {}[{}]: {}\n",
                finding.level.as_str(),
                finding.rule,
                super::shown_message(finding)
            ));
        }
        out.write_all(b"\n")?;
        out.write_all(rendered.as_bytes())?;
        for note in &report.notes {
            writeln!(out, "{note}")?;
        }
        if color {
            writeln!(out, "  {CYAN}help:{RESET} {}", report.help)?;
        } else {
            writeln!(out, "  help: {}", report.help)?;
        }
    }
    if options.quiet {
        return Ok(());
    }
    out.write_all(b"\n")?;
    writeln!(out, "{}", summary(outcome, files_with_findings, options))
}

/// `--statistics`: one line per rule and level with its count, most severe and most frequent
/// first, then the summary line.
pub fn write_statistics(outcome: &Outcome, options: &HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut counts: std::collections::BTreeMap<(std::cmp::Reverse<crate::finding::Level>, &str), usize> =
        Default::default();
    for f in &outcome.findings {
        *counts.entry((std::cmp::Reverse(f.level), f.rule)).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by_key(|((level, rule), n)| (*level, std::cmp::Reverse(*n), *rule));
    let width = rows.iter().map(|(_, n)| n.to_string().len()).max().unwrap_or(1);
    for ((level, rule), n) in &rows {
        writeln!(out, "{n:>width$}  {:7}  {rule}", level.0.as_str())?;
    }
    if options.quiet {
        return Ok(());
    }
    let files: std::collections::BTreeSet<FileId> = outcome.findings.iter().map(|f| f.location.file).collect();
    if !rows.is_empty() {
        out.write_all(b"\n")?;
    }
    writeln!(out, "{}", summary(outcome, files.len(), options))
}

/// `kubereach: 2 errors, 5 warnings, 1 note in 3 files (4 suppressed, 1 baselined); 40 objects
/// in 12 manifests analysed`, or `kubereach: no findings; …`.
fn summary(outcome: &Outcome, files_with_findings: usize, options: &HumanOptions) -> String {
    let color = options.color;
    let [errors, warnings, notes] = counts(&outcome.findings);
    let mut line = if outcome.findings.is_empty() && outcome.baselined > 0 {
        // Every finding is known already: say so, rather than look like a clean repository.
        let base = options.base.map(|b| format!("`{b}`"));
        let said = super::markdown::nothing_new(outcome.baselined, base.as_deref());
        format!("kubereach: {}{}", said[..1].to_lowercase(), &said[1..])
    } else if outcome.findings.is_empty() {
        "kubereach: no findings".to_string()
    } else {
        format!(
            "kubereach: {}, {}, {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(notes, "note"),
            plural(files_with_findings, "file")
        )
    };
    let mut hidden = Vec::new();
    if outcome.suppressed > 0 {
        hidden.push(format!("{} suppressed", outcome.suppressed));
    }
    if outcome.baselined > 0 && !outcome.findings.is_empty() {
        hidden.push(format!("{} baselined", outcome.baselined));
    }
    if !hidden.is_empty() {
        line.push_str(&format!(" ({})", hidden.join(", ")));
    }
    line.push_str("; ");
    line.push_str(&analysed(&outcome.analysed));
    if color {
        format!("{BOLD}{line}{RESET}")
    } else {
        line
    }
}

/// `40 objects in 12 manifests analysed`, or what was looked at when nothing was found.
pub fn analysed(analysed: &Analysed) -> String {
    if analysed.objects == 0 {
        return match analysed.files {
            0 => "no YAML or JSON files found to analyse".to_string(),
            files => format!("no Kubernetes objects found in {} to analyse", plural(files, "YAML or JSON file")),
        };
    }
    let objects =
        format!("{} in {} analysed", plural(analysed.objects, "object"), plural(analysed.manifests, "manifest"));
    let rendered = match analysed.rendered {
        0 => String::new(),
        n => format!(" ({n} rendered)"),
    };
    match analysed.scopes {
        0 | 1 if rendered.is_empty() => objects,
        scopes => format!("{objects} in {}{rendered}", plural(scopes, "scope")),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One finding as a miette diagnostic.
struct FindingReport<'a> {
    finding: &'a Finding,
    code: String,
    help: String,
    /// The file's text, when it has any to show.
    source: Option<&'a Snippets<'a>>,
    labels: Vec<LabeledSpan>,
    /// Lines after the snippet (`  = at:`, `  = note:`, `  = path:`): the location when there is
    /// no snippet, related locations miette cannot draw, the exposure path.
    notes: Vec<String>,
}

impl<'a> FindingReport<'a> {
    fn new(finding: &'a Finding, source: &'a Snippets<'a>, files: &Files) -> Self {
        let help = match crate::rules::find(finding.rule) {
            Some(meta) => format!("{}; see `kubereach rules {}`", meta.summary.trim_end_matches('.'), finding.rule),
            None => format!("see `kubereach rules {}`", finding.rule),
        };
        let mut report = FindingReport {
            finding,
            code: format!("kubereach::{}", finding.rule),
            help,
            source: None,
            labels: Vec::new(),
            notes: Vec::new(),
        };
        let primary = source.span(&finding.location);
        match primary {
            Some(span) => {
                report.source = Some(source);
                report.labels.push(LabeledSpan::new_primary_with_span(Some(finding.level.as_str().to_string()), span));
            }
            None => report.notes.push(format!("  = at: {}", position(&finding.location, files))),
        }
        for related in &finding.related {
            let drawn = report.source.is_some() && related.location.file == finding.location.file;
            match source.span(&related.location).filter(|_| drawn) {
                Some(span) => report.labels.push(LabeledSpan::new_with_span(Some(related.message.clone()), span)),
                None => report.notes.push(format!("  = note: {}", note(related, files))),
            }
        }
        for (i, step) in finding.path.iter().enumerate() {
            // Later steps line up under the first: `  = path: ` is ten columns wide.
            let lead = if i == 0 { "  = path:" } else { "        →" };
            report.notes.push(format!("{lead} {}", note(step, files)));
        }
        report
    }
}

fn position(location: &Location, files: &Files) -> String {
    let start = location.span.start;
    format!("{}:{}:{}", files.display(location.file), start.line, start.col)
}

fn note(related: &Related, files: &Files) -> String {
    format!("{}: {}", position(&related.location, files), related.message)
}

impl fmt::Debug for FindingReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingReport").field("finding", self.finding).finish()
    }
}

impl fmt::Display for FindingReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::shown_message(self.finding))
    }
}

impl std::error::Error for FindingReport<'_> {}

impl Diagnostic for FindingReport<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.finding.level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Note => Severity::Advice,
        })
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// The [`Snippets`] of the file being rendered; findings come grouped by file, so one is enough.
#[derive(Default)]
struct SnippetCache<'a> {
    current: Option<(FileId, Snippets<'a>)>,
}

impl<'a> SnippetCache<'a> {
    fn get(&mut self, files: &'a Files, id: FileId) -> &Snippets<'a> {
        if self.current.as_ref().is_some_and(|(cached, _)| *cached != id) {
            self.current = None;
        }
        let (_, snippets) = self.current.get_or_insert_with(|| {
            let (name, text) = files.get(id).map_or(("<unknown>", "".into()), |f| (f.display.as_str(), f.text()));
            (id, Snippets::new(name, text))
        });
        snippets
    }
}

/// One file's text with its line starts, as miette's [`SourceCode`].
pub(crate) struct Snippets<'a> {
    name: &'a str,
    /// The kept text, or one read back from disk for this file's findings only.
    text: Cow<'a, str>,
    /// Byte offset of the start of every line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// An ASCII text's columns are byte offsets, which spares a scan of the line per position.
    ascii: bool,
}

impl<'a> Snippets<'a> {
    pub(crate) fn new(name: &'a str, text: impl Into<Cow<'a, str>>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let ascii = text.is_ascii();
        Snippets { name, text, line_starts, ascii }
    }

    /// The byte range of line `index` (0-based) without its line break.
    fn line_range(&self, index: usize) -> (usize, usize) {
        let start = self.line_starts.get(index).copied().unwrap_or(self.text.len());
        let end = self.line_starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        let end = if end > start && self.text.as_bytes().get(end - 1) == Some(&b'\r') { end - 1 } else { end };
        (start, end.max(start))
    }

    /// The 0-based line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// The byte offset of a 1-based line and column (in Unicode scalar values), clamped to the
    /// text: a line past the end gives the end of the text, a column past the end of its line
    /// gives the end of the line.
    pub(crate) fn offset(&self, pos: Pos) -> usize {
        let line = (pos.line.max(1) - 1) as usize;
        if line >= self.line_starts.len() {
            return self.text.len();
        }
        let (start, end) = self.line_range(line);
        let col = (pos.col.max(1) - 1) as usize;
        if self.ascii {
            return (start + col).min(end);
        }
        let in_line = &self.text[start..end];
        start + in_line.char_indices().nth(col).map_or(in_line.len(), |(i, _)| i)
    }

    /// The span to draw for a location, or `None` when there is nothing to show: no text, or a
    /// line too long for a snippet.
    fn span(&self, location: &Location) -> Option<SourceSpan> {
        // A position past the last line (a file changed since, a defect) would be drawn at the
        // end of the text, which misleads: the location is given as text instead.
        if self.text.is_empty() || location.span.start.line as usize > self.line_starts.len() {
            return None;
        }
        let start = self.offset(location.span.start);
        let mut end = self.offset(location.span.end).max(start);
        let first_line = self.line_of(start);
        let (_, first_end) = self.line_range(first_line);
        if first_end - self.line_starts[first_line] > MAX_SNIPPET_LINE {
            return None;
        }
        if self.line_of(end.saturating_sub(1).max(start)) > first_line + MAX_SPAN_LINES {
            end = first_end.max(start);
        }
        Some(SourceSpan::new(start.into(), end - start))
    }
}

impl SourceCode for Snippets<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let start = span.offset();
        let end = start.checked_add(span.len()).ok_or(MietteError::OutOfBounds)?;
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let start_line = self.line_of(start);
        let end_line = self.line_of(end.saturating_sub(1).max(start));
        let first = start_line.saturating_sub(context_lines_before);
        let last = (end_line + context_lines_after).min(self.line_starts.len() - 1);
        // As miette's own sources do: without leading context the contents start at the span,
        // with it at the start of the first line shown; they run to the end of the last line
        // shown, line break included.
        let (data_start, column) = if context_lines_before == 0 {
            (start, self.text[self.line_starts[start_line]..start].chars().count())
        } else {
            (self.line_starts[first], 0)
        };
        let data_end = self.line_starts.get(last + 1).copied().unwrap_or(self.text.len());
        let line = if context_lines_before == 0 { start_line } else { first };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &self.text.as_bytes()[data_start..data_end],
            SourceSpan::new(data_start.into(), data_end - data_start),
            line,
            column,
            last - line + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }

    #[test]
    fn offsets_count_columns_in_characters_and_clamp() {
        let s = Snippets::new("f.yaml", "a: é1\nbb: 2\r\nlast");
        assert_eq!(s.offset(pos(1, 1)), 0);
        assert_eq!(s.offset(pos(1, 5)), 5, "`1` follows the two-byte `é`");
        assert_eq!(s.offset(pos(1, 99)), 6, "past the end of the line: its end");
        assert_eq!(s.offset(pos(2, 99)), 12, "before the `\\r\\n`");
        assert_eq!(s.offset(pos(3, 3)), 16);
        assert_eq!(s.offset(pos(9, 1)), 18, "past the last line: the end of the text");
        assert_eq!(s.offset(pos(0, 0)), 0);
        let empty = Snippets::new("e.yaml", "");
        assert_eq!(empty.offset(pos(4, 2)), 0);
    }

    #[test]
    fn read_span_returns_only_the_lines_shown() {
        let s = Snippets::new("f.yaml", "one\ntwo\nthree\nfour\nfive\n");
        let span = SourceSpan::new(8.into(), 5);
        let contents = s.read_span(&span, 1, 1).ok();
        let contents = contents.as_deref().map(|c| (c.data(), c.line(), c.column(), c.line_count()));
        assert_eq!(contents, Some((&b"two\nthree\nfour\n"[..], 1, 0, 3)));
        let point = s.read_span(&SourceSpan::new(10.into(), 0), 0, 0).ok();
        assert_eq!(point.as_deref().map(|c| (c.line(), c.column())), Some((2, 2)));
        assert!(s.read_span(&SourceSpan::new(20.into(), 9), 1, 1).is_err());
    }
}
