#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;

/// Every read through one rechunker, as the connection hands them over.
fn through(rechunker: &mut Rechunker, reads: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for read in reads {
        let mut buf = read.to_vec();
        let n = rechunker.rewrite(&mut buf);
        assert!(n <= read.len(), "a read never grows");
        assert!(
            n > 0 || read.is_empty(),
            "a read that brought bytes still brings some"
        );
        out.extend_from_slice(&buf[..n]);
    }
    out
}

const CHUNKED: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

#[test]
fn whole_chunks_of_one_read_become_one() {
    let mut read = CHUNKED.to_vec();
    read.extend_from_slice(b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n");
    let out = through(&mut Rechunker::new(), &[&read]);
    let mut want = CHUNKED.to_vec();
    want.extend_from_slice(b"b\r\nhello world\r\n");
    assert_eq!(out, want);
}

#[test]
fn a_chunk_cut_off_by_the_read_ends_the_run_and_passes_as_it_came() {
    let mut r = Rechunker::new();
    let out = through(
        &mut r,
        &[
            CHUNKED,
            b"2\r\nab\r\n2\r\ncd\r\n3\r\nef",
            b"g\r\n2\r\nhi\r\n2\r\njk\r\n0\r\n\r\n",
        ],
    );
    let mut want = CHUNKED.to_vec();
    want.extend_from_slice(b"4\r\nabcd\r\n3\r\nefg\r\n4\r\nhijk\r\n0\r\n\r\n");
    assert_eq!(out, want);
    assert!(r.is_on(), "at the next head");
}

#[test]
fn a_joined_size_line_longer_than_the_first_does_not_overwrite_its_data() {
    // "1\r\n" then 4096 bytes in one chunk of "fff": the joined line "1000\r\n" is 3
    // bytes longer than the first chunk's, and the data behind it moves right.
    let mut read = CHUNKED.to_vec();
    read.extend_from_slice(b"1\r\nA\r\nfff\r\n");
    read.extend(std::iter::repeat_n(b'b', 0xfff));
    read.extend_from_slice(b"\r\n");
    let out = through(&mut Rechunker::new(), &[&read]);
    let mut want = CHUNKED.to_vec();
    want.extend_from_slice(b"1000\r\nA");
    want.extend(std::iter::repeat_n(b'b', 0xfff));
    want.extend_from_slice(b"\r\n");
    assert_eq!(out, want);
}

#[test]
fn each_response_of_a_kept_alive_connection_is_followed() {
    let mut r = Rechunker::new();
    let fixed = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n1\r\na\r\n1\r\nb";
    let mut second = CHUNKED.to_vec();
    second.extend_from_slice(b"1\r\nc\r\n1\r\nd\r\n0\r\nx-trailer: 1\r\n\r\n");
    let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    let mut third = CHUNKED.to_vec();
    third.extend_from_slice(b"1\r\ne\r\n1\r\nf\r\n");
    let out = through(&mut r, &[fixed, &second, interim, &third]);
    let mut want = fixed.to_vec();
    want.extend_from_slice(CHUNKED);
    want.extend_from_slice(b"2\r\ncd\r\n0\r\nx-trailer: 1\r\n\r\n");
    want.extend_from_slice(interim);
    want.extend_from_slice(CHUNKED);
    want.extend_from_slice(b"2\r\nef\r\n");
    assert_eq!(out, want, "the fixed body's chunk-like bytes are left alone");
}

#[test]
fn what_it_does_not_expect_turns_it_off_and_passes_unchanged() {
    let with = |head: &[u8], body: &[u8]| {
        let mut read = head.to_vec();
        read.extend_from_slice(body);
        read
    };
    let chunks = b"1\r\na\r\n1\r\nb\r\n";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "an extension",
            with(CHUNKED, b"1;x=y\r\na\r\n1\r\nb\r\n1\r\nc\r\n"),
        ),
        (
            "whitespace after a size",
            with(CHUNKED, b"1 \r\na\r\n1\r\nb\r\n1\r\nc\r\n"),
        ),
        ("a body to the close", with(b"HTTP/1.1 200 OK\r\n\r\n", chunks)),
        (
            "another coding last",
            with(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
                chunks,
            ),
        ),
        (
            "an upgrade",
            with(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n", chunks),
        ),
        (
            "lengths that disagree",
            with(
                b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
                chunks,
            ),
        ),
        ("not HTTP/1", with(b"\0\0\x12\x04\0\0\0\0\0", chunks)),
    ];
    for (what, read) in cases {
        let mut r = Rechunker::new();
        assert_eq!(
            through(&mut r, &[&read, chunks]),
            [&read[..], chunks].concat(),
            "{what}"
        );
        assert!(!r.is_on(), "{what}");
    }
    let mut r = Rechunker::new();
    r.on_write(b"HEAD /v1/models HTTP/1.1\r\n\r\n");
    let read = with(CHUNKED, chunks);
    assert_eq!(through(&mut r, &[&read]), read, "a HEAD request");
    let mut r = Rechunker::off();
    assert_eq!(through(&mut r, &[&read]), read, "HTTP/2");
}

