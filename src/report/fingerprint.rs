//! `primaryLocationLineHash`: the per-line hash GitHub's upload action (`codeql-action`,
//! `fingerprints.ts`) writes into SARIF results, computed here so that the value kubereach writes is
//! the one the action would compute and the upload stays silent.
//!
//! The algorithm, as described in `notes/fingerprint.md` (our own implementation):
//! - the text is taken as UTF-16 code units;
//! - spaces and tabs are dropped everywhere; `\r\n` and a lone `\r` become `\n` (a space or a tab
//!   between `\r` and `\n` makes them two line breaks, as in the action);
//! - one sentinel unit 0xFFFF follows the last kept unit, then zeros without end;
//! - a line starts at the first kept unit after the start of the text or after a kept `\n`, so
//!   every line has a start, and a text ending in a newline has one more (empty) line;
//! - the hash of a line is the polynomial in 37 over the 100 units from its start, first unit
//!   most significant, modulo 2^64;
//! - the value is the lowercase hex of the hash without padding, then `:N`, where N counts the
//!   lines of the file so far (this one included) with the same hash.
//!
//! The action hashes the file's bytes as on disk, so a UTF-8 byte order mark is hashed as an
//! ordinary character (U+FEFF). The loader strips a BOM from [`crate::load::SourceFile::text`];
//! for a file that starts with a BOM the value computed from that text differs from the action's,
//! which then keeps ours and logs a warning. Callers that know the file had a BOM can put it back
//! (`"\u{feff}"` + text) before hashing.

use std::collections::HashMap;

/// Units that make up one window.
const BLOCK: usize = 100;
const MOD: u64 = 37;
/// Appended after the last kept unit.
const SENTINEL: u16 = 0xFFFF;

/// The hash of every line of a text, in line order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineHashes {
    values: Vec<String>,
}

impl LineHashes {
    /// Hashes every line of `text`.
    pub fn new(text: &str) -> LineHashes {
        LineHashes { values: line_hashes(text) }
    }

    /// The value for a 1-based line number, if the text has that line.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.values.get(index).map(String::as_str)
    }

    /// The number of lines (always at least one).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True only for [`LineHashes::default`], hashes of no text at all (the empty text has one
    /// line).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }
}

/// The normalised units of `text` (without the sentinel) and the index where each line starts.
fn normalise(text: &str) -> (Vec<u16>, Vec<usize>) {
    let mut units = Vec::with_capacity(text.len() + 1);
    let mut starts = vec![0];
    let mut prev_cr = false;
    for c in text.encode_utf16() {
        let kept = match c {
            0x20 | 0x09 => {
                prev_cr = false;
                None
            }
            0x0A if prev_cr => {
                prev_cr = false;
                None
            }
            0x0D => {
                prev_cr = true;
                Some(0x0A)
            }
            _ => {
                prev_cr = false;
                Some(c)
            }
        };
        if let Some(u) = kept {
            units.push(u);
            if u == 0x0A {
                starts.push(units.len());
            }
        }
    }
    (units, starts)
}

