//! `canopy demo`: the real stack on one machine. It starts the Delivery Service on loopback
//! over an embedded SQLite database in a temporary directory, creates N clients each with its
//! own home (SQLite store), and drives a group's whole life through HTTP: KeyPackages
//! published and claimed, the add-everyone commit, Welcomes, messages, an update, a second
//! device of a user joining, a client restarting from its store mid-conversation, and a
//! removal. Every message must arrive exactly once and in order, and after every commit
//! every active member must hold the same epoch authenticator. Timings per operation.
//!
//! Of the N clients, `active` ones (creator included) join from the Welcome and talk; the
//! others are registered devices that are added to the group and receive its messages at the
//! DS, but do not process them (each would validate the whole tree; on other machines they
//! would).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::chat::Out;
use crate::chat::cmd;
use crate::chat::session::{Event, HomeConfig, Session};

/// Parameters of a run.
#[derive(Clone, Copy, Debug)]
pub struct DsDemoOptions {
    /// Clients in the group, creator included.
    pub members: u32,
    /// Application messages each active member sends.
    pub messages: u32,
    /// Clients that join and talk (creator included).
    pub active: u32,
    /// The cipher suite.
    pub suite: u16,
}

#[derive(Default)]
struct Timings(Vec<(&'static str, u64, Duration)>);

impl Timings {
    fn time<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let t = Instant::now();
        let out = f()?;
        self.add(what, t.elapsed());
        Ok(out)
    }

    fn add(&mut self, what: &'static str, took: Duration) {
        match self.0.iter_mut().find(|(w, _, _)| *w == what) {
            Some((_, n, total)) => {
                *n += 1;
                *total += took;
            }
            None => self.0.push((what, 1, took)),
        }
    }
}

fn bar(len: u64, what: &str, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:28} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

fn name(i: u32) -> String {
    format!("user{i:05}")
}

/// The messages an active member read, as `from: text`, in order.
fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(format!("{}: {}", m.from, m.text)),
            _ => None,
        })
        .collect()
}

fn agree(sessions: &mut [Session], group: &[u8]) -> anyhow::Result<()> {
    let mut first: Option<Vec<u8>> = None;
    for s in sessions.iter_mut() {
        let auth = s.client.group(group)?.epoch_authenticator().to_vec();
        match &first {
            None => first = Some(auth),
            Some(f) => ensure!(
                *f == auth,
                "{} disagrees on the epoch authenticator",
                s.config.device_id()
            ),
        }
    }
    Ok(())
}

