//! Reading a target's API key from where its [`KeySource`] says, at the moment a request
//! is built (never earlier, so a key set after start-up is picked up).

use super::event::{ErrorKind, ProviderError};
use super::secret::ApiKey;
use crate::target::KeySource;

/// Read the key now. A missing variable fails this target only.
pub fn resolve(source: &KeySource) -> Result<Option<ApiKey>, ProviderError> {
    match source {
        KeySource::None => Ok(None),
        KeySource::Demo => Ok(Some(ApiKey::new("prism-demo-placeholder"))),
        KeySource::Env(vars) => vars
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .map(|k| Some(ApiKey::new(k.trim())))
            .ok_or_else(|| {
                let names = vars
                    .iter()
                    .map(|v| format!("${v}"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                ProviderError::new(ErrorKind::MissingKey, format!("no API key: set {names}"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_names_every_variable_tried() {
        let src = KeySource::Env(vec!["PRISM_TEST_UNSET_A".into(), "PRISM_TEST_UNSET_B".into()]);
        let e = resolve(&src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingKey);
        assert_eq!(
            e.message,
            "no API key: set $PRISM_TEST_UNSET_A or $PRISM_TEST_UNSET_B"
        );
    }
}
