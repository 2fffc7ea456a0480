//! Output adapters that pass every string through [`crate::provider::secret::mask`], so
//! no key Prism has read reaches a session file, an export or standard output, even when
//! a server or a model echoed it back.
//!
//! JSON is masked one string at a time, inside the serializer: masking a finished JSON
//! line could hit a number that happens to contain a run of a key's digits and break the
//! document. Text formats (Markdown, CSV) are masked line by line.
//!
//! A URL shown to a person has its credentials masked by shape too ([`url`]): a gateway
//! URL may carry a key Prism never read as one (`?key=…`, a signed `?sig=…`).

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::provider::secret::mask;

/// A JSON formatter that masks the text of every string and leaves the layout to `F`.
#[derive(Debug, Clone, Default)]
pub struct Masking<F>(pub F);

impl<F: Formatter> Formatter for Masking<F> {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        // A fragment is a run of characters that need no escape; a key lies inside one.
        w.write_all(mask(fragment).as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as compact JSON into `w`, every string masked.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(w: W, value: &T) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        w,
        Masking(CompactFormatter),
    ))
}

/// `value` as indented JSON into `w`, every string masked.
pub fn to_writer_pretty<W: Write, T: ?Sized + Serialize>(w: W, value: &T) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        w,
        Masking(PrettyFormatter::new()),
    ))
}

/// A writer that masks text line by line on its way to `inner`. Whatever follows the last
/// newline is held until the next newline, [`flush`](Write::flush) or drop.
pub struct MaskLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> MaskLines<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        match std::str::from_utf8(&line) {
            Ok(text) => self.inner.write_all(mask(text).as_bytes()),
            // Not text (cannot happen for our exports): passed through untouched.
            Err(_) => self.inner.write_all(&line),
        }
    }
}

impl<W: Write> Write for MaskLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.emit(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let all = self.pending.len();
        self.emit(all)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskLines<W> {
    fn drop(&mut self) {
        // Errors here have nowhere to go; `flush` is the way to see them.
        let _ = self.flush();
    }
}

impl<W: Write> std::fmt::Debug for MaskLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskLines")
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// Words that mark a query parameter (or a URL's user info) as a credential, matched
/// anywhere in the lower-cased name: `key`, `api-key`, `sig`, `X-Amz-Signature`,
/// `access_token`, `client_secret`, `X-Amz-Credential`...
const SECRET_PARAMS: [&str; 6] = ["key", "sig", "token", "secret", "password", "credential"];

/// `url` fit to show: every known key masked ([`mask`]), the value of each query
/// parameter whose name marks a credential replaced by `[redacted]`, and a password in
/// its user info too. Everything else is kept byte for byte, so the URL still says where
/// the request went.
pub fn url(url: &str) -> Cow<'_, str> {
    let masked = mask(url);
    let (head, query) = match masked.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (masked.as_ref(), None),
    };
    let head = userinfo(head);
    let query = query.map(|q| {
        let (q, fragment) = q.split_once('#').map_or((q, None), |(q, f)| (q, Some(f)));
        let params: Vec<Cow<'_, str>> = q.split('&').map(param).collect();
        let mut out = params.join("&");
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
        out
    });
    let out = match query {
        Some(q) => format!("{head}?{q}"),
        None => head.into_owned(),
    };
    if out == url {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(out)
    }
}

/// One `name=value` query parameter, its value masked when the name marks a credential.
fn param(p: &str) -> Cow<'_, str> {
    match p.split_once('=') {
        Some((name, value)) if !value.is_empty() && is_secret_name(name) => {
            Cow::Owned(format!("{name}={}", crate::provider::secret::REDACTED))
        }
        _ => Cow::Borrowed(p),
    }
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|w| name.contains(w))
}

/// `scheme://user:password@host/…` with the password masked.
fn userinfo(head: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = head.split_once("://") else {
        return Cow::Borrowed(head);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some((info, host)) = authority.rsplit_once('@') else {
        return Cow::Borrowed(head);
    };
    let Some((user, _password)) = info.split_once(':') else {
        return Cow::Borrowed(head);
    };
    Cow::Owned(format!(
        "{scheme}://{user}:{}@{host}{}",
        crate::provider::secret::REDACTED,
        &rest[authority_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::secret::ApiKey;

    #[test]
    fn json_strings_are_masked_and_numbers_never_are() {
        // A key whose digits could also appear in a number.
        let _k = ApiKey::new("k3y-90817263-abc");
        let v =
            serde_json::json!({"t_ns": 1908172630u64, "text": "it was k3y-90817263-abc\n", "n": 90817263});
        let mut out = Vec::new();
        to_writer(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{"t_ns":1908172630,"text":"it was [redacted]\n","n":90817263}"#
        );
        let mut pretty = Vec::new();
        to_writer_pretty(&mut pretty, &v).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&pretty).unwrap();
        assert_eq!(parsed["text"], "it was [redacted]\n");
    }

    #[test]
    fn lines_are_masked_even_when_written_in_pieces() {
        let _k = ApiKey::new("pieces-of-a-key-77");
        let mut out = Vec::new();
        {
            let mut w = MaskLines::new(&mut out);
            w.write_all(b"a pieces-of-").unwrap();
            w.write_all(b"a-key-77 b\nlast pieces-of-a-key-77").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a [redacted] b\nlast [redacted]");
    }

    #[test]
    fn url_query_credentials_are_masked_and_the_rest_kept() {
        assert_eq!(
            url("https://gw.example.com/v1?api-version=2024-10-21&key=abc123&sig=Zm9v%3D#top"),
            "https://gw.example.com/v1?api-version=2024-10-21&key=[redacted]&sig=[redacted]#top"
        );
        assert_eq!(
            url(
                "https://s3.example.com/x?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff&X-Amz-Security-Token=t&region=eu"
            ),
            "https://s3.example.com/x?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]&region=eu"
        );
        assert_eq!(
            url("http://127.0.0.1:8080/v1?access_token=tok&client_secret=s&flag&empty_key="),
            "http://127.0.0.1:8080/v1?access_token=[redacted]&client_secret=[redacted]&flag&empty_key="
        );
    }

    #[test]
    fn url_user_password_and_known_keys_are_masked() {
        assert_eq!(
            url("https://bob:hunter2@proxy.example.com:8443/v1"),
            "https://bob:[redacted]@proxy.example.com:8443/v1"
        );
        // Only a password is a credential; a user alone, or an `@` in the path, is not.
        assert_eq!(url("https://bob@host/v1/a@b"), "https://bob@host/v1/a@b");
        let _k = ApiKey::new("path-key-5512-zzz");
        assert_eq!(
            url("https://host/keys/path-key-5512-zzz/v1"),
            "https://host/keys/[redacted]/v1"
        );
        // Untouched URLs are borrowed, not copied.
        assert!(matches!(url("https://api.openai.com/v1"), Cow::Borrowed(_)));
    }
}
