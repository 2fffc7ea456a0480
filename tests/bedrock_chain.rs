//! The AWS credential chain and region lookup, from a temporary `HOME` with
//! `~/.aws/credentials` and `~/.aws/config`: the order of sources, `AWS_PROFILE` and the
//! target's `profile`, `credential_process`, the bearer key, and what a miss says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::HashMap;
use std::path::Path;

use prism::provider::bedrock::chain::{Found, resolve};
use prism::provider::event::ErrorKind;
use prism::target::{KeySource, ProviderKind};

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n\
             [work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret\naws_session_token = work-token\n",
        )
        .unwrap();
        let script = dir.path().join("creds.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"process-secret\", \"SessionToken\": \"process-token\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
        )
        .unwrap();
        std::fs::write(
            aws.join("config"),
            format!(
                "[default]\nregion = eu-central-1\n\n[profile work]\nregion = ap-southeast-2\naws_access_key_id = AKIDSHADOWED\n\n\
                 [profile process]\ncredential_process = sh {}\n\n[profile failing]\ncredential_process = sh -c 'echo nope >&2; exit 3'\n\n\
                 [profile sso]\nsso_session = corp\nsso_account_id = 123\n\n[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n",
                script.display()
            ),
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env<'a>(&'a self, vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        move |k: &str| match k {
            "HOME" => Some(self.path().display().to_string()),
            k => map.get(k).map(|v| v.to_string()),
        }
    }
}

fn bearer_env() -> KeySource {
    KeySource::Env(vec!["AWS_BEARER_TOKEN_BEDROCK".into()])
}

fn keys(found: Found) -> (String, String, Option<String>) {
    match found {
        Found::Keys(k) => (
            k.access_key_id,
            k.secret_access_key.expose().to_string(),
            k.session_token.map(|t| t.expose().to_string()),
        ),
        Found::Bearer(_) => panic!("expected keys, got a bearer key"),
    }
}

#[test]
fn the_bearer_key_comes_first() {
    let home = Home::new();
    let env = home.env(&[
        ("AWS_BEARER_TOKEN_BEDROCK", " ABSKbearer "),
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
    ]);
    match resolve(&bearer_env(), Some("work"), &env).unwrap() {
        Found::Bearer(k) => assert_eq!(k.expose(), "ABSKbearer"),
        Found::Keys(_) => panic!("the API key wins"),
    }
}

#[test]
fn environment_keys_beat_the_default_profile_but_not_a_named_one() {
    let home = Home::new();
    let env = home.env(&[
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
        ("AWS_SESSION_TOKEN", "env-token"),
        ("AWS_PROFILE", "work"),
    ]);
    assert_eq!(
        keys(resolve(&bearer_env(), None, &env).unwrap()),
        ("AKIDENV".into(), "env-secret".into(), Some("env-token".into())),
        "environment keys come before $AWS_PROFILE, as in the AWS SDKs"
    );
    assert_eq!(
        keys(resolve(&bearer_env(), Some("work"), &env).unwrap()),
        ("AKIDWORK".into(), "work-secret".into(), Some("work-token".into())),
        "the target's own profile is an explicit choice; credentials beat config"
    );
}

#[test]
fn aws_profile_then_default() {
    let home = Home::new();
    let env = home.env(&[("AWS_PROFILE", "work")]);
    assert_eq!(keys(resolve(&bearer_env(), None, &env).unwrap()).0, "AKIDWORK");
    let env = home.env(&[]);
    assert_eq!(
        keys(resolve(&bearer_env(), None, &env).unwrap()),
        ("AKIDDEFAULT".into(), "default-secret".into(), None)
    );
}

#[test]
fn credential_process_runs_and_its_failures_say_why() {
    let home = Home::new();
    let env = home.env(&[]);
    assert_eq!(
        keys(resolve(&bearer_env(), Some("process"), &env).unwrap()),
        (
            "ASIAPROCESS".into(),
            "process-secret".into(),
            Some("process-token".into())
        )
    );
    let e = resolve(&bearer_env(), Some("failing"), &env).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MissingKey);
    assert!(
        e.message
            .starts_with("credential_process of AWS profile `failing` exited with")
            && e.message.ends_with(": nope"),
        "{}",
        e.message
    );
}

#[test]
fn sso_and_role_profiles_say_what_to_do() {
    let home = Home::new();
    let env = home.env(&[]);
    let e = resolve(&bearer_env(), Some("sso"), &env).unwrap_err();
    assert!(e.message.contains("aws sso login --profile sso"), "{}", e.message);
    assert!(
        e.message
            .contains("aws configure export-credentials --profile sso"),
        "{}",
        e.message
    );
    let e = resolve(&bearer_env(), Some("role"), &env).unwrap_err();
    assert!(e.message.contains("assumes a role"), "{}", e.message);
}

