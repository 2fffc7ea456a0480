//! The AWS shared config files: `~/.aws/credentials` and `~/.aws/config` (or the files
//! `$AWS_SHARED_CREDENTIALS_FILE` and `$AWS_CONFIG_FILE` name), read the way the AWS CLI
//! and SDKs read them.
//!
//! Both are INI files. In `config` a profile's section is `[profile NAME]` (`[default]`
//! for the default); in `credentials` it is `[NAME]`. When both files set a key for the
//! same profile, `credentials` wins. Keys are case-insensitive; `#` and `;` start comments;
//! an indented line continues a sub-section (`s3 =` followed by `  key = value`), which
//! Prism does not need and skips.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Reads an environment variable (the real environment, or a test's).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One profile's settings, keys lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Every `key = value` of the profile, from both files (`credentials` winning).
    pub settings: BTreeMap<String, String>,
    /// The files the profile was found in, for messages.
    pub found_in: Vec<PathBuf>,
}

impl Profile {
    /// A setting, if present and not blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The two shared files, where they are for this environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFiles {
    /// `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials: Option<PathBuf>,
    /// `$AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config: Option<PathBuf>,
}

impl SharedFiles {
    /// Where the AWS tools would look, given `env`.
    pub fn locate(env: Env<'_>) -> Self {
        let home = env("HOME")
            .or_else(|| env("USERPROFILE"))
            .filter(|h| !h.trim().is_empty())
            .map(PathBuf::from);
        let file = |var: &str, name: &str| {
            env(var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| expand_home(&v, home.as_ref()))
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
        };
        Self {
            credentials: file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            config: file("AWS_CONFIG_FILE", "config"),
        }
    }

    /// Both files, in words, for messages.
    pub fn described(&self) -> String {
        let show = |p: &Option<PathBuf>, fallback: &str| {
            p.as_ref()
                .map_or_else(|| fallback.to_string(), |p| p.display().to_string())
        };
        format!(
            "{} or {}",
            show(&self.credentials, "~/.aws/credentials"),
            show(&self.config, "~/.aws/config")
        )
    }

    /// Profile `name` from both files; `None` when neither has it (or neither exists).
    pub fn profile(&self, name: &str) -> Option<Profile> {
        let mut out = Profile::default();
        let mut found = false;
        // `config` first, so `credentials` overwrites what both set.
        if let Some(path) = &self.config
            && let Ok(text) = std::fs::read_to_string(path)
            && let Some(section) = sections(&text).remove(&config_section(name))
        {
            out.settings.extend(section);
            out.found_in.push(path.clone());
            found = true;
        }
        if let Some(path) = &self.credentials
            && let Ok(text) = std::fs::read_to_string(path)
            && let Some(section) = sections(&text).remove(name)
        {
            out.settings.extend(section);
            out.found_in.push(path.clone());
            found = true;
        }
        found.then_some(out)
    }
}

/// The name of profile `name`'s section in the config file.
fn config_section(name: &str) -> String {
    if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    }
}

fn expand_home(path: &str, home: Option<&PathBuf>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Every section of an INI text: name (inner whitespace collapsed, so `[profile  x]`
/// reads as `profile x`) → keys (lower-case) → values. A later section of the same
/// name adds to the earlier one.
pub fn sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let indented = raw.starts_with([' ', '\t']);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.split(']').next().unwrap_or_default();
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            current = Some(name.clone());
            out.entry(name).or_default();
            continue;
        }
        // A sub-section's nested line (`  max_concurrent_requests = 20`).
        if indented {
            continue;
        }
        let (Some(section), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let value = strip_inline_comment(value.trim());
        if let Some(s) = out.get_mut(section) {
            s.insert(key.trim().to_ascii_lowercase(), value.to_string());
        }
    }
    out
}

/// `value ; comment` or `value # comment`: a comment needs whitespace before it, so a
/// secret that contains `#` stays whole.
fn strip_inline_comment(value: &str) -> &str {
    let mut prev_space = false;
    for (i, c) in value.char_indices() {
        if (c == '#' || c == ';') && prev_space {
            return value[..i].trim_end();
        }
        prev_space = c.is_whitespace();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments_and_nested_lines() {
        let text = "\
# a comment
[default]
aws_access_key_id = AKIDDEFAULT
AWS_Secret_Access_Key=abc#def ; trailing comment

[profile   work]
region = eu-west-1
s3 =
  max_concurrent_requests = 20
credential_process = /bin/echo hi
";
        let s = sections(text);
        assert_eq!(s["default"]["aws_access_key_id"], "AKIDDEFAULT");
        assert_eq!(s["default"]["aws_secret_access_key"], "abc#def");
        assert_eq!(s["profile work"]["region"], "eu-west-1");
        assert_eq!(s["profile work"]["credential_process"], "/bin/echo hi");
        assert!(!s["profile work"].contains_key("max_concurrent_requests"));
    }
}
