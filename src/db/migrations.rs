//! Migrations, one folder per backend with the same names, embedded in the binary.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::connection::DbConnection;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies the pending migrations; returns the names of those applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Pg(conn) => conn.run_pending_migrations(POSTGRES)?,
        DbConnection::Sqlite(conn) => conn.run_pending_migrations(SQLITE)?,
    };
    Ok(applied
        .into_iter()
        .map(|version| version.to_string())
        .collect())
}