#[test]
fn a_miss_names_everything_looked_for() {
    let empty = tempfile::tempdir().unwrap();
    let home = empty.path().display().to_string();
    let env = |k: &str| (k == "HOME").then(|| home.clone());
    let e = resolve(&bearer_env(), None, &env).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MissingKey);
    assert_eq!(
        e.message,
        format!(
            "no AWS credentials: set $AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key), or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, or add a [default] profile to {home}/.aws/credentials or {home}/.aws/config (or name one with $AWS_PROFILE or the target's `profile`)"
        )
    );
    let e = resolve(&bearer_env(), Some("nope"), &env).unwrap_err();
    assert!(
        e.message
            .starts_with("no AWS profile `nope` (the target's `profile`) in"),
        "{}",
        e.message
    );
    let half = |k: &str| match k {
        "HOME" => Some(home.clone()),
        "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
        _ => None,
    };
    let e = resolve(&bearer_env(), None, &half).unwrap_err();
    assert!(
        e.message.contains("$AWS_SECRET_ACCESS_KEY is not"),
        "{}",
        e.message
    );
}

#[test]
fn secrets_from_the_chain_are_masked() {
    let home = Home::new();
    let env = home.env(&[]);
    let _ = resolve(&bearer_env(), Some("process"), &env).unwrap();
    let shown = prism::provider::secret::mask("token process-token and process-secret here");
    assert!(
        !shown.contains("process-token") && !shown.contains("process-secret"),
        "{shown}"
    );
}

fn load(text: &str, vars: &[(&str, &str)], home: &Home) -> Result<prism::config::Config, String> {
    let env = home.env(vars);
    prism::config::parse_with_env(text, Path::new("prism.toml"), &env).map_err(|e| e.to_string())
}

#[test]
fn region_and_endpoint_resolve_like_the_aws_tools() {
    let home = Home::new();
    let t = "[[target]]\nname = \"b\"\nprovider = \"bedrock\"\nmodel = \"amazon.nova-pro-v1:0\"\n";
    let c = load(t, &[], &home).unwrap();
    let b = &c.targets[0];
    assert_eq!(b.provider, ProviderKind::Bedrock);
    assert_eq!(
        b.params.aws.as_ref().unwrap().region,
        "eu-central-1",
        "from [default] in ~/.aws/config"
    );
    assert_eq!(b.base_url, "https://bedrock-runtime.eu-central-1.amazonaws.com");
    let c = load(t, &[("AWS_PROFILE", "work")], &home).unwrap();
    assert_eq!(c.targets[0].params.aws.as_ref().unwrap().region, "ap-southeast-2");
    let c = load(
        t,
        &[("AWS_DEFAULT_REGION", "us-east-2"), ("AWS_REGION", "us-west-1")],
        &home,
    )
    .unwrap();
    assert_eq!(
        c.targets[0].base_url,
        "https://bedrock-runtime.us-west-1.amazonaws.com"
    );
    let with_region = format!("{t}region = \"sa-east-1\"\nprofile = \"work\"\n");
    let c = load(&with_region, &[("AWS_REGION", "us-west-1")], &home).unwrap();
    let aws = c.targets[0].params.aws.clone().unwrap();
    assert_eq!(
        (aws.region.as_str(), aws.profile.as_deref()),
        ("sa-east-1", Some("work"))
    );
    let c = load(
        t,
        &[
            ("AWS_ENDPOINT_URL", "http://general.example"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://bedrock.example"),
        ],
        &home,
    )
    .unwrap();
    assert_eq!(c.targets[0].base_url, "http://bedrock.example");
    let c = load(t, &[("AWS_ENDPOINT_URL", "http://general.example")], &home).unwrap();
    assert_eq!(c.targets[0].base_url, "http://general.example");

    let bare = tempfile::tempdir().unwrap();
    let nothing = Home { dir: bare };
    let e = load(t, &[], &nothing).unwrap_err();
    assert!(e.contains("Bedrock needs a region"), "{e}");
    let e = load(
        "[[target]]\nname = \"o\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\nregion = \"us-east-1\"\n",
        &[],
        &home,
    )
    .unwrap_err();
    assert!(e.contains("`region` is an AWS setting"), "{e}");
}

#[test]
fn thinking_is_for_claude_models_on_bedrock() {
    let home = Home::new();
    let target = |model: &str, more: &str| {
        format!(
            "[[target]]\nname = \"b\"\nprovider = \"bedrock\"\nregion = \"us-east-1\"\nmodel = \"{model}\"\n{more}\n"
        )
    };
    let c = load(
        &target(
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "max_tokens = 4096\nthinking_budget = 2048",
        ),
        &[],
        &home,
    )
    .unwrap();
    assert_eq!(
        c.targets[0].params.thinking,
        Some(prism::target::Thinking::Budget(2048))
    );
    let e = load(
        &target(
            "amazon.nova-pro-v1:0",
            "max_tokens = 4096\nthinking_budget = 2048",
        ),
        &[],
        &home,
    )
    .unwrap_err();
    assert!(e.contains("for Anthropic Claude models"), "{e}");
    let e = load(
        &target(
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "thinking_budget = 2048",
        ),
        &[],
        &home,
    )
    .unwrap_err();
    assert!(e.contains("needs `max_tokens`"), "{e}");
    let e = load(
        &target(
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "reasoning_effort = \"low\"",
        ),
        &[],
        &home,
    )
    .unwrap_err();
    assert!(e.contains("Claude models only"), "{e}");
}
