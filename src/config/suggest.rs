//! "Did you mean": unknown keys and names in a config file, with the closest valid one
//! when it is close enough to be a typo, and the whole list when it is short.

/// Lists longer than this are not printed in full: the README lists every key.
const LIST_AT_MOST: usize = 8;

/// The candidate closest to `wanted` when it is close enough to be a typo: case, `-`
/// against `_` and a swap of neighbours cost nothing or one edit, and at most a third of
/// the name may differ (at least one edit, so `modle` finds `model`). Ties go to the
/// first candidate in `known`, so the answer does not depend on hashing.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let wanted_n = norm(wanted);
    let limit = (wanted_n.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = strsim::osa_distance(&wanted_n, &norm(k));
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

/// `— did you mean "model"?`, or `; valid: a, b, c` for a short list, or `more` (for a
/// long one, so the message says where to look instead of printing fifty names).
pub fn hint(wanted: &str, known: &[&str], more: &str) -> String {
    if let Some(k) = closest(wanted, known.iter().copied()) {
        format!(" — did you mean \"{k}\"?")
    } else if known.is_empty() {
        " — this table takes no keys".to_string()
    } else if known.len() <= LIST_AT_MOST {
        format!("; valid: {}", known.join(", "))
    } else {
        more.to_string()
    }
}

/// Rewrites serde's `unknown field `modle`, expected one of `name`, `model`...` for the
/// key at byte `offset` of `text` into `unknown key "modle" in [[target]] — did you mean
/// "model"?`. Any other message is returned unchanged.
pub fn unknown_key(message: &str, text: &str, offset: usize) -> String {
    let Some((key, known)) = parse_unknown_field(message) else {
        return message.to_string();
    };
    let table = table_at(text, offset);
    let more = " (see README, Configuration, for the keys it takes)";
    format!("unknown key \"{key}\" {table}{}", hint(&key, &known, more))
}

/// The valid names listed in serde's `unknown variant `x`, expected one of `a`, `b``
/// (or `unknown field ...`).
pub fn expected(message: &str) -> Option<Vec<&str>> {
    let rest = message
        .strip_prefix("unknown variant `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    parse_rest(rest).map(|(_, known)| known)
}

/// The unknown key and the valid ones from serde's message, which has one of three forms:
/// `unknown field `x`, expected one of `a`, `b``, `... expected `a``, or `... there are
/// no fields`.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<&str>)> {
    parse_rest(message.strip_prefix("unknown field `")?)
}

/// What follows the opening backtick: the name, then the expected list.
fn parse_rest(rest: &str) -> Option<(String, Vec<&str>)> {
    // serde_json appends ` at line 1 column 6`; the list ends before it.
    let rest = rest.split(" at line ").next().unwrap_or(rest);
    let (key, rest) = rest.split_once("`, ")?;
    let known = if rest.starts_with("there are no fields") {
        Vec::new()
    } else {
        let list = rest
            .strip_prefix("expected one of ")
            .or_else(|| rest.strip_prefix("expected "))?;
        list.split(", ")
            .map(|k| k.trim().trim_matches('`'))
            .filter(|k| !k.is_empty())
            .collect()
    };
    Some((key.to_string(), known))
}

/// `in [[target]]`, `in [pricing."gpt-4o"]`, or `at the top level`: the last table header
/// at or before `offset`, as written.
fn table_at(text: &str, offset: usize) -> String {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    // The key's own line is skipped: `[[target]]` with the error on it is the header itself.
    let header = before
        .rsplit('\n')
        .skip(1)
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            // `[pricing."x"] # note`: the header ends at its last closing bracket.
            l.rfind(']').map_or(l, |end| &l[..=end])
        });
    match header {
        Some(h) => format!("in {h}"),
        None => "at the top level".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key_and_strangers_do_not() {
        let keys = [
            "name",
            "provider",
            "model",
            "temperature",
            "api_key_env",
            "max_tokens",
        ];
        let pick = |w: &str| closest(w, keys);
        assert_eq!(pick("modle"), Some("model"));
        assert_eq!(pick("Model"), Some("model"));
        assert_eq!(pick("temprature"), Some("temperature"));
        assert_eq!(pick("api-key-env"), Some("api_key_env"));
        assert_eq!(pick("max_token"), Some("max_tokens"));
        assert_eq!(pick("nmae"), Some("name"));
        assert_eq!(pick("colour"), None);
        assert_eq!(pick("key"), None);
        assert_eq!(pick("api_key"), None, "too far from api_key_env to guess");
    }

    #[test]
    fn serde_messages_become_located_hints() {
        let text = "[[target]]\nname = \"a\"\nmodle = \"x\"\n";
        let at = text.find("modle").unwrap();
        let msg = unknown_key(
            "unknown field `modle`, expected one of `name`, `provider`, `model`",
            text,
            at,
        );
        assert_eq!(
            msg,
            "unknown key \"modle\" in [[target]] — did you mean \"model\"?"
        );
        let msg = unknown_key("unknown field `zzz`, expected `name`", text, at);
        assert_eq!(msg, "unknown key \"zzz\" in [[target]]; valid: name");
        let msg = unknown_key("unknown field `zzz`, there are no fields", "zzz = 1", 0);
        assert_eq!(
            msg,
            "unknown key \"zzz\" at the top level — this table takes no keys"
        );
        assert_eq!(
            unknown_key("invalid type: string", text, at),
            "invalid type: string"
        );
    }

    #[test]
    fn variant_lists_are_read_from_serde_json_too() {
        let m = "unknown variant `sned`, expected one of `send`, `quit` at line 1 column 6";
        assert_eq!(expected(m), Some(vec!["send", "quit"]));
    }

    #[test]
    fn the_table_is_the_last_header_before_the_key() {
        let text = "theme = \"x\"\n[pricing.\"gpt-4o\"] # mine\ninput = 1\n[[target]]\nx = 1\n";
        assert_eq!(table_at(text, 0), "at the top level");
        assert_eq!(
            table_at(text, text.find("input").unwrap()),
            "in [pricing.\"gpt-4o\"]"
        );
        assert_eq!(table_at(text, text.find("x = 1").unwrap()), "in [[target]]");
    }
}
