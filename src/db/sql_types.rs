//! Column types both backends share: UUIDs and UTC timestamps.
//!
//! PostgreSQL stores them natively (`uuid`, `timestamptz`); SQLite as text, UUIDs hyphenated
//! and timestamps in a fixed-width UTC form (`2026-11-23T19:23:00.123456Z`) so that text order is
//! time order. Timestamps keep microseconds, PostgreSQL's precision, so a value reads back equal
//! on both backends.

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType};
use diesel::sqlite::Sqlite;

use super::connection::MultiBackend;

/// SQL type of UUID columns.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Uuid;

/// SQL type of timestamp columns (always UTC).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcTimestamp;

/// A UUID in a database column.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    serde::Serialize,
)]
#[serde(transparent)]
#[diesel(sql_type = Uuid)]
pub struct DbUuid(pub uuid::Uuid);

/// A UTC instant in a database column, truncated to microseconds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
    serde::Serialize,
)]
#[serde(transparent)]
#[diesel(sql_type = UtcTimestamp)]
pub struct DbTime(DateTime<Utc>);

impl From<uuid::Uuid> for DbUuid {
    fn from(id: uuid::Uuid) -> Self {
        DbUuid(id)
    }
}

impl From<DbUuid> for uuid::Uuid {
    fn from(id: DbUuid) -> Self {
        id.0
    }
}

impl DbTime {
    pub fn new(time: DateTime<Utc>) -> Self {
        let micros = time.timestamp_micros();
        DbTime(Utc.timestamp_micros(micros).single().unwrap_or(time))
    }

    pub fn now() -> Self {
        DbTime::new(Utc::now())
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }

    fn sqlite_text(self) -> String {
        self.0.format(SQLITE_TIME_FORMAT).to_string()
    }
}

const SQLITE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01T00:00:00Z.
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

// --- UUID ---------------------------------------------------------------------------------

impl ToSql<Uuid, Pg> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Uuid, Pg> for DbUuid {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(DbUuid(uuid::Uuid::from_slice(value.as_bytes())?))
    }
}

impl ToSql<Uuid, Sqlite> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Uuid, Sqlite> for DbUuid {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
        Ok(DbUuid(uuid::Uuid::try_parse(&text)?))
    }
}

impl HasSqlType<Uuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Uuid>(lookup)
    }
}

impl ToSql<Uuid, MultiBackend> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Uuid, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Uuid, MultiBackend> for DbUuid {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<DbUuid, Uuid>()
    }
}

// --- Timestamps ---------------------------------------------------------------------------

impl ToSql<UtcTimestamp, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let micros = self.0.timestamp_micros() - PG_EPOCH_OFFSET_MICROS;
        out.write_all(&micros.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTimestamp, Pg> for DbTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let bytes: [u8; 8] = value
            .as_bytes()
            .try_into()
            .map_err(|_| "a timestamptz is 8 bytes")?;
        let micros = i64::from_be_bytes(bytes) + PG_EPOCH_OFFSET_MICROS;
        let time = Utc
            .timestamp_micros(micros)
            .single()
            .ok_or("timestamptz out of range")?;
        Ok(DbTime(time))
    }
}

impl ToSql<UtcTimestamp, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.sqlite_text());
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTimestamp, Sqlite> for DbTime {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
        let time = DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc);
        Ok(DbTime::new(time))
    }
}

impl HasSqlType<UtcTimestamp> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<UtcTimestamp>(lookup)
    }
}

impl ToSql<UtcTimestamp, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((UtcTimestamp, self));
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTimestamp, MultiBackend> for DbTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<DbTime, UtcTimestamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_sorts_as_time() {
        let early = DbTime::new(Utc.timestamp_opt(1_700_000_000, 5_000).unwrap());
        let late = DbTime::new(Utc.timestamp_opt(1_700_000_000, 900_000_000).unwrap());
        let much_later = DbTime::new(Utc.timestamp_opt(4_000_000_000, 0).unwrap());
        assert!(early.sqlite_text() < late.sqlite_text());
        assert!(late.sqlite_text() < much_later.sqlite_text());
        assert_eq!(early.sqlite_text(), "2023-11-14T22:13:20.000005Z");
    }

    #[test]
    fn times_keep_microseconds() {
        let t = DbTime::new(Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap());
        assert_eq!(t.get().timestamp_subsec_nanos(), 123_456_000);
    }
}
