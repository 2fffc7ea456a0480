//! Prompt caching as a target configures it (`cache`, `cache_ttl`, `cache_messages`).
//!
//! Only providers that need markers (Anthropic `cache_control`, Bedrock `cachePoint`)
//! act on it; the others cache by themselves and Prism only reads what they report.

use std::fmt;

/// What a target marks cacheable, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CachePlan {
    /// The system prompt.
    pub system: bool,
    /// The tool definitions (the last one carries the marker, so all of them are cached).
    pub tools: bool,
    /// The conversation prefix: the first N messages (`Some(n)`), or all of them
    /// (`None`) so a resend of the same prompt reads it whole.
    pub messages: Option<MessagePrefix>,
    /// How long a written entry lives.
    pub ttl: CacheTtl,
}

/// How much of the conversation the message marker covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePrefix {
    /// Every message the request carries.
    All,
    /// The first N (`cache_messages = N`).
    First(u32),
}

/// The time to live of a cache write. Anthropic bills 1-hour writes higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheTtl {
    /// Five minutes, refreshed on every read (the providers' default).
    #[default]
    FiveMinutes,
    /// One hour.
    OneHour,
}

impl CacheTtl {
    /// The value of `cache_ttl` and of the wire's `ttl` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FiveMinutes => "5m",
            Self::OneHour => "1h",
        }
    }
}

impl std::str::FromStr for CacheTtl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "5m" => Ok(Self::FiveMinutes),
            "1h" => Ok(Self::OneHour),
            other => Err(format!("unknown cache_ttl `{other}`: expected \"5m\" or \"1h\"")),
        }
    }
}

impl CachePlan {
    /// Parse `cache`: `"off"`, or parts joined by `+` out of `system`, `tools` and
    /// `messages` (`"system"`, `"system+messages"`). `None` for `"off"`.
    pub fn parse_scope(s: &str) -> Result<Option<Self>, String> {
        if s == "off" {
            return Ok(None);
        }
        let mut plan = Self::default();
        for part in s.split('+') {
            match part.trim() {
                "system" => plan.system = true,
                "tools" => plan.tools = true,
                "messages" => plan.messages = Some(MessagePrefix::All),
                other => {
                    return Err(format!(
                        "unknown cache part `{other}`: expected \"off\", or \"system\", \"tools\" and \"messages\" joined by `+` (\"system+messages\")"
                    ));
                }
            }
        }
        Ok(Some(plan))
    }

    /// The `cache` value that parses back to this plan's scope.
    pub fn scope(&self) -> String {
        let mut parts = Vec::new();
        if self.system {
            parts.push("system");
        }
        if self.tools {
            parts.push("tools");
        }
        if self.messages.is_some() {
            parts.push("messages");
        }
        parts.join("+")
    }

    /// `cache_messages`, when the message marker covers a fixed number of messages.
    pub fn message_count(&self) -> Option<u32> {
        match self.messages {
            Some(MessagePrefix::First(n)) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for CachePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.scope(), self.ttl.as_str())?;
        if let Some(n) = self.message_count() {
            write!(f, ", first {n} messages")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes_parse_and_print_back() {
        assert_eq!(CachePlan::parse_scope("off").unwrap(), None);
        let p = CachePlan::parse_scope("system+messages").unwrap().unwrap();
        assert!(p.system && !p.tools && p.messages == Some(MessagePrefix::All));
        assert_eq!(p.scope(), "system+messages");
        assert!(CachePlan::parse_scope("system+prompt").is_err());
        assert_eq!("1h".parse::<CacheTtl>().unwrap(), CacheTtl::OneHour);
        assert!("10m".parse::<CacheTtl>().is_err());
    }
}
