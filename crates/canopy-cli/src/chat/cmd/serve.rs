//! `canopy serve`: the Delivery Service, on SQLite (a file path) or PostgreSQL (a
//! `postgres://` URL).

use std::net::SocketAddr;

use canopy_ds::Database;

use crate::chat::Out;

/// Runs the Delivery Service until interrupted (HTTPS if `tls` is given).
pub fn run(
    listen: SocketAddr,
    db: &str,
    tls: Option<&canopy_ds::TlsFiles>,
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let database = Database::parse(db);
    let shown = match &database {
        Database::Sqlite(p) => format!("SQLite {}", p.display()),
        Database::Postgres(_) => "PostgreSQL".to_owned(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    canopy_ds::serve_blocking(
        listen,
        &database,
        tls,
        canopy_ds::Limits::default(),
        |addr| {
            let _ = writeln!(
                out.w,
                "canopy delivery service listening on {scheme}://{addr} ({shown})"
            );
            let _ = out.w.flush();
        },
    )
    .map_err(|e| anyhow::anyhow!("serving on {listen} with {shown}: {e}"))
}
