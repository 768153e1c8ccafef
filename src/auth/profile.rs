//! The credentials profile file of Huawei's official SDKs (`~/.huaweicloud/credentials`), an INI
//! file parsed by hand, accepting what their readers (configparser, the Go SDK's) accept.

use std::path::{Path, PathBuf};

use crate::env::{Environment, Var};
use crate::error::Error;
use crate::redact::shown_path;
use crate::source::Source;

/// The `[basic]` section's keys this crate uses, each with its line; empty ones count as absent.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(crate) ak: Option<(String, usize)>,
    pub(crate) sk: Option<(String, usize)>,
    pub(crate) security_token: Option<(String, usize)>,
    pub(crate) project_id: Option<(String, usize)>,
    pub(crate) iam_endpoint: Option<(String, usize)>,
}

/// Which file to read, and whether its absence is an error (it is when the path was named): the
/// one given, else `HUAWEICLOUD_SDK_CREDENTIALS_FILE`'s, else `.huaweicloud/credentials` in `HOME`
/// (else in `USERPROFILE`, on Windows).
pub(crate) fn profile_path(explicit: Option<&Path>, env: &Environment) -> Option<(PathBuf, bool)> {
    let named = explicit
        .map(Path::to_path_buf)
        .or_else(|| env.get(Var::CredentialsFile).map(PathBuf::from));
    if let Some(path) = named {
        return Some((path, true));
    }
    let home = env.get(Var::Home).or_else(|| env.get(Var::UserProfile))?;
    Some((PathBuf::from(home).join(".huaweicloud").join("credentials"), false))
}

/// Reads the profile at `path`; `Ok(None)` when the file does not exist and was not required.
pub(crate) fn read_profile(
    path: &Path,
    required: bool,
    named: Option<&Source>,
) -> Result<Option<Profile>, Error> {
    let file = match named {
        Some(source) => format!("{source} names {}, which", shown_path(path)),
        None => format!("profile file {}", shown_path(path)),
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| Error::invalid_input(format!("{file} is not UTF-8")))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(error) => {
            return Err(Error::invalid_input(format!("{file} cannot be read ({error})")));
        }
    };
    parse_profile(&text)
        .map(Some)
        .map_err(|message| Error::invalid_input(format!("{file} is malformed: {message}")))
}

/// Parses the INI text. Errors name the line, never quote a value (it may be a secret).
fn parse_profile(text: &str) -> Result<Profile, String> {
    let mut profile = Profile::default();
    let mut in_basic = false;
    // Notepad saves UTF-8 with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let name = section
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: unterminated section header", index + 1))?;
            let name = name.trim().to_ascii_lowercase();
            in_basic = name == "basic" || name == "basiccredentials";
            continue;
        }
        // The key ends at the first delimiter, `=` or `:`, as in configparser.
        let (key, value) = line
            .split_once(['=', ':'])
            .ok_or_else(|| format!("line {}: expected key = value", index + 1))?;
        if !in_basic {
            continue;
        }
        let value = value.trim();
        let value = (!value.is_empty()).then(|| (value.to_string(), index + 1));
        match key.trim().to_ascii_lowercase().as_str() {
            "ak" => profile.ak = value,
            "sk" => profile.sk = value,
            "security_token" => profile.security_token = value,
            "project_id" => profile.project_id = value,
            "iam_endpoint" => profile.iam_endpoint = value,
            _ => {}
        }
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(entry: &Option<(String, usize)>) -> Option<&str> {
        entry.as_ref().map(|(value, _)| value.as_str())
    }

    #[test]
    fn reads_the_basic_section_with_comments_spaces_and_crlf() {
        let text = "# comment\r\n; other\r\n\r\n[other]\r\nak = wrong\r\n[basic]\r\nak = AK1 \r\nsk=SK1\r\n  project_id =  p-1\r\nsecurity_token=\r\niam_endpoint = https://iam.example.com\r\nunknown = x\r\n";
        let profile = parse_profile(text).unwrap();
        assert_eq!(profile.ak, Some(("AK1".to_string(), 7)));
        assert_eq!(value(&profile.sk), Some("SK1"));
        assert_eq!(value(&profile.project_id), Some("p-1"));
        assert_eq!(profile.security_token, None);
        assert_eq!(value(&profile.iam_endpoint), Some("https://iam.example.com"));
    }

    #[test]
    fn accepts_basiccredentials_and_values_containing_equals() {
        let profile = parse_profile("[BasicCredentials]\nak=A\nsk=abc==\n").unwrap();
        assert_eq!(value(&profile.sk), Some("abc=="));
    }

    #[test]
    fn malformed_lines_name_the_line_not_the_value() {
        let error = parse_profile("[basic]\nak=A\nsecret-without-equals\n").err();
        assert_eq!(error.as_deref(), Some("line 3: expected key = value"));
        let error = parse_profile("[basic\n").err();
        assert_eq!(error.as_deref(), Some("line 1: unterminated section header"));
    }

    #[test]
    fn accepts_a_byte_order_mark_and_colon_delimiters() {
        let text = "\u{feff}[basic]\r\nak: AK2\r\nsk : SK2\r\niam_endpoint: https://iam.example.com:443\r\nproject_id = p:1\r\n";
        let profile = parse_profile(text).unwrap();
        assert_eq!(value(&profile.ak), Some("AK2"));
        assert_eq!(value(&profile.sk), Some("SK2"));
        assert_eq!(value(&profile.iam_endpoint), Some("https://iam.example.com:443"));
        assert_eq!(value(&profile.project_id), Some("p:1"));
        let error = parse_profile("\u{feff}[basic]\nno delimiter\n").err();
        assert_eq!(error.as_deref(), Some("line 2: expected key = value"));
    }

    #[test]
    fn no_basic_section_is_an_empty_profile() {
        assert!(parse_profile("[default]\nak=A\n").unwrap() == Profile::default());
    }
}
