//! `canopy serve`: the Delivery Service, on SQLite.

use std::net::SocketAddr;
use std::path::Path;

use crate::chat::Out;

/// Runs the Delivery Service until interrupted.
pub fn run(listen: SocketAddr, db: &Path, out: &mut Out<'_>) -> anyhow::Result<()> {
    if db.to_string_lossy().starts_with("postgres") {
        anyhow::bail!("PostgreSQL is not supported yet: give --db a SQLite file path");
    }
    let mut bound = None;
    let result =
        canopy_ds::serve_sqlite_blocking(listen, db, canopy_ds::Limits::default(), |addr| {
            bound = Some(addr);
            let _ = writeln!(
                out.w,
                "canopy delivery service listening on http://{addr} (database {})",
                db.display()
            );
            let _ = out.w.flush();
        });
    result.map_err(|e| anyhow::anyhow!("serving on {listen}: {e}"))
}
