//! HTTP/1.1 body chunks that arrive whole in one socket read, joined into one chunk
//! before hyper sees them.
//!
//! A server that flushes every SSE event as a chunk of its own (a model server on the
//! same machine, Prism's mock) sends one chunk per token. hyper decodes chunk framing a
//! byte at a time and hands its reader one chunk per poll, so every chunk cost several
//! times what decoding the event inside it did, and a read that brought fifty events
//! cost fifty times that. Chunk boundaries mean nothing in HTTP (RFC 9112 §7.1: a
//! recipient may not rely on them; intermediaries re-chunk freely), and every chunk of
//! one read shares that read's arrival stamp, so joining them changes neither the body
//! nor any time Prism reports.
//!
//! The [`Rechunker`] follows the framing of the responses as their bytes pass: each
//! response head (parsed with `httparse`), then a body of known length or a chunked one.
//! It rewrites only a run of two or more whole chunks, each `HEX CRLF data CRLF`, within
//! the bytes of one read, into one chunk; the bytes shrink, never grow, so the rewrite
//! happens in place. Anything else passes unchanged. Whatever it does not expect (a
//! chunk extension, whitespace in a size line, a HEAD request, an upgrade, a body that
//! runs to the close, HTTP/2) makes it step aside for the rest of the connection, and
//! hyper judges the bytes as they came.

/// The largest head followed; a longer one turns the rechunker off.
const MAX_HEAD: usize = 64 * 1024;

/// A joined chunk's data is kept under 16 MiB, so its size line (at most six hex
/// digits and CRLF) is never longer than the two size lines and the CRLF it replaces at
/// the least: the rewrite never writes past what it has read.
const MAX_JOINED: u64 = 0xFF_FFFF;

/// Where in the connection's response bytes the next byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// In a response head; its bytes so far are kept in [`Rechunker::head`].
    Head,
    /// In a body of known length: bytes left.
    Fixed(u64),
    /// At the first byte of a chunk's size line.
    SizeStart,
    /// In a size line after at least one digit: the size so far.
    Size(u64),
    /// The size line's CR seen: the size.
    SizeLf(u64),
    /// In a chunk's data: bytes left.
    Data(u64),
    DataCr,
    DataLf,
    /// After the last chunk, at the start of a trailer line or of the final CRLF.
    TrailerStart,
    /// In a trailer line.
    Trailer,
    TrailerLf,
    /// The final CR after the trailers seen.
    EndLf,
    /// Not following: every byte passes unchanged.
    Off,
}

/// Follows one connection's responses and joins the whole chunks of each read.
#[derive(Debug)]
pub struct Rechunker {
    at: At,
    head: Vec<u8>,
    /// The run of whole chunks being joined (kept for its room).
    run: Vec<(usize, usize)>,
}

impl Default for Rechunker {
    fn default() -> Self {
        Self::new()
    }
}

impl Rechunker {
    /// A rechunker for an HTTP/1.1 connection, before its first response.
    pub fn new() -> Self {
        Self {
            at: At::Head,
            head: Vec::new(),
            run: Vec::new(),
        }
    }

    /// One that passes everything unchanged: for an HTTP/2 connection.
    pub fn off() -> Self {
        Self {
            at: At::Off,
            head: Vec::new(),
            run: Vec::new(),
        }
    }

    /// Whether it still follows the connection.
    pub fn is_on(&self) -> bool {
        self.at != At::Off
    }

    /// Bytes the client is writing. The answer to a HEAD request has a head that
    /// announces a body it does not carry; rather than follow requests, the rechunker
    /// steps aside when any write starts like one.
    pub fn on_write(&mut self, bytes: &[u8]) {
        if bytes.starts_with(b"HEAD ") {
            self.step_aside();
        }
    }

    /// Rewrite the bytes one read brought, in place; returns how many of them are left.
    /// At least one is left of a read that brought any.
    pub fn rewrite(&mut self, buf: &mut [u8]) -> usize {
        let (mut r, mut w) = (0, 0);
        while r < buf.len() {
            match self.at {
                At::Off => {
                    if w != r {
                        buf.copy_within(r.., w);
                    }
                    return w + (buf.len() - r);
                }
                At::SizeStart => {
                    let len = whole_chunks(&buf[r..], &mut self.run);
                    if self.run.len() >= 2 {
                        w = join(buf, r, w, &self.run);
                        r += len;
                        continue;
                    }
                }
                At::Fixed(left) | At::Data(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len() - r);
                    if w != r {
                        buf.copy_within(r..r + n, w);
                    }
                    (r, w) = (r + n, w + n);
                    let left = left - n as u64;
                    self.at = match self.at {
                        At::Fixed(_) if left == 0 => At::Head,
                        At::Fixed(_) => At::Fixed(left),
                        _ if left == 0 => At::DataCr,
                        _ => At::Data(left),
                    };
                    continue;
                }
                _ => {}
            }
            self.step(buf[r]);
            buf[w] = buf[r];
            (r, w) = (r + 1, w + 1);
        }
        w
    }

    fn step_aside(&mut self) {
        self.at = At::Off;
        self.head = Vec::new();
    }

    /// Follow one byte outside the runs [`Self::rewrite`] takes whole.
    fn step(&mut self, b: u8) {
        self.at = match (self.at, b) {
            (At::Head, _) => return self.head_byte(b),
            (At::SizeStart, _) => match hex(b) {
                Some(d) => At::Size(u64::from(d)),
                None => At::Off,
            },
            (At::Size(size), b'\r') => At::SizeLf(size),
            (At::Size(size), _) => match hex(b).and_then(|d| size.checked_mul(16)?.checked_add(u64::from(d)))
            {
                Some(size) => At::Size(size),
                None => At::Off,
            },
            (At::SizeLf(0), b'\n') => At::TrailerStart,
            (At::SizeLf(size), b'\n') => At::Data(size),
            (At::DataCr, b'\r') => At::DataLf,
            (At::DataLf, b'\n') => At::SizeStart,
            (At::TrailerStart, b'\r') => At::EndLf,
            (At::Trailer, b'\r') => At::TrailerLf,
            (At::TrailerStart | At::Trailer, _) => At::Trailer,
            (At::TrailerLf, b'\n') => At::TrailerStart,
            (At::EndLf, b'\n') => At::Head,
            _ => At::Off,
        };
        if self.at == At::Off {
            self.step_aside();
        }
    }

    fn head_byte(&mut self, b: u8) {
        self.head.push(b);
        let head = &self.head[..];
        let n = head.len();
        if !b"HTTP/1.".starts_with(&head[..n.min(7)]) || n > MAX_HEAD {
            return self.step_aside();
        }
        if !head.ends_with(b"\r\n\r\n") {
            return;
        }
        self.at = body_after(head);
        self.head.clear();
        if self.at == At::Off {
            self.step_aside();
        }
    }
}

