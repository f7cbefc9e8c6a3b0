//! Text files as people save them: UTF-8 (with or without a byte-order mark) or, when the
//! bytes are not UTF-8, Windows-1252 (the encoding Excel and many Spanish-language systems
//! still write; it includes ISO-8859-1's letters, so `AÑO` and `DESERCIÓN` come out right).
//! Streamed: the choice is made on the first 64 KiB and memory stays flat however long the file.

use std::io::{self, Read};

use encoding_rs::WINDOWS_1252;

/// How much of the start of a file decides its encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// The encoding found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

/// A reader that yields UTF-8 whatever the file's encoding of the two above.
pub struct Utf8Reader<R> {
    inner: R,
    encoding: Encoding,
    /// Bytes read for the sniff, not yet handed out (already UTF-8).
    pending: Vec<u8>,
    at: usize,
}

impl<R: Read> Utf8Reader<R> {
    /// Reads the start of `inner` to decide its encoding (a UTF-8 byte-order mark is dropped).
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut start = Vec::with_capacity(SNIFF_BYTES);
        (&mut inner)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut start)?;
        let ended = start.len() < SNIFF_BYTES;
        let encoding = match std::str::from_utf8(&start) {
            Ok(_) => Encoding::Utf8,
            // Cut in the middle of a character by the sniff's limit: still UTF-8.
            Err(e) if e.error_len().is_none() && !ended => Encoding::Utf8,
            Err(_) => Encoding::Windows1252,
        };
        let pending = match encoding {
            Encoding::Utf8 => {
                if start.starts_with(b"\xEF\xBB\xBF") {
                    start.drain(..3);
                }
                start
            }
            Encoding::Windows1252 => decode(&start),
        };
        Ok(Self {
            inner,
            encoding,
            pending,
            at: 0,
        })
    }

    /// The encoding the file was read as.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }
}

fn decode(bytes: &[u8]) -> Vec<u8> {
    // Windows-1252 is one byte per character: chunks decode independently.
    WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
        .into_bytes()
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.pending.len() {
            self.pending.clear();
            self.at = 0;
            match self.encoding {
                Encoding::Utf8 => return self.inner.read(out),
                Encoding::Windows1252 => {
                    let mut chunk = vec![0; out.len().clamp(1, SNIFF_BYTES)];
                    let n = self.inner.read(&mut chunk)?;
                    if n == 0 {
                        return Ok(0);
                    }
                    self.pending = decode(&chunk[..n]);
                }
            }
        }
        let available = &self.pending[self.at..];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (String, Encoding) {
        let mut reader = Utf8Reader::new(bytes).expect("a reader");
        let encoding = reader.encoding();
        let mut text = String::new();
        reader.read_to_string(&mut text).expect("UTF-8 out");
        (text, encoding)
    }

    #[test]
    fn utf8_passes_through_without_its_byte_order_mark() {
        assert_eq!(
            read_all("\u{FEFF}AÑO,DESERCIÓN\n".as_bytes()),
            ("AÑO,DESERCIÓN\n".to_owned(), Encoding::Utf8)
        );
        assert_eq!(read_all(b"plain\n"), ("plain\n".to_owned(), Encoding::Utf8));
    }

    #[test]
    fn windows_1252_is_decoded() {
        // "AÑO,DESERCIÓN,€" as Excel saves it.
        let bytes = b"A\xD1O,DESERCI\xD3N,\x80\n";
        assert_eq!(
            read_all(bytes),
            ("AÑO,DESERCIÓN,€\n".to_owned(), Encoding::Windows1252)
        );
    }

    #[test]
    fn a_long_windows_1252_file_streams_past_the_sniff() {
        let mut bytes = b"A\xD1O\n".to_vec();
        for _ in 0..100_000 {
            bytes.extend_from_slice(b"Bogot\xE1,1\n");
        }
        let (text, encoding) = read_all(&bytes);
        assert_eq!(encoding, Encoding::Windows1252);
        assert_eq!(text.matches("Bogotá,1\n").count(), 100_000);
    }

    #[test]
    fn utf8_cut_by_the_sniff_limit_stays_utf8() {
        let mut text = "a".repeat(SNIFF_BYTES - 1);
        text.push('Ñ'); // two bytes: the first at the limit, the second after it
        text.push_str(&"b".repeat(10));
        assert_eq!(read_all(text.as_bytes()), (text.clone(), Encoding::Utf8));
    }
}
