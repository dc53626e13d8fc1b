//! The chat commands of `canopy`: a home per device, the Delivery Service over HTTP, and
//! every command a person needs to talk in MLS groups. Synchronous (STYLE.md B.3): only
//! `canopy serve` starts a runtime, inside `canopy-ds`.

pub mod cmd;
pub mod ds;
pub mod session;

use std::io::Write;

use serde::Serialize;

use session::Event;

/// Where a command writes: human-readable lines, or one JSON value per line (`--json`).
pub struct Out<'a> {
    /// `--json`.
    pub json: bool,
    /// The writer.
    pub w: &'a mut dyn Write,
    /// Whether to draw progress bars (a terminal, not `--json`).
    pub progress: bool,
}

impl Out<'_> {
    /// A line for people, or `value` for scripts.
    pub fn say(&mut self, text: &str, value: &impl Serialize) -> anyhow::Result<()> {
        if self.json {
            writeln!(self.w, "{}", serde_json::to_string(value)?)?;
        } else {
            writeln!(self.w, "{text}")?;
        }
        self.w.flush()?;
        Ok(())
    }

    /// What happened while reading.
    pub fn events(&mut self, events: &[Event]) -> anyhow::Result<()> {
        for e in events {
            let text = match e {
                Event::Message(m) => format!("[{}] {}: {}", m.group, m.from, m.text),
                Event::Joined { group } => format!("[{group}] joined"),
                Event::Changed { group, epoch } => {
                    format!("[{group}] membership or keys changed (epoch {epoch})")
                }
                Event::Removed { group } => format!("[{group}] you were removed"),
                Event::Proposed { group } => format!("[{group}] a change was proposed"),
                Event::Skipped { group, reason } => {
                    format!("[{group}] skipped a message: {reason}")
                }
            };
            self.say(&text, e)?;
        }
        Ok(())
    }

    /// A progress bar of `len` steps (hidden unless drawing is on).
    pub fn bar(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        if !self.progress || len < 20 {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style);
        }
        bar.set_message(what.to_owned());
        bar
    }
}
