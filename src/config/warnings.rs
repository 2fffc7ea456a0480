//! Warnings that do not stop a run: a key about to cross the network in clear text, and
//! model names that may silently change under a comparison.

use std::net::IpAddr;

use crate::target::ProviderKind;

/// Why sending a key to `base_url` exposes it, or `None` when the URL is https or stays on
/// this machine. `base_url` has been checked to be an http(s) URL.
pub fn cleartext(base_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(base_url).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str()?;
    if is_loopback(&url) {
        return None;
    }
    Some(format!(
        "`base_url` is http:// to {host}, so the API key and every prompt cross the network unencrypted; use https://, or set `allow_insecure_http = true` on the target if that network is trusted"
    ))
}

/// `localhost`, `127.0.0.0/8`, `::1` (and `::ffff:127.x.x.x`).
///
/// `*.localhost` is not counted: RFC 6761 reserves it for loopback, but Prism resolves
/// names with the system resolver, which may hand such a name to a DNS server like any
/// other, so nothing guarantees the key stays on this machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed; IPv4 ones are already normalised (`127.1` is `127.0.0.1`).
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// Why `model` is not a pinned version, or `None` when it looks pinned.
pub fn unpinned_model(provider: ProviderKind, model: &str) -> Option<String> {
    let moving = || {
        Some(format!(
            "model `{model}` is an alias that can move to a new version; pin a dated version for comparisons"
        ))
    };
    // `+directives` script the mock server; the model id is what comes before them.
    let model = model.split_once('+').map_or(model, |(id, _)| id);
    if model.contains("latest") {
        return moving();
    }
    match provider {
        // gpt-4o-2024-08-06, gpt-4-0613, gpt-3.5-turbo-0125
        ProviderKind::OpenAi if !(ends_with_date(model, 10) || ends_with_digits(model, 4)) => moving(),
        // claude-sonnet-4-20250514
        ProviderKind::Anthropic if !ends_with_digits(model, 8) => moving(),
        // gemini-1.5-pro and gemini-2.0-flash are aliases of -00N versions; from 2.5 on
        // the plain name is itself the stable version.
        ProviderKind::Gemini
            if (model.starts_with("gemini-1.") || model.starts_with("gemini-2.0"))
                && !ends_with_digits(model, 3) =>
        {
            moving()
        }
        ProviderKind::Gemini if model.contains("-exp") => Some(format!(
            "model `{model}` is experimental and may change or disappear without notice"
        )),
        _ => None,
    }
}

/// `-DDDD` (n digits) at the end.
fn ends_with_digits(model: &str, n: usize) -> bool {
    model
        .rsplit_once('-')
        .is_some_and(|(_, tail)| tail.len() == n && tail.bytes().all(|b| b.is_ascii_digit()))
}

/// `-YYYY-MM-DD` at the end (`len` = 10).
fn ends_with_date(model: &str, len: usize) -> bool {
    model.len() > len
        && model.as_bytes()[model.len() - len - 1] == b'-'
        && model[model.len() - len..].bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderKind::*;

    #[test]
    fn cleartext_is_anything_http_that_leaves_the_machine() {
        for local in [
            "http://localhost:11434/v1",
            "http://LOCALHOST./v1",
            "http://127.0.0.1:8000",
            "http://127.1.2.3/v1",
            "http://[::1]:8080/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "https://gateway.example.com/v1",
            "https://10.0.0.5/v1",
        ] {
            assert_eq!(cleartext(local), None, "{local}");
        }
        for remote in [
            "http://10.0.0.5:8000/v1",
            "http://gateway.example.com/v1",
            "http://api.localhost/v1",
            "http://localhost.example.com/v1",
            "http://[::2]/v1",
            "http://0.0.0.0:8000/v1",
        ] {
            assert!(cleartext(remote).is_some(), "{remote}");
        }
        let w = cleartext("http://10.0.0.5:8000/v1").unwrap();
        assert!(
            w.contains("http:// to 10.0.0.5") && w.contains("allow_insecure_http = true"),
            "{w}"
        );
    }

    #[test]
    fn pinned_and_moving_names() {
        for (p, m) in [
            (OpenAi, "gpt-4o-mini-2024-07-18"),
            (OpenAi, "gpt-4-0613"),
            (Anthropic, "claude-sonnet-4-20250514"),
            (Gemini, "gemini-2.0-flash-001"),
            (Gemini, "gemini-2.5-flash"),
            (OpenAiCompatible, "llama3.1:8b"),
            (OpenAi, "gpt-4o-mini-2024-07-18+ttft=0,tokens=5"),
        ] {
            assert_eq!(unpinned_model(p, m), None, "{m}");
        }
        for (p, m) in [
            (OpenAi, "gpt-4o"),
            (OpenAi, "chatgpt-4o-latest"),
            (Anthropic, "claude-sonnet-4-0"),
            (Anthropic, "claude-3-7-sonnet-latest"),
            (Gemini, "gemini-1.5-pro"),
            (Gemini, "gemini-flash-latest"),
            (OpenAiCompatible, "llama3:latest"),
            (OpenAi, "gpt-4o+tokens=5"),
        ] {
            assert!(unpinned_model(p, m).is_some(), "{m}");
        }
    }
}
