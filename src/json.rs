//! Writing JSON bodies: into a buffer each worker thread reuses, with timestamps written
//! directly rather than through `Display` (docs/PERFORMANCE.md, fourth round).

use std::cell::RefCell;

use actix_web::body::BoxBody;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, Responder, ResponseError};
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

use crate::error::ApiError;

/// What a worker's buffer starts with: a page of 50 schools is about 24 KB.
const INITIAL_CAPACITY: usize = 32 * 1024;
/// A buffer grown past this by a large body (a change-feed page) is given back afterwards.
const KEPT_CAPACITY: usize = 256 * 1024;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `value` as JSON. Written into the thread's buffer, then copied once into a body of exactly
/// its size: a body grown from empty is reallocated and copied at every doubling, which cost a
/// page of 50 schools more than the copy (and made the allocator consolidate its free lists).
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Bytes> {
    BUFFER.with(|cell| {
        let Ok(mut buffer) = cell.try_borrow_mut() else {
            // Only if serialising a value asked for another body on the same thread.
            return serde_json::to_vec(value).map(Bytes::from);
        };
        buffer.clear();
        if buffer.capacity() < INITIAL_CAPACITY {
            buffer.reserve(INITIAL_CAPACITY);
        }
        let written = serde_json::to_writer(&mut *buffer, value);
        let body = written.map(|()| Bytes::copy_from_slice(&buffer));
        if buffer.capacity() > KEPT_CAPACITY {
            *buffer = Vec::new();
        }
        body
    })
}

/// A JSON response with `status`: the builder's headers and `value` as the body.
pub fn respond<T: Serialize + ?Sized>(mut builder: HttpResponseBuilder, value: &T) -> HttpResponse {
    match to_bytes(value) {
        Ok(body) => builder.insert_header(ContentType::json()).body(body),
        Err(error) => ApiError::internal(anyhow::Error::new(error).context("writing a JSON body"))
            .error_response(),
    }
}

/// `200 OK` with `T` as JSON: what `actix_web::web::Json` answers, written by [`to_bytes`].
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: Serialize> Responder for Json<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        respond(HttpResponse::Ok(), &self.0)
    }
}

/// Serialises a timestamp as chrono does (RFC 3339, `Z`, a fraction of 3, 6 or 9 digits only
/// when not zero), without going through `Display`: serde_json escapes every piece a
/// formatter writes, which made the two timestamps of a school a quarter of its
/// serialisation. Use with `#[serde(serialize_with = "crate::json::timestamp")]`.
pub fn timestamp<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0u8; 30];
    match write_timestamp(time, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => time.serialize(serializer),
    }
}

/// [`timestamp`] for an optional one (`null` when absent).
pub fn optional_timestamp<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => timestamp(time, serializer),
        None => serializer.serialize_none(),
    }
}

/// Writes `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`; `None` for a year outside
/// 0000-9999, which chrono writes with a sign.
fn write_timestamp<'a>(time: &DateTime<Utc>, buffer: &'a mut [u8; 30]) -> Option<&'a str> {
    /// Writes `value` as `width` digits at `at`; returns where the next byte goes.
    fn digits(buffer: &mut [u8; 30], at: usize, value: u32, width: usize) -> usize {
        let mut value = value;
        for slot in buffer[at..at + width].iter_mut().rev() {
            // `value % 10` is one digit: the cast cannot truncate.
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at + width
    }
    let year = u32::try_from(time.year()).ok().filter(|y| *y <= 9999)?;
    let (mut second, mut nano) = (time.second(), time.nanosecond());
    if nano >= 1_000_000_000 {
        // A leap second, as chrono writes it: second 60.
        second += 1;
        nano -= 1_000_000_000;
    }
    let mut at = digits(buffer, 0, year, 4);
    let fields = [
        (b'-', time.month()),
        (b'-', time.day()),
        (b'T', time.hour()),
        (b':', time.minute()),
        (b':', second),
    ];
    for (separator, value) in fields {
        buffer[at] = separator;
        at = digits(buffer, at + 1, value, 2);
    }
    let fraction = if nano == 0 {
        None
    } else if nano % 1_000_000 == 0 {
        Some((nano / 1_000_000, 3))
    } else if nano % 1_000 == 0 {
        Some((nano / 1_000, 6))
    } else {
        Some((nano, 9))
    };
    if let Some((value, width)) = fraction {
        buffer[at] = b'.';
        at = digits(buffer, at + 1, value, width);
    }
    buffer[at] = b'Z';
    std::str::from_utf8(&buffer[..=at]).ok()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn ours(time: DateTime<Utc>) -> String {
        #[derive(Serialize)]
        struct Wrapped(#[serde(serialize_with = "timestamp")] DateTime<Utc>);
        serde_json::to_string(&Wrapped(time)).unwrap()
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 11, 23, 19, 23, 0).unwrap();
        let mut times = vec![
            base,
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 1, 12, 0, 0).unwrap(),
            // A leap second.
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        ];
        for nanos in [
            1,
            999,
            1_000,
            123_456_000,
            123_000_000,
            123_456_789,
            999_999_999,
        ] {
            times.push(base + chrono::Duration::nanoseconds(nanos));
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let micros = (seed % 300_000_000_000_000) as i64;
            times.push(Utc.timestamp_micros(micros).unwrap());
        }
        for time in times {
            assert_eq!(
                ours(time),
                serde_json::to_string(&time).unwrap(),
                "{time:?}"
            );
        }
        assert_eq!(ours(base), r#""2026-11-23T19:23:00Z""#);
    }

    #[test]
    fn bodies_are_the_same_json_and_the_buffer_is_reused() {
        let small = serde_json::json!({"a": [1, 2, 3], "b": "ñandú \"quoted\""});
        assert_eq!(
            to_bytes(&small).unwrap(),
            serde_json::to_vec(&small).unwrap()
        );
        // A body larger than the buffer keeps: written whole, then the buffer is given back.
        let large = vec!["x".repeat(1000); 400];
        let body = to_bytes(&large).unwrap();
        assert_eq!(body, serde_json::to_vec(&large).unwrap());
        BUFFER.with_borrow(|buffer| assert!(buffer.capacity() <= KEPT_CAPACITY));
        assert_eq!(
            to_bytes(&small).unwrap(),
            serde_json::to_vec(&small).unwrap()
        );
    }
}
