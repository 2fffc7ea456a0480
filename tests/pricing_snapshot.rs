//! Every chat model in the built-in snapshot, priced through the lookup a target uses,
//! costs exactly what the snapshot's own numbers say: the same fixed usage for each entry,
//! at the base prices and just over each tier's threshold. The snapshot is read here with
//! its own small parser, not Prism's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use prism::pricing::lookup::HOSTS;
use prism::pricing::{PriceTable, Tier};
use prism::provider::event::Usage;
use prism::target::{KeySource, Params, ProviderKind, Target};

const SNAPSHOT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/pricing/data/litellm-chat.tsv"
));
const RETIRED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/pricing/data/retired.tsv"
));

/// One line of the snapshot, as written.
struct Row {
    key: String,
    provider: String,
    /// input, output, cache_read, cache_write, cache_write_1h, reasoning.
    base: [Option<u64>; 6],
    max_input: Option<u64>,
    tiers: Vec<(u64, [Option<u64>; 6])>,
    /// The retired file's last column.
    retired: Option<String>,
}

fn rows(text: &str) -> Vec<Row> {
    let num = |s: &str| (!s.is_empty()).then(|| s.parse::<u64>().unwrap());
    let six = |c: &[&str]| -> [Option<u64>; 6] { std::array::from_fn(|i| num(c[i])) };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .skip(1) // the header
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                key: c[0].into(),
                provider: c[1].into(),
                base: six(&c[2..8]),
                max_input: num(c[8]),
                tiers: c[10]
                    .split(';')
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        let (above, p) = t.split_once(':').unwrap();
                        let p: Vec<&str> = p.split(',').collect();
                        (above.parse().unwrap(), six(&p))
                    })
                    .collect(),
                retired: c.get(12).map(|s| s.to_string()),
            }
        })
        .collect()
}

/// The usage every entry is priced for: 1,000 input tokens of which 300 cache reads and 200
/// cache writes (50 of them for an hour), 500 output tokens of which 100 reasoning. `input`
/// moves it past a tier's threshold.
fn usage(input: u64) -> Usage {
    Usage {
        input: Some(input),
        output: Some(500),
        cached_input: Some(300),
        cache_write: Some(200),
        cache_write_1h: Some(50),
        reasoning: Some(100),
    }
}

/// The documented rule, from the row's numbers: above a threshold every token is billed at
/// that tier, a price the tier leaves out is the base one; cache reads and writes without
/// a price bill as input, 1-hour writes as other writes, reasoning as output.
fn expected(row: &Row, u: &Usage) -> u128 {
    let input = u.input.unwrap();
    let tier = row.tiers.iter().rev().find(|(above, _)| input > *above);
    let rate = |i: usize| tier.and_then(|(_, t)| t[i]).or(row.base[i]);
    let inp = rate(0).unwrap();
    let out = rate(1).unwrap();
    let read = rate(2).unwrap_or(inp);
    let write = rate(3).unwrap_or(inp);
    let write_1h = rate(4).unwrap_or(write);
    let reasoning = rate(5).unwrap_or(out);
    let n = |v: Option<u64>| u128::from(v.unwrap());
    let (cached, written, written_1h, thought) = (
        n(u.cached_input),
        n(u.cache_write),
        n(u.cache_write_1h),
        n(u.reasoning),
    );
    (n(u.input) - cached - written) * u128::from(inp)
        + cached * u128::from(read)
        + (written - written_1h) * u128::from(write)
        + written_1h * u128::from(write_1h)
        + (n(u.output) - thought) * u128::from(out)
        + thought * u128::from(reasoning)
}

fn target(kind: ProviderKind, model: &str, base_url: &str, price_as: Option<&str>) -> Target {
    Target {
        name: "t".into(),
        provider: kind,
        model: model.into(),
        base_url: base_url.into(),
        key: KeySource::None,
        params: Params {
            price_as: price_as.map(str::to_string),
            ..Params::default()
        },
    }
}

/// How a user would configure a target for this entry, without `price_as`.
fn natural_target(row: &Row, keys: &std::collections::HashSet<&str>) -> Target {
    let (prefix, rest) = row.key.split_once('/').unwrap_or(("", &row.key));
    let host = HOSTS
        .iter()
        .find(|(_, p)| *p == prefix)
        .map(|(domain, _)| *domain);
    match (row.provider.as_str(), prefix, host) {
        ("openai", "", _) => target(ProviderKind::OpenAi, &row.key, "https://api.openai.com/v1", None),
        ("anthropic", "", _) => target(
            ProviderKind::Anthropic,
            &row.key,
            "https://api.anthropic.com",
            None,
        ),
        ("gemini", "gemini", _) => target(
            ProviderKind::Gemini,
            rest,
            "https://generativelanguage.googleapis.com",
            None,
        ),
        ("gemini", "", _) if !keys.contains(format!("gemini/{}", row.key).as_str()) => target(
            ProviderKind::Gemini,
            &row.key,
            "https://generativelanguage.googleapis.com",
            None,
        ),
        (_, _, Some(domain)) => target(
            ProviderKind::OpenAiCompatible,
            rest,
            &format!("https://{domain}/v1"),
            None,
        ),
        // A gateway or local server that serves the model under the entry's own name.
        _ => target(
            ProviderKind::OpenAiCompatible,
            &row.key,
            "http://127.0.0.1:4000/v1",
            None,
        ),
    }
}

