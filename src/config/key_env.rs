//! `api_key_env` takes the name of an environment variable, never the key. A key pasted
//! there is refused, and the refusal shows only enough of it to recognise: the value would
//! otherwise end up in a terminal, a CI log, or a saved session (which records variable
//! names).

/// Why `value` cannot be an `api_key_env`, or `None` when it is a usable variable name.
pub fn problem(value: &str) -> Option<String> {
    let valid_name = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid_name && !looks_like_a_key(value) {
        return None;
    }
    if looks_like_a_key(value) {
        return Some(format!(
            "`api_key_env` holds what looks like a key ({}), not a variable name: put the key in an environment variable and name that variable here, e.g. `api_key_env = \"OPENAI_API_KEY\"`",
            glimpse(value)
        ));
    }
    Some(format!(
        "`api_key_env` ({}) is not an environment variable name: use letters, digits and `_` (it takes the variable's name, never the key)",
        glimpse(value)
    ))
}

/// The first four characters and the length: `sk-a…`, 51 characters.
fn glimpse(value: &str) -> String {
    let n = value.chars().count();
    let head: String = value.chars().take(4).collect();
    let unit = if n == 1 { "character" } else { "characters" };
    if n <= 4 {
        format!("`{head}`, {n} {unit}")
    } else {
        format!("`{head}…`, {n} {unit}")
    }
}

/// Known key prefixes, or a long mix of lower case, upper case and digits (variable names
/// are conventionally upper case). Some keys (Gemini's `AIza...`) are valid variable names
/// character for character, so the character set alone cannot tell.
fn looks_like_a_key(value: &str) -> bool {
    const PREFIXES: [&str; 5] = ["sk-", "sk_", "AIza", "xai-", "gsk_"];
    if PREFIXES.iter().any(|p| value.starts_with(p)) && value.len() >= 20 {
        return true;
    }
    let has = |f: fn(&u8) -> bool| value.as_bytes().iter().any(f);
    value.len() >= 30 && has(u8::is_ascii_lowercase) && has(u8::is_ascii_uppercase) && has(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pass_and_keys_are_refused_with_a_glimpse_only() {
        for ok in [
            "OPENAI_API_KEY",
            "MY_KEY_2",
            "_X",
            "lowercase_name",
            "SK_PROD_KEY",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        let gemini = "AIzaSyD3xample0nlyNotARealKey12345678901";
        let e = problem(gemini).unwrap();
        assert!(
            e.contains(&format!("(`AIza…`, {} characters)", gemini.len())),
            "{e}"
        );
        assert!(!e.contains(&gemini[4..]), "{e}");
        let e = problem("OPENAI-API-KEY").unwrap();
        assert!(
            e.contains("(`OPEN…`, 14 characters) is not an environment variable name"),
            "{e}"
        );
        assert!(problem("").unwrap().contains("(``, 0 characters)"));
    }
}
