//! "Did you mean": the known name closest to one that is not known.

/// The name among `known` closest to `wanted`, when it is close enough to be a typo: at
/// most 3 edits (a swap of two neighbours is one) and at most a fifth of the name. A
/// different number is a different model, not a typo (`claude-sonnet-4-0` is not
/// `claude-sonnet-4-5`), unless its digits are the same ones swapped. Names under five
/// characters get no guess. Ties go to the alphabetically first, so the answer does not
/// depend on map order.
pub fn closest(wanted: &str, known: impl Iterator<Item = String>) -> Option<String> {
    let len = wanted.chars().count();
    if len < 5 {
        return None;
    }
    let limit = (len / 5).clamp(1, 3);
    known
        .filter(|k| k != wanted && !another_number(wanted, k))
        .map(|k| (strsim::osa_distance(wanted, &k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

/// Whether `a` and `b` name different numbers: where they differ (after their common
/// beginning and end), the digits are not the same ones swapped.
fn another_number(a: &str, b: &str) -> bool {
    let prefix = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a.as_bytes()[prefix..], &b.as_bytes()[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let digits = |s: &[u8]| {
        let mut d: Vec<u8> = s[..s.len() - suffix]
            .iter()
            .copied()
            .filter(u8::is_ascii_digit)
            .collect();
        d.sort_unstable();
        d
    };
    digits(a) != digits(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter().map(|s| s.to_string()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn typos_find_their_model_and_strangers_find_nothing() {
        let known = [
            "gpt-4o-mini-2024-07-18",
            "gpt-4o-2024-08-06",
            "claude-sonnet-4-5",
            "o1",
        ];
        let pick = |w: &str| closest(w, names(&known));
        assert_eq!(
            pick("gpt-4o-mini-2024-07-81").as_deref(),
            Some("gpt-4o-mini-2024-07-18")
        );
        assert_eq!(pick("claude-sonet-4-5").as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(pick("claude-sonnet-4.5").as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(
            pick("gpt4o-mini-2024-07-18").as_deref(),
            Some("gpt-4o-mini-2024-07-18")
        );
        assert_eq!(pick("claude-sonnet-4-0"), None, "another version, not a typo");
        assert_eq!(closest("claude-sonnet-4-0", names(&["claude-sonnet-5"])), None);
        assert_eq!(pick("gpt-4o-2024-05-13"), None);
        assert_eq!(pick("llama3.1:8b"), None);
        assert_eq!(pick("gpt-4o-mini-2024-07-18"), None, "a known name is no typo");
        assert_eq!(pick("o3"), None, "short names get no guess");
        assert_eq!(pick("m"), None);
    }
}
