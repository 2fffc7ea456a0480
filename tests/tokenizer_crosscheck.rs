//! tiktoken-rs (what Prism counts with) and github's bpe-openai (faster, see
//! BENCHMARKS.md) must agree token for token on both encodings.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use proptest::prelude::*;

const SAMPLES: &[&str] = &[
    "",
    "hello world",
    "tiktoken is great!",
    "    fn main() {\n        println!(\"{}\", 42);\n    }\n",
    "日本語のテキストと English mixed 😀👩\u{200d}💻 e\u{301}",
    "     \n\n\n\t\t   trailing   ",
    "don't you're we've I'll she'd THEY'RE",
    "1234567890 3.14159 1e10 0x1F",
    "<|endoftext|> is just text here",
];

fn agree(text: &str) {
    let tk_o = tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len();
    let tk_c = tiktoken_rs::cl100k_base_singleton().encode_ordinary(text).len();
    assert_eq!(tk_o, bpe_openai::o200k_base().count(text), "o200k on {text:?}");
    assert_eq!(tk_c, bpe_openai::cl100k_base().count(text), "cl100k on {text:?}");
}

#[test]
fn known_samples_agree() {
    for s in SAMPLES {
        agree(s);
    }
    agree(&"word ".repeat(10_000));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_mixtures_agree(parts in proptest::collection::vec(0..SAMPLES.len(), 0..12)) {
        let text: String = parts.iter().map(|&i| SAMPLES[i]).collect();
        agree(&text);
    }
}