/// The `primaryLocationLineHash` value of every line of `text`; entry `i` is line `i + 1`.
pub fn line_hashes(text: &str) -> Vec<String> {
    let (mut units, starts) = normalise(text);
    units.push(SENTINEL);
    // Beyond the sentinel every unit is zero.
    let at = |i: usize| units.get(i).copied().map_or(0, u64::from);
    // 37^(BLOCK-1), the weight of the unit that leaves the window.
    let top = (1..BLOCK).fold(1u64, |acc, _| acc.wrapping_mul(MOD));

    let mut out = Vec::with_capacity(starts.len());
    let mut seen: HashMap<u64, u32> = HashMap::new();
    // Rolling hash over the window starting at `pos`.
    let mut hash = (0..BLOCK).fold(0u64, |h, i| h.wrapping_mul(MOD).wrapping_add(at(i)));
    let mut pos = 0;
    for &start in &starts {
        while pos < start {
            hash = hash.wrapping_sub(at(pos).wrapping_mul(top)).wrapping_mul(MOD).wrapping_add(at(pos + BLOCK));
            pos += 1;
        }
        let count = seen.entry(hash).or_insert(0);
        *count += 1;
        out.push(format!("{hash:x}:{count}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(line_hashes(text), expected, "input {text:?}");
    }

    const U4: [&str; 7] = [
        "e9496ae3ebfced30:1",
        "fb7c023a8b9ccb3f:1",
        "ce8ba1a563dcdaca:1",
        "e20e36e16fcb0cc8:1",
        "b3edc88f2938467e:1",
        "c8e28b0b4002a3a0:1",
        "c129715d7a2bc9a3:1",
    ];

    // Upstream vectors (codeql-action `fingerprints.test.ts`).

    #[test]
    fn empty_text_has_one_line() {
        check("", &["c129715d7a2bc9a3:1"]);
        assert_eq!(LineHashes::new("").len(), 1);
    }

    #[test]
    fn whitespace_is_ignored() {
        check(
            " a\nb\n  \t\tc\n d",
            &["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
        );
    }

    #[test]
    fn blank_lines_without_final_newline() {
        check(
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
            &[
                "8b7cf3e952e7aeb2:1",
                "b1ae1287ec4718d9:1",
                "bff680108adb0fcc:1",
                "c6805c5e1288b612:1",
                "b86d3392aea1be30:1",
                "e6ceba753e1a442:1",
            ],
        );
    }

    #[test]
    fn final_newline_adds_a_line() {
        check(" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n", &U4);
    }

    #[test]
    fn lone_cr_crlf_and_mixed_breaks_hash_like_lf() {
        check(" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r", &U4);
        check(" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n", &U4);
        check(" hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n", &U4);
    }

    #[test]
    fn duplicate_windows_are_counted() {
        let text = "Lorem ipsum dolor sit amet.\n".repeat(10);
        let mut expected: Vec<String> = (1..=6).map(|n| format!("a7f2ff13bc495cf2:{n}")).collect();
        expected.extend(
            [
                "a7f2ff1481e87703:1",
                "a9cf91f7bbf1862b:1",
                "55ec222b86bcae53:1",
                "cc97dc7b1d7d8f7b:1",
                "c129715d7a2bc9a3:1",
            ]
            .map(String::from),
        );
        assert_eq!(line_hashes(&text), expected);
    }

    #[test]
    fn end_to_end_fixture_lines() {
        let one = LineHashes::new("var a = 0;\nvar b = 0;\nvar c = 0;\nvar d = 0;\n");
        assert_eq!(one.line(1), Some("5e4d5a9cf1294ad9:1"));
        let two = LineHashes::new("var foo = 0;\nvar bar = 0;\nvar baz = 0;\nvar qux = 0;\n");
        assert_eq!(two.line(2), Some("f7592a95a9381ac0:1"));
    }

    // Derived vectors (a separate port, notes/fingerprint.md §2.3), kept as regression data.

    #[test]
    fn derived_vectors() {
        check(
            "var a = 0;\nvar b = 0;\nvar c = 0;\nvar d = 0;\n",
            &[
                "5e4d5a9cf1294ad9:1",
                "caea1afc91a6873d:1",
                "5b87491bda21f5c0:1",
                "4f30fbfc59569f82:1",
                "c129715d7a2bc9a3:1",
            ],
        );
        let two = LineHashes::new("var foo = 0;\nvar bar = 0;\nvar baz = 0;\nvar qux = 0;\n");
        assert_eq!(two.line(1), Some("872c213e5c3515b:1"));
        assert_eq!(two.line(3), Some("a06ffb64d6f61444:1"));
        assert_eq!(two.line(4), Some("f72a3f49f98c8ba0:1"));
        check(
            "kind: Pod\r\nmetadata:\r\n  name: p\r\n",
            &["66bf28501bd039ea:1", "c889579252c67671:1", "626fb1ab3ca0378:1", "c129715d7a2bc9a3:1"],
        );
        check("apiVersion: v1\r\nkind: Pod\r\n", &["f1c9ed2737aa92f:1", "28ba5d815d3b3bf4:1", "c129715d7a2bc9a3:1"]);
        check("a\r \nb", &["67c066a59e652f5e:1", "cc4c43d77869440f:1", "8ee5a81e681643c1:1"]);
        check("\u{feff}kind: Pod\n", &["fc4b6fb989bfac87:1", "c129715d7a2bc9a3:1"]);
        check("name: café 😀\n", &["bb58a029cf810cd4:1", "c129715d7a2bc9a3:1"]);
        check(&format!("{}\ny\n", "x".repeat(150)), &["52b56201ffb58620:1", "c33be7e0cf7c3ca:1", "c129715d7a2bc9a3:1"]);
    }

    #[test]
    fn line_lookup_is_one_based_and_bounded() {
        let h = LineHashes::new("a\nb");
        assert_eq!(h.len(), 2);
        assert!(!h.is_empty());
        assert_eq!(h.line(0), None);
        assert_eq!(h.line(3), None);
        assert_eq!(h.line(1), h.values().first().map(String::as_str));
    }

    #[test]
    fn line_count_matches_split_on_any_break() {
        for text in ["", "a", "a\n", "a\r\nb\rc\n\n", "\r\r\n\n", "x\r\t\ny"] {
            // A split on /\r\n|\r|\n/; `\r\t\n` is two breaks there too.
            let expected = text.replace("\r\n", "\n").replace('\r', "\n").split('\n').count();
            assert_eq!(line_hashes(text).len(), expected, "{text:?}");
        }
    }
}