/// How the body after a complete response head is framed (RFC 9112 §6.3), or `Off` for
/// anything the rechunker does not follow.
fn body_after(head: &[u8]) -> At {
    let mut headers = [httparse::EMPTY_HEADER; 96];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = response.parse(head) else {
        return At::Off;
    };
    match response.code {
        // Switching protocols: what follows is not HTTP.
        Some(101) | None => return At::Off,
        // An interim response, or one that never has a body: a head follows.
        Some(100..=199 | 204 | 304) => return At::Head,
        Some(_) => {}
    }
    let named = |name: &'static str| values(response.headers, name);
    if let Some(codings) = named("transfer-encoding").last() {
        // Chunked only when it is the last coding; any other ends the body at the close.
        let last = codings.rsplit(',').next().unwrap_or("").trim();
        return if last.eq_ignore_ascii_case("chunked") {
            At::SizeStart
        } else {
            At::Off
        };
    }
    let mut lengths = named("content-length")
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().parse::<u64>());
    match lengths.next() {
        Some(Ok(n)) if lengths.all(|m| m.as_ref().is_ok_and(|m| *m == n)) => {
            if n == 0 {
                At::Head
            } else {
                At::Fixed(n)
            }
        }
        // No length: the body runs to the close. A bad one: hyper's to judge.
        _ => At::Off,
    }
}

/// The values of every header called `name`.
fn values<'h>(headers: &'h [httparse::Header<'h>], name: &'static str) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("\u{fffd}"))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// One whole chunk of data at the start of `bytes`: its size line's length and its
/// data's; `None` if the bytes do not start with one (it is cut off, carries an
/// extension, or is the last chunk).
fn whole_chunk(bytes: &[u8]) -> Option<(usize, usize)> {
    let digits = bytes
        .iter()
        .take(16)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if digits == 0 || bytes.get(digits..digits + 2)? != b"\r\n" {
        return None;
    }
    let size = usize::from_str_radix(std::str::from_utf8(&bytes[..digits]).ok()?, 16).ok()?;
    let end = (digits + 2).checked_add(size)?;
    (size > 0 && bytes.get(end..end.checked_add(2)?)? == b"\r\n").then_some((digits + 2, size))
}

/// The longest run of whole chunks at the start of `bytes` whose data stays within
/// [`MAX_JOINED`], as each chunk's size line length and data length; returns the run's
/// length in bytes.
fn whole_chunks(bytes: &[u8], run: &mut Vec<(usize, usize)>) -> usize {
    run.clear();
    let (mut len, mut data) = (0, 0);
    while let Some((line, size)) = whole_chunk(&bytes[len..]) {
        if data + size as u64 > MAX_JOINED {
            break;
        }
        run.push((line, size));
        data += size as u64;
        len += line + size + 2;
    }
    len
}

/// Write the chunks of `run`, read at `r`, as one chunk at `w` (`w <= r`); returns where
/// writing ends.
///
/// Each chunk's data moves before the size line is written: the joined size line can be
/// longer than the first chunk's, and would overwrite its data. A move overwrites no
/// data not yet moved: the data written before chunk *i*+1 ends at least the first
/// chunk's size line and CRLF and chunk *i*+1's size line (8 bytes or more) before that
/// chunk's data starts, and the joined size line is at most 8 bytes. Size lines can be
/// overwritten, which is why the run was measured first.
fn join(buf: &mut [u8], r: usize, w: usize, run: &[(usize, usize)]) -> usize {
    let data: usize = run.iter().map(|(_, size)| size).sum();
    let line = format!("{data:x}\r\n");
    let mut out = w + line.len();
    let mut at = r;
    for &(head, size) in run {
        buf.copy_within(at + head..at + head + size, out);
        out += size;
        at += head + size + 2;
    }
    buf[w..w + line.len()].copy_from_slice(line.as_bytes());
    buf[out..out + 2].copy_from_slice(b"\r\n");
    out + 2
}

#[cfg(test)]
mod tests;