fn check(prices: &PriceTable, row: &Row, t: &Target, how: &str) {
    let p = prices
        .for_target(t)
        .unwrap_or_else(|| panic!("{} ({how}: {} {}) has no price", row.key, t.provider, t.model));
    assert_eq!(
        p.entry, row.key,
        "{how}: {} {} priced by another entry",
        t.provider, t.model
    );
    assert_eq!(p.retired.as_deref(), row.retired.as_deref(), "{}", row.key);
    let mut inputs = vec![1000];
    for (above, _) in &row.tiers {
        inputs.extend([*above, above + 1]);
    }
    for input in inputs {
        let u = usage(input);
        let charge = p.charge(&u).unwrap();
        assert_eq!(
            charge.cost,
            expected(row, &u),
            "{} at {input} input tokens ({how})",
            row.key
        );
        let tier = row
            .tiers
            .iter()
            .rev()
            .find(|(above, _)| input > *above)
            .map(|(a, _)| *a);
        assert_eq!(charge.tier, tier, "{} at {input}", row.key);
    }
    if p.beta_window.is_none() {
        assert_eq!(p.context_window, row.max_input, "{} window", row.key);
    }
}

#[test]
fn every_snapshot_entry_prices_exactly_through_the_lookup() {
    let prices = PriceTable::builtin().unwrap();
    let snapshot = rows(SNAPSHOT);
    assert!(snapshot.len() > 3500, "{} entries", snapshot.len());
    let keys: std::collections::HashSet<&str> = snapshot.iter().map(|r| r.key.as_str()).collect();
    let mut routes = std::collections::BTreeMap::<String, usize>::new();
    for row in &snapshot {
        let t = natural_target(row, &keys);
        check(&prices, row, &t, "natural");
        *routes.entry(t.provider.to_string()).or_default() += 1;
        // `price_as` reaches every entry from any kind.
        for kind in ProviderKind::ALL {
            check(
                &prices,
                row,
                &target(kind, "my-deployment", "http://10.0.0.9/v1", Some(&row.key)),
                "price_as",
            );
        }
    }
    // The first-party kinds take their maker's entries by the model's own name.
    for kind in ["openai", "anthropic", "gemini"] {
        assert!(routes.get(kind).is_some_and(|n| *n > 15), "{kind}: {routes:?}");
    }
}

#[test]
fn every_retired_entry_keeps_its_last_price_and_is_marked() {
    let prices = PriceTable::builtin().unwrap();
    let retired = rows(RETIRED);
    assert!(!retired.is_empty());
    let live: std::collections::HashSet<String> = rows(SNAPSHOT).into_iter().map(|r| r.key).collect();
    for row in &retired {
        assert!(!live.contains(&row.key), "{} is live and retired", row.key);
        assert!(
            row.retired.as_deref().is_some_and(|r| !r.is_empty()),
            "{}",
            row.key
        );
        let t = natural_target(row, &std::collections::HashSet::new());
        check(&prices, row, &t, "natural");
    }
    // Seeded from the table Prism shipped before the snapshot, e.g. Claude Sonnet 4.
    assert!(retired.iter().any(|r| r.key == "claude-sonnet-4-20250514"));
}

#[test]
fn first_party_kinds_never_take_a_resellers_price() {
    let prices = PriceTable::builtin().unwrap();
    let snapshot = rows(SNAPSHOT);
    let mut checked = 0;
    for row in snapshot.iter().filter(|r| r.key.contains('/')) {
        let (_, bare) = row.key.split_once('/').unwrap();
        for (kind, maker) in [
            (ProviderKind::OpenAi, "openai"),
            (ProviderKind::Anthropic, "anthropic"),
        ] {
            if let Some(p) = prices.lookup(kind, bare) {
                assert_eq!(p.provider, maker, "{bare} under {kind} priced by {}", p.entry);
                assert_eq!(p.entry, bare);
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "{checked} resold first-party models seen");
}

#[test]
fn the_tier_type_is_what_the_snapshot_lists() {
    // A guard on this file's parser: Prism's tiers for one entry match its line.
    let prices = PriceTable::builtin().unwrap();
    let p = prices.lookup(ProviderKind::Gemini, "gemini-2.5-pro").unwrap();
    assert_eq!(
        p.tiers,
        [Tier {
            above: 200_000,
            input: Some(2_500_000),
            output: Some(15_000_000),
            cached_input: Some(250_000),
            ..Tier::default()
        }]
    );
}