/// Runs the demo, writing the report to `out`.
#[expect(
    clippy::indexing_slicing,
    reason = "`sessions` holds the `active` >= 2 sessions from registration until the final \
              removal; only indexes 0, 1 and 2 % len are used, and none after the last pop"
)]
pub fn run(opts: DsDemoOptions, out: &mut dyn Write, progress: bool) -> anyhow::Result<()> {
    if opts.members < 2 {
        bail!("a demo needs at least 2 members");
    }
    let active = opts.active.clamp(2, opts.members);
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let limits = canopy_ds::Limits {
        claims_per_minute: u32::MAX / 2,
        requests_per_second: u32::MAX / 2,
        ..canopy_ds::Limits::default()
    };
    let listen: SocketAddr = "127.0.0.1:0".parse()?;
    let ds = canopy_ds::spawn_sqlite(listen, &dir.path().join("ds.db"), limits)
        .context("starting the delivery service")?;
    writeln!(
        out,
        "delivery service on {} (SQLite in {})",
        ds.url(),
        dir.path().display()
    )?;
    let mut t = Timings::default();
    let mut sink = std::io::sink();
    let mut quiet = Out {
        json: true,
        w: &mut sink,
        progress: false,
    };
    let home = |i: u32| dir.path().join(name(i));
    let config = |i: u32| HomeConfig {
        server: ds.url(),
        user: name(i),
        device: "main".into(),
        suite: opts.suite,
    };

    // Every client: a home, registration, a KeyPackage (and a last-resort one).
    let b = bar(u64::from(opts.members), "clients register", progress);
    let mut sessions: Vec<Session> = Vec::new();
    for i in 0..opts.members {
        let mut s = t.time("create a client (home, store, key)", || {
            Session::init(&home(i), config(i))
        })?;
        t.time("register + publish KeyPackages", || {
            cmd::register::run(&mut s, 1, &mut quiet)
        })?;
        if i < active {
            sessions.push(s);
        }
        b.inc(1);
    }
    b.finish_and_clear();

    // The creator makes the group and adds everyone in one commit.
    let gname = "demo";
    t.time("create the group", || {
        cmd::create::run(&mut sessions[0], gname, &mut quiet)
    })?;
    let group = cmd::group_id(&sessions[0], gname);
    let users: Vec<String> = (1..opts.members).map(name).collect();
    t.time("invite everyone (claims + commit + Welcome)", || {
        cmd::invite::invite(&mut sessions[0], &group, &users, &mut quiet)
    })?;
    let b = bar(u64::from(active - 1), "active members join", progress);
    for s in sessions.iter_mut().skip(1) {
        let events = t.time("join from the Welcome (read)", || s.catch_up(0, &|_| {}))?;
        ensure!(
            events.iter().any(|e| matches!(e, Event::Joined { .. })),
            "{} did not join",
            s.config.device_id()
        );
        b.inc(1);
    }
    b.finish_and_clear();
    agree(&mut sessions, &group)?;

    // Messages: each active member sends, every other active member reads them once, in order.
    let mut sent: Vec<(usize, String)> = Vec::new();
    let mut expected: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut read: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let b = bar(
        u64::from(opts.messages) * u64::from(active),
        "messages",
        progress,
    );
    for round in 0..opts.messages {
        for (i, s) in sessions.iter_mut().enumerate() {
            let text = format!("message {round} from {i}");
            let mut events = Vec::new();
            t.time("send a message", || s.send(&group, &text, &mut events))?;
            read.entry(i).or_default().extend(texts(&events));
            sent.push((i, format!("{}: {text}", s.config.device_id())));
            b.inc(1);
        }
    }
    b.finish_and_clear();
    for (i, s) in sessions.iter_mut().enumerate() {
        let events = t.time("read what arrived (per member)", || s.catch_up(0, &|_| {}))?;
        read.entry(i).or_default().extend(texts(&events));
        expected.insert(
            i,
            sent.iter()
                .filter(|(w, _)| *w != i)
                .map(|(_, m)| m.clone())
                .collect(),
        );
    }
    ensure!(read == expected, "messages lost, duplicated or reordered");
    writeln!(
        out,
        "{} messages, each read once and in order by every other active member",
        sent.len()
    )?;

    // An update by the second member.
    t.time("update commit (create + post)", || {
        let g = group.clone();
        let mut events = Vec::new();
        sessions[1].commit_with_retry(&g, &[], |c| Ok(c.update(&g)?), &mut events)
    })?;
    for s in sessions.iter_mut() {
        t.time("process a commit (read)", || s.catch_up(0, &|_| {}))?;
    }
    agree(&mut sessions, &group)?;

    // A second device of the creator's user joins; it reads new messages only.
    let phone_home = dir.path().join("phone");
    let mut phone = Session::init(
        &phone_home,
        HomeConfig {
            device: "phone".into(),
            ..config(0)
        },
    )?;
    t.time("add a second device (endorse + register)", || {
        let endorsement = sessions[0]
            .ds
            .sign(&canopy_ds_api::auth::endorsement_content(
                &phone.config.device_id(),
                phone.config.suite,
                &phone.public_key()?,
            ))?;
        let request = canopy_ds_api::types::AddDeviceRequest {
            device: canopy_ds_api::DeviceId::new(&phone.config.user, &phone.config.device)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            suite: phone.config.suite,
            signature_key: canopy_ds_api::hex::encode(&phone.public_key()?),
            endorsed_by: canopy_ds_api::DeviceId::new(&sessions[0].config.user, "main")
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            endorsement: canopy_ds_api::hex::encode(&endorsement),
        };
        let _: canopy_ds_api::types::DeviceInfo = phone.ds.json(
            "POST",
            &format!("/v1/users/{}/devices", phone.config.user),
            &request,
        )?;
        cmd::register::publish(&mut phone, 1, &mut quiet)
    })?;
    t.time("add the device to the group", || {
        cmd::device::sync(&mut sessions[0], &mut quiet)
    })?;
    let events = t.time("join from the Welcome (read)", || {
        phone.catch_up(0, &|_| {})
    })?;
    ensure!(
        texts(&events).is_empty(),
        "the new device read messages from before it joined"
    );
    for s in sessions.iter_mut().skip(1) {
        s.catch_up(0, &|_| {})?;
    }
    let mut sent_after = Vec::new();
    sessions[1].send(&group, "hello, new device", &mut Vec::new())?;
    sent_after.push(format!(
        "{}: hello, new device",
        sessions[1].config.device_id()
    ));
    let events = phone.catch_up(0, &|_| {})?;
    ensure!(
        texts(&events) == sent_after,
        "the new device did not read the new message once"
    );

    // A client restarts from its store mid-conversation.
    let restarted_home = sessions[1].home.clone();
    let other = 2 % sessions.len();
    sessions[other].send(&group, "while you were away", &mut Vec::new())?;
    let s = t.time("restart a client from its store", || {
        drop(sessions.remove(1));
        Session::open(&restarted_home)
    })?;
    sessions.insert(1, s);
    let events = sessions[1].catch_up(0, &|_| {})?;
    ensure!(
        texts(&events).len() == 1,
        "the restarted client read {} messages, not 1",
        texts(&events).len()
    );

    // The creator removes the last active member.
    let last = sessions
        .last()
        .map(|s| s.config.user.clone())
        .unwrap_or_default();
    t.time("remove commit (create + post)", || {
        cmd::remove::run(
            &mut sessions[0],
            &String::from_utf8_lossy(&group),
            std::slice::from_ref(&last),
            &mut quiet,
        )
    })?;
    let mut removed_seen = false;
    for s in sessions.iter_mut() {
        let events = t.time("process a commit (read)", || s.catch_up(0, &|_| {}))?;
        removed_seen |= events.iter().any(|e| matches!(e, Event::Removed { .. }));
    }
    ensure!(
        removed_seen || active == 2,
        "the removed member was not told"
    );
    let _ = sessions.pop();
    phone.catch_up(0, &|_| {})?;
    agree(&mut sessions, &group)?;

    writeln!(
        out,
        "all {} active members agree on the epoch authenticator after every commit",
        sessions.len()
    )?;
    writeln!(
        out,
        "{} clients, group of {} devices at the end",
        opts.members + 1,
        opts.members
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<46} {:>8} {:>12} {:>12}",
        "operation", "count", "mean", "total"
    )?;
    for (what, n, total) in &t.0 {
        let mean = *total / u32::try_from(*n).unwrap_or(u32::MAX).max(1);
        writeln!(
            out,
            "{what:<46} {n:>8} {:>12} {:>12}",
            format!("{mean:.2?}"),
            format!("{total:.2?}")
        )?;
    }
    drop(ds);
    Ok(())
}
