//! The regions file of Huawei's official SDKs: `HUAWEICLOUD_SDK_REGIONS_FILE`, else
//! `~/.huaweicloud/regions.yaml`, mapping a service's region ids to endpoints:
//!
//! ```yaml
//! DBSS:
//!   - id: cn-north-4
//!     endpoint: https://dbss.cn-north-4.myhuaweicloud.com
//!   - id: my-private-region
//!     endpoints: [https://dbss-a.example.com, https://dbss-b.example.com]
//! ```
//!
//! Exactly this subset of YAML is read by hand (plus `#` comments, quoted values, a block list of
//! `- url` lines); anything else is refused with the file, the line and what was expected.

use std::path::{Path, PathBuf};

use crate::env::{Environment, Var};
use crate::error::Error;
use crate::source::Source;

fn regions_file(env: &Environment) -> Option<(PathBuf, bool)> {
    env.huaweicloud_file(Var::RegionsFile, "regions.yaml")
}

/// The DBSS endpoints the regions file names for `region`, if any, and their line; `InvalidInput`
/// for a file the variable names that cannot be read, or one outside the subset (file and line).
pub(crate) fn endpoints_in_file(
    env: &Environment,
    region: &str,
) -> Result<Option<(Vec<String>, Source)>, Error> {
    let Some((path, required)) = regions_file(env) else {
        return Ok(None);
    };
    let file = crate::redact::shown_path(&path);
    let file = match required {
        true => format!("{} names {file}, which", Var::RegionsFile.name()),
        false => format!("the regions file {file}"),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(error) => {
            return Err(Error::invalid_input(format!("{file} cannot be read ({error})")));
        }
    };
    let regions = parse(&text).map_err(|(line, expected)| {
        Error::invalid_input(format!("{file} has at line {line} what is not {expected}"))
    })?;
    Ok(regions
        .into_iter()
        .find(|entry| entry.service.eq_ignore_ascii_case("dbss") && entry.id == region)
        .map(|entry| (entry.endpoints, Source::Line(path.clone(), entry.line))))
}

/// One region of a service.
#[derive(Debug, Default, PartialEq, Eq)]
struct Entry {
    service: String,
    id: String,
    endpoints: Vec<String>,
    /// The line its item starts on.
    line: usize,
}

/// Parses the subset; an error is the line number and what was expected there.
fn parse(text: &str) -> Result<Vec<Entry>, (usize, &'static str)> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut service: Option<String> = None;
    let mut in_block_list = false;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = strip_comment(raw.trim_start_matches('\u{feff}'));
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        let line = line.trim();
        // `yaml.dump` writes a service's items at column 0: `- endpoint: …`.
        let item = line.strip_prefix("- ").filter(|rest| field(rest).is_some());
        if !indented && item.is_none() {
            let key = line.strip_suffix(':').ok_or((number, "a service name followed by `:`"))?;
            service = Some(unquote(key));
            in_block_list = false;
            continue;
        }
        let Some(service) = &service else {
            return Err((number, "a service name (`DBSS:`) before its regions"));
        };
        if item.is_some() {
            entries.push(Entry { service: service.clone(), line: number, ..Entry::default() });
            in_block_list = false;
        }
        let entry = entries
            .last_mut()
            .filter(|entry| entry.service == *service)
            .ok_or((number, "`- id: <region>` to start a region"))?;
        match line.strip_prefix("- ") {
            Some(url) if in_block_list && item.is_none() => entry.endpoints.push(unquote(url)),
            _ => in_block_list = read_field(entry, item.unwrap_or(line), number)?,
        }
    }
    match entries.iter().find(|entry| entry.id.is_empty()) {
        Some(entry) => Err((entry.line, "an `id: <region>` in each region")),
        None => Ok(entries),
    }
}

/// The key and value of a region's field (`id`, `endpoint`, `endpoints`), keys optionally quoted.
fn field(line: &str) -> Option<(&'static str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = ["id", "endpoint", "endpoints"].into_iter().find(|known| unquote(key) == *known)?;
    Some((key, value))
}

/// Reads one field into `entry`; whether a block list of `- url` lines follows.
fn read_field(entry: &mut Entry, line: &str, number: usize) -> Result<bool, (usize, &'static str)> {
    let wanted = "`endpoint: <url>`, `endpoints:` or `- id: <region>`";
    match field(line).ok_or((number, wanted))? {
        ("id", id) => entry.id = unquote(id),
        ("endpoint", url) => entry.endpoints.push(unquote(url)),
        (_, list) if list.trim().is_empty() => return Ok(true),
        (_, list) => {
            let items = list
                .trim()
                .strip_prefix('[')
                .and_then(|list| list.strip_suffix(']'))
                .ok_or((number, "`endpoints: [url, url]` or a list of `- url` lines"))?;
            let urls = items.split(',').map(unquote).filter(|url| !url.is_empty());
            entry.endpoints.extend(urls);
        }
    }
    Ok(false)
}

/// A line without its comment: `#` at its start or after white space.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let at = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    at.map_or(line, |at| &line[..at])
}

/// A scalar without its quotes.
fn unquote(value: &str) -> String {
    let value = value.trim();
    let inside =
        ['"', '\''].into_iter().find_map(|quote| value.strip_prefix(quote)?.strip_suffix(quote));
    inside.unwrap_or(value).to_string()
}

/// The regions file a build script should watch, when it exists.
pub(crate) fn file_to_watch(env: &Environment) -> Option<PathBuf> {
    regions_file(env).map(|(path, _)| path).filter(|path| Path::exists(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_the_official_sdks_write() {
        let text = "\u{feff}# regions\nDBSS:\n  - id: cn-north-4\n    endpoint: 'https://a.example.com'\n  - id: r2\n    endpoints: [https://b.example.com, \"https://c.example.com\"]  # two\n  - id: r3\n    endpoints:\n      - https://d.example.com\n      - https://e.example.com\necs:\n  - id: cn-north-4\n    endpoint: https://ecs.example.com\n";
        let entries = parse(text).unwrap();
        let dbss: Vec<(&str, Vec<&str>)> = entries
            .iter()
            .filter(|e| e.service == "DBSS")
            .map(|e| (e.id.as_str(), e.endpoints.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            dbss,
            [
                ("cn-north-4", vec!["https://a.example.com"]),
                ("r2", vec!["https://b.example.com", "https://c.example.com"]),
                ("r3", vec!["https://d.example.com", "https://e.example.com"]),
            ]
        );
        assert_eq!(entries.len(), 4);
    }

    #[test]
    fn anything_else_names_its_line() {
        for (text, line) in [
            ("DBSS\n", 1),
            ("  - id: x\n", 1),
            ("DBSS:\n    endpoint: https://a\n", 2),
            ("DBSS:\n  - id: x\n    url: https://a\n", 3),
            ("DBSS:\n  - id: x\n    endpoints: https://a\n", 3),
            ("DBSS:\n- endpoint: https://a\n", 2),
        ] {
            assert_eq!(parse(text).map_err(|(n, _)| n), Err(line), "{text:?}");
        }
    }
}
