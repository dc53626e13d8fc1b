//! `canopy serve`: the Delivery Service, on SQLite (a file path) or PostgreSQL (a
//! `postgres://` URL).

use std::net::SocketAddr;

use canopy_ds::Database;

use crate::chat::Out;

/// Runs the Delivery Service until interrupted.
pub fn run(listen: SocketAddr, db: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let database = Database::parse(db);
    let shown = match &database {
        Database::Sqlite(p) => format!("SQLite {}", p.display()),
        Database::Postgres(_) => "PostgreSQL".to_owned(),
    };
    canopy_ds::serve_blocking(listen, &database, canopy_ds::Limits::default(), |addr| {
        let _ = writeln!(
            out.w,
            "canopy delivery service listening on http://{addr} ({shown})"
        );
        let _ = out.w.flush();
    })
    .map_err(|e| anyhow::anyhow!("serving on {listen} with {shown}: {e}"))
}
