//! Errors a person can act on: every problem in a world file is reported with the
//! file, the line and column it sits at, what is wrong, and what to do about it.
//!
//! Validation does not stop at the first problem: a researcher editing a world file
//! wants the whole list at once, so [`WorldErrors`] carries all of them.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a world file, located by line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldError {
    pub path: PathBuf,
    /// 1-based line, 0 when the problem has no place (e.g. the file could not be read).
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    pub message: String,
    pub help: String,
    /// The offending source line, shown under the message.
    pub snippet: Option<String>,
}

impl WorldError {
    pub fn at(
        source: &SourceText,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        let (source, span) = match span {
            Some(span) => {
                let (part, start) = source.locate(span.start);
                (part, Some(start))
            }
            None => (source, None),
        };
        let (line, column, snippet) = match span {
            Some(start) => {
                let (l, c) = source.line_col(start);
                (l, c, source.line_text(l).map(str::to_owned))
            }
            None => (0, 0, None),
        };
        WorldError {
            path: source.path.clone(),
            line,
            column,
            message: message.into(),
            help: help.into(),
            snippet,
        }
    }

    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        WorldError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the world file: {err}"),
            help: "check the path; world files are TOML, e.g. worlds/critical-minerals-2026.toml"
                .into(),
            snippet: None,
        }
    }
}

impl fmt::Display for WorldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )?;
        } else {
            write!(f, "{}: error: {}", self.path.display(), self.message)?;
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "\n  {:>4} | {}", self.line, snippet)?;
            write!(
                f,
                "\n       | {}^",
                " ".repeat(self.column.saturating_sub(1))
            )?;
        }
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

/// All problems found in one world file (never empty).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct WorldErrors(pub Vec<WorldError>);

impl WorldErrors {
    pub fn single(e: WorldError) -> Self {
        WorldErrors(vec![e])
    }
    pub fn iter(&self) -> impl Iterator<Item = &WorldError> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for WorldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{e}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{} error{} in the world file",
            n,
            if n == 1 { "" } else { "s" }
        )
    }
}

/// The text of a world file with what is needed to turn byte offsets into places.
///
/// A scenario that `extends` a base world is read as several files; its values carry
/// offsets into one address space in which each file starts at its own offset (`parts`),
/// so an error can name the file a value came from.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// Files of an `extends` chain and the offset each starts at, ascending; empty for
    /// a single file.
    parts: Vec<(usize, SourceText)>,
}

impl SourceText {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText {
            path: path.into(),
            text,
            line_starts,
            parts: Vec::new(),
        }
    }

    /// A source made of several files, each at its start offset (ascending). `path` and
    /// `text` name the whole (the file that was asked for, and the text the world is
    /// recorded with).
    pub(crate) fn with_parts(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        parts: Vec<(usize, SourceText)>,
    ) -> Self {
        let mut s = SourceText::new(path, text);
        s.parts = parts;
        s
    }

    /// The file an offset falls in and the offset within it.
    pub fn locate(&self, offset: usize) -> (&SourceText, usize) {
        match self.parts.iter().rev().find(|(start, _)| *start <= offset) {
            Some((start, part)) => (part, offset - start),
            None => (self, offset),
        }
    }

    /// "line N" of an offset, or "FILE:N" when the offset lies in another file of an
    /// `extends` chain than `than`.
    pub fn place(&self, offset: usize, than: usize) -> String {
        let (part, local) = self.locate(offset);
        let (line, _) = part.line_col(local);
        let (other, _) = self.locate(than);
        if std::ptr::eq(part, other) {
            format!("on line {line}")
        } else {
            format!("at {}:{line}", part.path.display())
        }
    }

    /// 1-based (line, column) of a byte offset; columns count characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    pub fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        self.text.get(start..end).map(|s| s.trim_end_matches('\r'))
    }
}
