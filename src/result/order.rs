//! The order and the identity of findings: how every report sorts them, and the logical key that
//! `--baseline` and `--diff-base` match them by.

use crate::finding::{Finding, Level};
use crate::load::Files;
use crate::span::FileId;

/// Sorts findings as every report shows them: by displayed path, position, rule, message.
pub fn sort_findings(findings: &mut [Finding], files: &Files) {
    findings.sort_by(|a, b| {
        (files.display(a.location.file), a.location.span, a.rule, &a.message).cmp(&(
            files.display(b.location.file),
            b.location.span,
            b.rule,
            &b.message,
        ))
    });
}

/// The logical key of a finding as text: independent of file and line where the finding has an
/// object. A finding without one (a broken document) is keyed by the text of the line it points
/// at and its message, which a move or a rename of the file keeps; one about a whole file that has
/// no text (binary, too large) by the file's name.
pub fn logical_key(f: &Finding, files: &Files) -> String {
    LogicalKeys::new(files).key(f)
}

/// The logical keys of many findings ([`logical_key`]). A finding without an object reads the
/// line it points at: the text of the last file read is kept with where its lines are, so that
/// the findings of one file (reports list them file by file) read and split it once, not once
/// per finding.
pub struct LogicalKeys<'f> {
    files: &'f Files,
    /// The file whose text is held, that text, and the byte range of each of its lines.
    held: Option<(FileId, std::borrow::Cow<'f, str>, Vec<std::ops::Range<usize>>)>,
}

impl<'f> LogicalKeys<'f> {
    pub fn new(files: &'f Files) -> Self {
        LogicalKeys { files, held: None }
    }

    pub fn key(&mut self, f: &Finding) -> String {
        if !f.key.object.is_empty() {
            return format!("{}|{}|{}|{}", f.rule, f.key.object, f.key.field, f.key.peer);
        }
        let file = self.files.get(f.location.file);
        let line = (f.location.span.start.line as usize).checked_sub(1);
        let text = match (file, line) {
            (Some(source), Some(line)) => {
                if self.held.as_ref().is_none_or(|(id, _, _)| *id != f.location.file) {
                    let whole = source.text();
                    // As `str::lines` splits them: at `\n`, a `\r` before it dropped.
                    let lines = whole
                        .lines()
                        .map(|l| {
                            let start = l.as_ptr() as usize - whole.as_ptr() as usize;
                            start..start + l.len()
                        })
                        .collect();
                    self.held = Some((f.location.file, whole, lines));
                }
                self.held.as_ref().and_then(|(_, whole, lines)| whole.get(lines.get(line)?.clone()))
            }
            _ => None,
        }
        .map(str::trim)
        .filter(|text| !text.is_empty());
        match text {
            Some(text) => format!("{}|line:{text}|{}", f.rule, f.message),
            None => {
                let name = file.and_then(|file| file.path.file_name()).map(|n| n.to_string_lossy()).unwrap_or_default();
                format!("{}|file:{name}|{}", f.rule, f.message)
            }
        }
    }
}

/// Counts per level, for summaries.
pub fn counts(findings: &[Finding]) -> [usize; 3] {
    let mut c = [0; 3];
    for f in findings {
        c[match f.level {
            Level::Error => 0,
            Level::Warning => 1,
            Level::Note => 2,
        }] += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::SourceFile;
    use crate::span::{Location, Pos, Span};
    use std::path::PathBuf;

    fn at(file: FileId, line: u32) -> Location {
        let p = Pos { line, col: 1 };
        Location { file, span: Span { start: p, end: p } }
    }

    /// The keys of findings without an object, read through one held text, are those each
    /// finding's own reading gives, whichever file the previous finding was in.
    #[test]
    fn held_texts_give_the_keys_of_each_line() {
        let files = Files {
            entries: vec![
                SourceFile::with_text(PathBuf::from("a.yaml"), "a.yaml".into(), "kind: A\r\n  broken: [\n".into()),
                SourceFile::with_text(PathBuf::from("b.yaml"), "b.yaml".into(), "\nkind: B\n".into()),
                SourceFile::new(PathBuf::from("dir/c.bin"), "dir/c.bin".into()),
            ],
        };
        let finding = |file, line| Finding::new("invalid-manifest", Level::Error, at(file, line), "bad");
        let mut keys = LogicalKeys::new(&files);
        let got: Vec<String> = [(0, 2), (1, 2), (0, 1), (0, 1), (1, 1), (1, 3), (2, 1), (0, 0)]
            .map(|(f, l)| keys.key(&finding(f, l)))
            .into();
        assert_eq!(
            got,
            [
                "invalid-manifest|line:broken: [|bad",
                "invalid-manifest|line:kind: B|bad",
                "invalid-manifest|line:kind: A|bad",
                "invalid-manifest|line:kind: A|bad",
                // A blank line, a line past the end, a file without text: keyed by the file name.
                "invalid-manifest|file:b.yaml|bad",
                "invalid-manifest|file:b.yaml|bad",
                "invalid-manifest|file:c.bin|bad",
                "invalid-manifest|file:a.yaml|bad",
            ]
        );
        let keyed = finding(0, 1).with_key("Pod/ns/p", "spec", "");
        assert_eq!(keys.key(&keyed), "invalid-manifest|Pod/ns/p|spec|");
    }
}
