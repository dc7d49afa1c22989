//! Loading the config file; every problem names file, line and key.
//!
//! The file is parsed with `toml_edit`, which keeps the position of every
//! key and value, then read section by section against the schema
//! (`sections`), then checked across keys (`checks`). Nothing stops at the
//! first problem: `postel check-config` shows them all at once, in file
//! order. Only a TOML syntax error ends reading early, since nothing after
//! it can be trusted; it is still reported with its line.

use std::fmt;
use std::path::{Path, PathBuf};

use toml_edit::ImDocument;

use super::reader::Reader;
use super::{Config, checks, sections};

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// Dotted key path (`smtp.relay_networks`), empty when unknown.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    /// `FILE:LINE: KEY: MESSAGE`; the line is left out when unknown (0) and
    /// the key when empty (a syntax error or an unreadable file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found while loading.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Reads and validates the config at `path`.
///
/// Relative paths in the file (`server.data_dir`, `tls.cert`, `tls.key`)
/// are resolved against the current working directory.
///
/// # Errors
/// The file cannot be read, or [`parse`] finds problems.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        problems: vec![ConfigProblem {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse(path, &text)
}

/// Parses config text as if read from `path`: every key absent from the
/// text keeps its default, so an empty text yields the default config.
///
/// # Errors
/// A TOML syntax error (reported alone), or every unknown key, value of
/// the wrong type, refused value and cross-key conflict found.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let mut reader = Reader::new(path, text);
    let doc = match ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let line = reader.line_of(e.span());
            let message = e.message().trim().replace('\n', "; ");
            reader.report(line, "", format!("TOML syntax error: {message}"));
            return Err(ConfigError {
                problems: reader.problems,
            });
        }
    };
    let mut config = Config {
        source: path.to_path_buf(),
        ..Config::default()
    };
    let bound = sections::read_all(&mut reader, doc.as_table(), &mut config);
    checks::resolve_paths(&mut reader, &mut config);
    checks::check(&mut reader, &config, &bound);
    let mut problems = reader.problems;
    if problems.is_empty() {
        return Ok(config);
    }
    // File order; problems without a line last. The sort is stable, so
    // several problems on one line keep the order they were found in.
    problems.sort_by_key(|p| if p.line == 0 { usize::MAX } else { p.line });
    Err(ConfigError { problems })
}
