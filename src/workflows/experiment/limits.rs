//! How many runs may be in flight at once: per provider endpoint and per target.
//!
//! An endpoint is one provider kind at one base-URL origin (scheme, host, port): two
//! targets on the same gateway share its limit, a gateway and a local server do not. A
//! run holds one permit of its endpoint and, when its target sets `max_concurrency`, one
//! of its target, from just before it is sent until its stream ends; retries happen
//! inside that permit.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::target::Target;

/// Runs in flight per provider endpoint unless told otherwise.
pub const DEFAULT_PER_ENDPOINT: u32 = 4;

/// The limits of one experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Runs in flight at once per provider endpoint.
    pub per_endpoint: u32,
    /// Runs in flight at once per target, for the targets that set one (by name).
    pub per_target: BTreeMap<String, u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_endpoint: DEFAULT_PER_ENDPOINT,
            per_target: BTreeMap::new(),
        }
    }
}

/// The endpoint a target sends to: its provider kind and its base URL's origin.
pub fn endpoint(target: &Target) -> String {
    let origin = reqwest::Url::parse(&target.base_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| target.base_url.clone());
    format!("{} {origin}", target.provider.as_str())
}

/// The semaphores of one experiment, one per endpoint and per limited target.
#[derive(Debug)]
pub struct Gates {
    endpoints: BTreeMap<String, (u32, Arc<Semaphore>)>,
    targets: BTreeMap<String, (u32, Arc<Semaphore>)>,
}

/// The permits a run (or a batch of runs) holds while it is in flight.
#[derive(Debug)]
pub struct Held {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Gates {
    /// Gates for `targets` under `limits`.
    pub fn new(targets: &[Target], limits: &Limits) -> Self {
        let mut endpoints = BTreeMap::new();
        let mut per_target = BTreeMap::new();
        for t in targets {
            let n = limits.per_endpoint.max(1);
            endpoints
                .entry(endpoint(t))
                .or_insert_with(|| (n, Arc::new(Semaphore::new(n as usize))));
            if let Some(&n) = limits.per_target.get(&t.name) {
                let n = n.max(1);
                per_target
                    .entry(t.name.clone())
                    .or_insert_with(|| (n, Arc::new(Semaphore::new(n as usize))));
            }
        }
        Self {
            endpoints,
            targets: per_target,
        }
    }

    /// The semaphores `targets` (the design's targets, one entry per run) need, with how many permits each.
    fn needs(&self, targets: &[&Target]) -> Vec<(u32, u32, Arc<Semaphore>)> {
        let mut needs: Vec<(u32, u32, Arc<Semaphore>)> = Vec::new();
        let mut add = |(limit, sem): &(u32, Arc<Semaphore>)| match needs
            .iter_mut()
            .find(|(_, _, s)| Arc::ptr_eq(s, sem))
        {
            Some(entry) => entry.1 += 1,
            None => needs.push((*limit, 1, sem.clone())),
        };
        for t in targets {
            if let Some(gate) = self.targets.get(&t.name) {
                add(gate);
            }
            if let Some(gate) = self.endpoints.get(&endpoint(t)) {
                add(gate);
            }
        }
        needs
    }

    /// Whether `targets` can all be in flight at once under the limits.
    pub fn fit_together(&self, targets: &[&Target]) -> bool {
        self.needs(targets).iter().all(|(limit, n, _)| n <= limit)
    }

    /// Wait until `targets` (one entry per run) may all be sent; they stay admitted until
    /// the returned permits are dropped. Targets must fit together (see
    /// [`Gates::fit_together`]) or this waits forever.
    pub async fn admit(&self, targets: &[&Target]) -> Held {
        let mut permits = Vec::new();
        for (_, n, sem) in self.needs(targets) {
            // The semaphores are never closed, so acquiring cannot fail.
            if let Ok(p) = sem.acquire_many_owned(n).await {
                permits.push(p);
            }
        }
        Held { _permits: permits }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{KeySource, Params, ProviderKind};

    fn target(name: &str, provider: ProviderKind, base: &str) -> Target {
        Target {
            name: name.into(),
            provider,
            model: "m".into(),
            base_url: base.into(),
            key: KeySource::None,
            params: Params::default(),
        }
    }

    #[test]
    fn an_endpoint_is_the_provider_kind_at_the_base_url_origin() {
        let a = target("a", ProviderKind::OpenAi, "http://127.0.0.1:8089/v1");
        let b = target("b", ProviderKind::OpenAi, "http://127.0.0.1:8089/other/v1");
        let c = target("c", ProviderKind::Anthropic, "http://127.0.0.1:8089");
        let d = target("d", ProviderKind::OpenAi, "http://127.0.0.1:9000/v1");
        assert_eq!(endpoint(&a), endpoint(&b));
        assert_ne!(endpoint(&a), endpoint(&c));
        assert_ne!(endpoint(&a), endpoint(&d));
        assert_eq!(endpoint(&a), "openai http://127.0.0.1:8089");
    }

    #[test]
    fn runs_fit_together_only_within_every_limit() {
        let a = target("a", ProviderKind::OpenAi, "http://h/v1");
        let b = target("b", ProviderKind::OpenAi, "http://h/v1");
        let limits = Limits {
            per_endpoint: 2,
            per_target: BTreeMap::from([("b".to_string(), 1)]),
        };
        let gates = Gates::new(&[a.clone(), b.clone()], &limits);
        assert!(gates.fit_together(&[&a, &b]));
        assert!(!gates.fit_together(&[&a, &b, &a]), "3 on one endpoint of 2");
        assert!(!gates.fit_together(&[&b, &b]), "b's own limit is 1");
    }

    #[tokio::test]
    async fn a_run_waits_for_a_permit_and_gets_it_when_one_is_released() {
        let a = target("a", ProviderKind::OpenAi, "http://h/v1");
        let gates = Gates::new(
            std::slice::from_ref(&a),
            &Limits {
                per_endpoint: 1,
                per_target: BTreeMap::new(),
            },
        );
        let first = gates.admit(&[&a]).await;
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), gates.admit(&[&a])).await;
        assert!(second.is_err(), "the endpoint's one permit is held");
        drop(first);
        let third = tokio::time::timeout(std::time::Duration::from_secs(5), gates.admit(&[&a])).await;
        assert!(third.is_ok());
    }
}
