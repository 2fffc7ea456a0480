//! Configuration: where it is looked up, how `[defaults]` merge into targets, and
//! validation with `file:line:col` errors that name the offending key.
//!
//! Keys are never read from the file: a target names the environment variable that
//! holds its key, and the key is read from the environment when a request is built.

mod azure;
mod bedrock;
mod cache;
mod endpoint;
mod file;
mod headers;
mod key_env;
pub mod limits;
mod prices;
mod reasoning;
mod schema;
mod suggest;
pub mod themes;
mod tools;
mod unset;
mod variants;
mod warnings;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use toml::Spanned;

use crate::keys::{Action, KeyChord, Mode};
use crate::pricing::PriceTable;
use crate::target::{Api, KeySource, Params, ProviderKind, RetryPolicy, Target, Timeouts};
use file::{ConfigFile, TargetFile};
pub use variants::{ParamOverrides, Variant};
pub use warnings::{cleartext, unpinned_model};

/// A loaded configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Targets in file order.
    pub targets: Vec<Target>,
    /// Things worth telling the user that do not stop a run.
    pub warnings: Vec<String>,
    /// The file it came from.
    pub path: PathBuf,
    /// Theme name, or a theme file's path resolved against the config's directory, if the
    /// file chose one; checked to exist when the config loads.
    pub theme: Option<String>,
    /// Key bindings that replace the defaults for their action and mode.
    pub keys: Vec<(Mode, Action, Vec<KeyChord>)>,
    /// Built-in prices, then the user's LiteLLM file, then `[pricing]` overrides.
    pub prices: PriceTable,
    /// Session budget in USD, if any.
    pub budget_usd: Option<f64>,
    /// Confirmation threshold for one send, USD.
    pub confirm_above_usd: Option<f64>,
    /// `sessions_dir`, resolved against the config file's directory.
    pub sessions_dir: Option<PathBuf>,
    /// `[[variant]]` tables, in file order.
    pub variants: Vec<Variant>,
    /// `max_concurrency` of the targets that set it (or inherit it), by target name.
    pub max_concurrency: std::collections::BTreeMap<String, u32>,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config FILE` names a file that does not exist.
    #[error("{}: cannot read config: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// A syntax, type or validation error at a position in the file.
    #[error("{}:{line}:{col}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
}

/// The first config file that exists: `explicit`, then `./prism.toml`, then
/// `$XDG_CONFIG_HOME/prism/config.toml`. An explicit path must exist.
pub fn locate(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = explicit {
        return match p.metadata() {
            Ok(_) => Ok(Some(p.to_path_buf())),
            Err(source) => Err(ConfigError::Read {
                path: p.to_path_buf(),
                source,
            }),
        };
    }
    Ok(search_paths().into_iter().find(|p| p.is_file()))
}

/// Where Prism looks for a config file when none is given.
pub fn search_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("prism.toml")];
    if let Ok(dirs) = etcetera::choose_base_strategy() {
        use etcetera::BaseStrategy;
        paths.push(dirs.config_dir().join("prism").join("config.toml"));
    }
    paths
}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Validate config text; `path` is used in messages. Base-URL variables are read from
/// the process environment.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    parse_with_env(text, path, &|var| std::env::var(var).ok())
}

/// [`parse`], reading base-URL variables (`OPENAI_BASE_URL`...) through `env`.
pub fn parse_with_env(text: &str, path: &Path, env: endpoint::EnvLookup<'_>) -> Result<Config, ConfigError> {
    let invalid = |offset: usize, message: String| {
        let (line, col) = line_col(text, offset);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            col,
            message,
        }
    };
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        invalid(offset, suggest::unknown_key(e.message().trim(), text, offset))
    })?;
    let defaults = match file.defaults {
        Some(d) => {
            if let Some(name) = &d.get_ref().name {
                return Err(invalid(
                    name.span().start,
                    "`name` cannot be set in [defaults]: every target needs its own".into(),
                ));
            }
            unset::refuse_in_defaults(d.get_ref()).map_err(|(at, msg)| invalid(at, msg))?;
            prices::refuse_in_defaults(d.get_ref()).map_err(|(at, msg)| invalid(at, msg))?;
            d.into_inner()
        }
        None => TargetFile::default(),
    };
    if file.target.is_empty() {
        return Err(invalid(
            text.len(),
            "no [[target]] tables: add at least one (see README, Configuration)".into(),
        ));
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut warnings = Warnings::default();
    let mut max_concurrency = std::collections::BTreeMap::new();
    let mut price_as_at = Vec::new();
    let dir = path.parent().unwrap_or(Path::new("."));
    let shared_schema = schema::load(file.schema.as_ref(), dir).map_err(|(at, msg)| invalid(at, msg))?;
    let top_tools = tools::ToolKeys {
        tools: file.tools,
        tool_choice: file.tool_choice,
        tool_results: file.tool_results,
    };
    let shared_tools = tools::shared(top_tools, dir).map_err(|(at, msg)| invalid(at, msg))?;
    for table in file.target {
        let start = table.span().start;
        let own = table.into_inner();
        unset::check(&own).map_err(|(at, msg)| invalid(at, msg))?;
        let t = own.with_defaults(&defaults);
        let limit =
            limits::max_concurrency(t.max_concurrency.clone()).map_err(|(at, msg)| invalid(at, msg))?;
        price_as_at.push(t.price_as.as_ref().map(|p| p.span().start));
        let own_schema = (t.schema.clone(), t.schema_mode.clone());
        let own_tools = tools::ToolKeys {
            tools: t.tools.clone(),
            tool_choice: t.tool_choice.clone(),
            tool_results: t.tool_results.clone(),
        };
        let mut target = resolve(t, start, &mut warnings, env).map_err(|(at, msg)| invalid(at, msg))?;
        schema::apply(&mut target, own_schema, shared_schema.as_ref(), dir)
            .map_err(|(at, msg)| invalid(at, msg))?;
        if let Some(w) = crate::provider::schema::translation_warning(&target) {
            warnings.other.push(format!("target `{}`: {w}", target.name));
        }
        tools::apply(&mut target, own_tools, &shared_tools, dir, &mut warnings.other)
            .map_err(|(at, msg)| invalid(at, msg))?;
        if let Some(prev) = targets.iter().find(|p| p.name == target.name) {
            return Err(invalid(
                start,
                format!("duplicate target name `{}`: names must be unique", prev.name),
            ));
        }
        if let Some(n) = limit {
            max_concurrency.insert(target.name.clone(), n);
        }
        targets.push(target);
    }
    let variants = variants::resolve(file.variant, dir, &targets, |at| {
        let (line, col) = line_col(text, at);
        format!("{}:{line}:{col}", path.display())
    })
    .map_err(|(at, msg)| invalid(at, msg))?;
    let keys = resolve_keys(&file.keys).map_err(|(at, msg)| invalid(at, msg))?;
    let theme = themes::resolve(file.theme, dir, themes::user_theme_dir().as_deref())
        .map_err(|(at, msg)| invalid(at, msg))?;
    let dollars = |v, key| limits::dollars(v, key).map_err(|(at, msg)| invalid(at, msg));
    let budget_usd = dollars(file.budget_usd, "budget_usd")?;
    let confirm_above_usd = dollars(file.confirm_above_usd, "confirm_above_usd")?;
    let prices = prices::resolve(path, file.pricing_file.as_ref(), &file.pricing)
        .map_err(|(at, msg)| invalid(at, msg))?;
    prices::check_targets(&targets, &price_as_at, &prices, &mut warnings.other)
        .map_err(|(at, msg)| invalid(at, msg))?;
    let sessions_dir = file
        .sessions_dir
        .map(|d| path.parent().unwrap_or(Path::new(".")).join(d.into_inner()));
    Ok(Config {
        sessions_dir,
        // A key about to cross the network in clear text matters more than a moving alias.
        warnings: warnings.cleartext.into_iter().chain(warnings.other).collect(),
        targets,
        path: path.to_path_buf(),
        theme,
        keys,
        prices,
        budget_usd,
        confirm_above_usd,
        variants,
        max_concurrency,
    })
}

type KeysFile = std::collections::BTreeMap<
    String,
    Spanned<std::collections::BTreeMap<String, Spanned<file::ChordsFile>>>,
>;

fn resolve_keys(keys: &KeysFile) -> Result<Vec<(Mode, Action, Vec<KeyChord>)>, Located> {
    let mut out = Vec::new();
    const MODES: [Mode; 4] = [Mode::Global, Mode::Editor, Mode::Panes, Mode::Sessions];
    for (mode_name, table) in keys {
        let mode = MODES
            .into_iter()
            .find(|m| m.as_str() == mode_name)
            .ok_or_else(|| {
                let names = MODES.map(Mode::as_str);
                (
                    table.span().start,
                    format!(
                        "unknown key mode \"{mode_name}\" in [keys.{mode_name}]{}",
                        suggest::hint(mode_name, &names, "")
                    ),
                )
            })?;
        for (action_name, chords) in table.get_ref() {
            let at = chords.span().start;
            let action: Action = serde_json::from_value(Value::String(action_name.clone())).map_err(|e| {
                // serde's message lists every action; no second list to keep in step.
                let message = e.to_string();
                let names = suggest::expected(&message).unwrap_or_default();
                let more = " (the help overlay, F1, lists the actions)";
                (
                    at,
                    format!(
                        "unknown action \"{action_name}\" in [keys.{mode_name}]{}",
                        suggest::hint(action_name, &names, more)
                    ),
                )
            })?;
            let parsed = chords
                .get_ref()
                .as_slice()
                .into_iter()
                .map(|c| {
                    c.parse::<KeyChord>()
                        .map_err(|e| (at, format!("[keys.{mode_name}] {action_name}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push((mode, action, parsed));
        }
    }
    Ok(out)
}

type Located = (usize, String);

fn required(field: Option<Spanned<String>>, key: &str, table_at: usize) -> Result<Spanned<String>, Located> {
    match field {
        Some(v) if !v.get_ref().trim().is_empty() => Ok(v),
        Some(v) => Err((v.span().start, format!("`{key}` must not be empty"))),
        None => Err((table_at, format!("missing `{key}` in [[target]]"))),
    }
}

/// Warnings gathered while resolving targets, most important kind first.
#[derive(Default)]
struct Warnings {
    cleartext: Vec<String>,
    other: Vec<String>,
}

fn resolve(
    t: TargetFile,
    table_at: usize,
    warnings: &mut Warnings,
    env: endpoint::EnvLookup<'_>,
) -> Result<Target, Located> {
    let name = required(t.name, "name", table_at)?.into_inner();
    let provider_s = required(t.provider, "provider", table_at)?;
    let provider: ProviderKind = provider_s
        .get_ref()
        .parse()
        .map_err(|_| (provider_s.span().start, unknown_provider(provider_s.get_ref())))?;
    let (api, spec) = resolve_api(t.api, provider)?;
    let mut notes = Vec::new();
    let keys = azure::Keys {
        model: t.model.as_ref(),
        base_url: t.base_url.as_ref(),
        api_key_env: t.api_key_env.as_ref(),
        deployment: t.deployment.as_ref(),
        api_version: t.api_version.as_ref(),
        azure_auth: t.azure_auth.as_ref(),
    };
    let azure = azure::resolve(&keys, provider, api, &name, table_at, env, &mut notes)?;
    let model = match &azure {
        Some(a) => a.deployment.clone(),
        None => required(t.model, "model", table_at)?.into_inner(),
    };
    bedrock::refuse_elsewhere(provider, t.region.as_ref(), t.profile.as_ref())?;
    let (base_url, base_url_source, aws) = if let Some(a) = &azure {
        (a.base_url.clone(), a.source.clone(), None)
    } else if provider == ProviderKind::Bedrock {
        let b = bedrock::resolve(&name, t.base_url, t.region, t.profile, table_at, env)?;
        (b.base_url, b.source, Some(b.aws))
    } else {
        let (url, source) = endpoint::base_url(t.base_url, provider, &name, table_at, env)?;
        (url, source, None)
    };
    if let Some(var) = base_url_source.env_var() {
        // The key goes wherever the variable points: say so once, at load.
        warnings.other.push(format!(
            "target `{name}`: `base_url` comes from ${var}: {base_url}"
        ));
    }
    let key = match t.api_key_env {
        _ if azure.is_some() => azure.as_ref().map_or(KeySource::None, |a| a.key.clone()),
        Some(v) => {
            if let Some(why) = key_env::problem(v.get_ref()) {
                return Err((v.span().start, why));
            }
            KeySource::Env(vec![v.into_inner()])
        }
        None if provider.default_key_envs().is_empty() => KeySource::None,
        None => KeySource::Env(
            provider
                .default_key_envs()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    };
    if let Some(bad) = t.extra.as_ref().and_then(limits::non_finite_in) {
        return Err((
            table_at,
            format!("target `{name}`: {bad} cannot be sent: JSON has no NaN or infinity"),
        ));
    }
    let extra = match t.extra {
        Some(table) => match serde_json::to_value(table) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err((table_at, format!("target `{name}`: `extra` must be a table")));
            }
        },
        None => Map::new(),
    };
    // A keyless target has no credential to expose; its prompts still travel in clear,
    // but that is the usual, deliberate set-up of a model server on the local network.
    let entra = azure.as_ref().and_then(|a| a.entra);
    if (matches!(key, KeySource::Env(_)) || entra.is_some())
        && !t.allow_insecure_http.unwrap_or(false)
        && let Some(w) = cleartext(&base_url)
    {
        warnings.cleartext.push(format!("target `{name}`: {w}"));
    }
    if let Some(w) = unpinned_model(provider, &model) {
        warnings.other.push(format!("target `{name}`: {w}"));
    }
    if !spec.accepts_seed && t.seed.is_some() {
        warnings.other.push(format!(
            "target `{name}`: {} has no `seed` parameter; it is not sent",
            spec.display_name
        ));
    }
    if !spec.accepts_stop && t.stop.is_some() {
        warnings.other.push(format!(
            "target `{name}`: {} has no `stop` parameter; it is not sent",
            spec.display_name
        ));
    }
    let system = match t.system {
        Some(s) if s.get_ref().trim().is_empty() => {
            return Err((
                s.span().start,
                "`system` is empty: remove it (or add `unset = [\"system\"]` to drop one from [defaults])"
                    .into(),
            ));
        }
        s => s.map(Spanned::into_inner),
    };
    let max_tokens = limits::max_tokens(t.max_tokens)?;
    let reasoning = reasoning::resolve(
        reasoning::ReasoningFile {
            reasoning_effort: t.reasoning_effort,
            reasoning_summary: t.reasoning_summary,
            thinking: t.thinking,
            thinking_budget: t.thinking_budget,
            thinking_level: t.thinking_level,
        },
        provider,
        api,
        &model,
        max_tokens,
        &mut notes,
    )?;
    let headers = headers::resolve(t.headers, provider, &key, &mut notes)?;
    let price_as = prices::price_as(t.price_as)?.map(Spanned::into_inner);
    let cache_file = cache::CacheFile {
        cache: t.cache,
        cache_ttl: t.cache_ttl,
        cache_messages: t.cache_messages,
    };
    let cache = cache::resolve(cache_file, provider, &mut notes)?;
    notes.extend(cache::extra_overrides(
        &extra,
        provider,
        api,
        spec.max_tokens_field,
    ));
    let mut params = Params {
        temperature: limits::temperature(t.temperature, provider)?,
        top_p: limits::top_p(t.top_p)?,
        max_tokens,
        stop: t.stop.map(file::StopFile::into_vec).unwrap_or_default(),
        seed: t.seed,
        stream: t.stream.unwrap_or(true),
        extra,
        count_tokens: t.count_tokens.unwrap_or(false),
        retry: RetryPolicy {
            max_retries: limits::max_retries(t.max_retries)?.unwrap_or(RetryPolicy::default().max_retries),
            max_wait: limits::seconds(t.max_retry_wait, "max_retry_wait")?
                .unwrap_or(RetryPolicy::default().max_wait),
            ..RetryPolicy::default()
        },
        timeouts: Timeouts {
            connect: limits::seconds(t.connect_timeout, "connect_timeout")?
                .unwrap_or(Timeouts::default().connect),
            headers: limits::seconds(t.response_timeout, "response_timeout")?
                .unwrap_or(Timeouts::default().headers),
            idle: limits::seconds(t.idle_timeout, "idle_timeout")?.unwrap_or(Timeouts::default().idle),
            total: limits::seconds(t.total_timeout, "total_timeout")?,
        },
        api,
        reasoning_effort: reasoning.effort,
        reasoning_summary: reasoning.summary,
        thinking: reasoning.thinking,
        system,
        headers,
        base_url_source,
        aws,
        price_as,
        entra,
        cache,
        schema: None,
        schema_mode: None,
        tools: None,
    };
    // Family rules follow the model behind a deployment or alias, when the target names it.
    let family_model = params.price_as.clone().unwrap_or_else(|| model.clone());
    reasoning::drop_refused(provider, &family_model, &mut params, &mut notes);
    warnings
        .other
        .extend(notes.into_iter().map(|n| format!("target `{name}`: {n}")));
    Ok(Target {
        name,
        provider,
        model,
        base_url,
        key,
        params,
    })
}

/// `unknown provider "opneai" — did you mean "openai"?`, or the list of providers.
fn unknown_provider(name: &str) -> String {
    let names = ProviderKind::ALL.map(ProviderKind::as_str);
    format!("unknown provider \"{name}\"{}", suggest::hint(name, &names, ""))
}

/// `api`: which of the provider's APIs the target speaks, and that API's table row.
fn resolve_api(
    field: Option<Spanned<String>>,
    provider: ProviderKind,
) -> Result<(Api, &'static crate::target::ProviderSpec), Located> {
    let Some(field) = field else {
        return Ok((Api::default(), provider.spec()));
    };
    let at = field.span().start;
    let api: Api = field.get_ref().parse().map_err(|e| (at, format!("`api`: {e}")))?;
    match provider.spec_for(api) {
        Some(spec) => Ok((api, spec)),
        None => Err((
            at,
            format!(
                "`api`: provider `{provider}` has no `{api}` API; leave `api` out (the Responses API is for openai, openai-compatible and azure targets)"
            ),
        )),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod pricing_tests;

#[cfg(test)]
mod reasoning_tests;
