//! `canopy chat GROUP`: an interactive session: lines typed are sent, incoming messages are
//! shown as they arrive (long poll), until end of input or `/quit`.

use std::sync::mpsc;
use std::time::Duration;

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command, reading lines from `input`.
pub fn run(
    session: &mut Session,
    group: &str,
    input: Box<dyn std::io::BufRead + Send>,
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let (tx, rx) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(input) {
            match line {
                Ok(l) => {
                    if tx.send(Some(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });
    out.say(
        &format!(
            "chatting in {}; type a line to send it, /quit to leave the chat",
            String::from_utf8_lossy(&id)
        ),
        &serde_json::json!({"chat": group}),
    )?;
    loop {
        let events = session.catch_up(1, &|_| {})?;
        out.events(&events)?;
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(Some(line)) if line.trim() == "/quit" => return Ok(()),
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => {
                    let mut events = Vec::new();
                    session.send(&id, &line, &mut events)?;
                    out.events(&events)?;
                }
                Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // End of input: show what is left, then stop.
                    let events = session.catch_up(0, &|_| {})?;
                    return out.events(&events);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
    }
}