/// One response of a generated connection.
#[derive(Debug, Clone)]
enum Response {
    Chunked {
        chunks: Vec<Vec<u8>>,
        odd: Option<usize>,
        trailers: Vec<String>,
    },
    Fixed(Vec<u8>),
    NoBody,
}

fn response() -> impl Strategy<Value = Response> {
    let data = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 1..40),
        1 => prop::collection::vec(any::<u8>(), 1..5000),
    ];
    prop_oneof![
        6 => (
            prop::collection::vec(data, 0..30),
            prop::option::weighted(0.1, 0..30usize),
            prop::collection::vec("[a-z]{1,8}: [a-z0-9]{0,8}", 0..2),
        )
            .prop_map(|(chunks, odd, trailers)| Response::Chunked { chunks, odd, trailers }),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Response::Fixed),
        1 => Just(Response::NoBody),
    ]
}

impl Response {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Chunked {
                chunks,
                odd,
                trailers,
            } => {
                out.extend_from_slice(CHUNKED);
                for (i, chunk) in chunks.iter().enumerate() {
                    // Now and then a chunk written in a way the rechunker steps aside for.
                    let ext = if *odd == Some(i) { ";ext=1" } else { "" };
                    out.extend_from_slice(format!("{:x}{ext}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                for t in trailers {
                    out.extend_from_slice(format!("{t}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
            Self::Fixed(body) => {
                out.extend_from_slice(
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                out.extend_from_slice(body);
            }
            Self::NoBody => out.extend_from_slice(b"HTTP/1.1 204 No Content\r\nx-a: b\r\n\r\n"),
        }
        out
    }

    /// Check that `got` starts with this response as a client would read it (the same
    /// head, body and trailers; any chunking) and return what follows it.
    fn read_from<'a>(&self, got: &'a [u8]) -> &'a [u8] {
        let whole = self.bytes();
        let Self::Chunked { chunks, trailers, .. } = self else {
            assert_eq!(&got[..whole.len()], &whole[..]);
            return &got[whole.len()..];
        };
        assert_eq!(&got[..CHUNKED.len()], CHUNKED);
        let mut rest = &got[CHUNKED.len()..];
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap(), 16).unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            body.extend_from_slice(&rest[..size]);
            assert_eq!(&rest[size..size + 2], b"\r\n");
            rest = &rest[size + 2..];
        }
        assert_eq!(body, chunks.concat(), "the body is the same");
        let tail: Vec<u8> = trailers
            .iter()
            .flat_map(|t| format!("{t}\r\n").into_bytes())
            .chain(*b"\r\n")
            .collect();
        assert_eq!(&rest[..tail.len()], &tail[..], "the trailers are the same");
        &rest[tail.len()..]
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Responses one after another on a connection, cut into reads anywhere: what comes
    /// out reads as the same responses, and whole chunks of a read are joined.
    #[test]
    fn any_responses_read_in_any_pieces_come_out_the_same(
        responses in prop::collection::vec(response(), 1..5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let wire: Vec<u8> = responses.iter().flat_map(Response::bytes).collect();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        at.extend([0, wire.len()]);
        at.sort_unstable();
        at.dedup();
        let reads: Vec<&[u8]> = at.windows(2).map(|w| &wire[w[0]..w[1]]).collect();
        let mut r = Rechunker::new();
        let out = through(&mut r, &reads);
        let mut rest = &out[..];
        for response in &responses {
            rest = response.read_from(rest);
        }
        prop_assert!(rest.is_empty());
        let odd = responses.iter().any(|r| matches!(r, Response::Chunked { odd: Some(_), .. }));
        prop_assert!(r.is_on() || odd, "only an odd chunk turns it off");
    }
}
