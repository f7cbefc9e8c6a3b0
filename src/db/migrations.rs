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

#[derive(diesel::QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Checks, reading only, that every migration of this build is applied: on a read replica,
/// which follows the primary's schema and cannot be migrated itself. Diesel's own check
/// (`applied_migrations`) first creates its table if missing, which a replica refuses.
pub fn check_applied(conn: &mut DbConnection) -> anyhow::Result<()> {
    use diesel::RunQueryDsl;
    use diesel::migration::MigrationSource;

    let expected: Vec<String> = match conn {
        DbConnection::Pg(_) => versions(MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)),
        DbConnection::Sqlite(_) => versions(MigrationSource::<diesel::sqlite::Sqlite>::migrations(
            &SQLITE,
        )),
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    let applied: std::collections::HashSet<String> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<AppliedVersion>(conn)?
            .into_iter()
            .map(|row| row.version)
            .collect();
    let missing: Vec<&str> = expected
        .iter()
        .filter(|version| !applied.contains(*version))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the read replica lacks the migrations {} (it lags behind the primary, or follows \
             another database)",
            missing.join(", ")
        )
    }
}

fn versions<DB: diesel::backend::Backend>(
    migrations: Result<Vec<Box<dyn diesel::migration::Migration<DB>>>, MigrationError>,
) -> Result<Vec<String>, MigrationError> {
    Ok(migrations?
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect())
}
