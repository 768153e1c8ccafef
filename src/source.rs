//! Where a setting came from, as its user wrote it: a method of the API, a variable, a line of a
//! file. A setting is checked where it enters, and a refusal names its source.

use std::fmt;
use std::path::PathBuf;

/// The origin of one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A method of the public API (`ClientBuilder::region`, `Credentials::new`), or a tool's name
    /// for it ([`ClientBuilder::setting_names`](crate::ClientBuilder::setting_names)).
    Method(&'static str),
    /// An environment variable, by name.
    Var(String),
    /// A line of the profile file.
    Line(PathBuf, usize),
    /// A source reached through a setting: `ClientBuilder::profile_file` and the file's line.
    Via(Box<Source>, Box<Source>),
    /// Nothing configured it: what the client fell back on, in words.
    Fallback(String),
}

impl Source {
    pub(crate) fn var(var: crate::env::Var) -> Source {
        Source::Var(var.name().to_string())
    }

    /// Where a setting came from, as [`Client::check`](crate::Client::check) says it: `from X`,
    /// or the fallback in words.
    pub(crate) fn origin(&self) -> String {
        match self {
            Source::Fallback(words) => words.clone(),
            configured => format!("from {configured}"),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Method(method) => write!(f, "{method}"),
            Source::Var(words) | Source::Fallback(words) => {
                write!(f, "{words}")
            }
            Source::Line(path, line) => write!(f, "{} line {line}", path.display()),
            Source::Via(setting, source) => write!(f, "{setting} {source}"),
        }
    }
}

/// Refuses a secret that cannot be what the user meant (an SK from a CRLF `.env` file ends in `\r`,
/// and every signature with it would be refused until the key locks). Never quotes it.
pub(crate) fn validate_secret(
    what: &str,
    value: &str,
    in_header: bool,
    source: &Source,
) -> Result<(), crate::error::Error> {
    let problem = if value.is_empty() {
        "is empty"
    } else if value.chars().any(char::is_control) {
        "contains a control character (a CRLF line end?)"
    } else if value.trim() != value {
        "begins or ends with white space"
    } else if in_header && !value.bytes().all(|b| b.is_ascii_graphic()) {
        "contains a character outside printable ASCII, which no Huawei credential has"
    } else {
        return Ok(());
    };
    Err(crate::error::Error::invalid_input(format!("{source}: {what} {problem}")))
}

/// Refuses a region that cannot name one: empty, or with white space or a control character
/// (`cn-north-4\n` would go into the IAM lookup and the endpoint variable's name).
pub(crate) fn validate_region(region: &str, source: &Source) -> Result<(), crate::error::Error> {
    let problem = if region.is_empty() {
        "is empty"
    } else if region.chars().any(|c| c.is_control() || c.is_whitespace()) {
        "contains white space or a control character"
    } else {
        return Ok(());
    };
    let shown = region.escape_debug();
    Err(crate::error::Error::invalid_input(format!("{source}: region \"{shown}\" {problem}")))
}
