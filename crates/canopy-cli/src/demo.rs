//! `canopy demo`: a whole group life in one process, with timings per operation.
//!
//! N members publish KeyPackages; the creator adds all of them in one commit; a sample of
//! them (`--active`, spread over the tree) join from the Welcome and keep full state, and the
//! rest stay members whose state is not simulated (a real deployment has them on other
//! machines, and simulating 50,000 full states would need 50,000 copies of the tree). The
//! active members exchange application messages, update their leaves and remove members;
//! after every commit every active member must hold the same epoch authenticator.

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use canopy_core::LeafIndex;
use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::{CommitOptions, Env, Group, Merged, ProcessedMessage, StagedCommit};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage, Welcome};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use rayon::prelude::*;

/// Parameters of a demo run.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    /// Members of the group, creator included.
    pub members: u32,
    /// Application messages each active member sends.
    pub messages: u32,
    /// Members simulated with full state (creator included).
    pub active: u32,
    /// The cipher suite.
    pub suite: CipherSuite,
}

/// Timings of one kind of operation.
#[derive(Default)]
struct Timing {
    count: u64,
    total: Duration,
}

/// Every timing of the run, in the order operations first happened.
#[derive(Default)]
struct Timings(Vec<(&'static str, Timing)>);

impl Timings {
    fn record(&mut self, what: &'static str, took: Duration) {
        if let Some((_, t)) = self.0.iter_mut().find(|(w, _)| *w == what) {
            t.count = t.count.saturating_add(1);
            t.total = t.total.saturating_add(took);
        } else {
            self.0.push((
                what,
                Timing {
                    count: 1,
                    total: took,
                },
            ));
        }
    }

    fn time<T>(&mut self, what: &'static str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let value = f();
        self.record(what, start.elapsed());
        value
    }
}

/// A simulated member with full state.
struct Active {
    name: String,
    group: Group,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs the demo, writing progress and the summary to `out`.
///
/// # Errors
/// If any group operation fails or members disagree (a bug), or writing fails.
pub fn run(opts: DemoOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if opts.members < 2 {
        bail!("a demo needs at least 2 members");
    }
    let provider = RustCryptoProvider::new();
    let validator = BasicCredentialValidator::new();
    let env = Env::new(&provider, &validator).at(now());
    let suite = opts.suite;
    let ops = provider
        .suite(suite)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("cipher suite")?;
    let mut timings = Timings::default();
    let started = Instant::now();
    writeln!(
        out,
        "canopy demo: {} members, {} active, suite 0x{:04x}, {} messages per active member",
        opts.members,
        opts.active.min(opts.members),
        suite.0,
        opts.messages
    )?;

    // 1. KeyPackages, generated on every core.
    let joiners = opts.members.saturating_sub(1);
    let start = Instant::now();
    let lifetime = Lifetime {
        not_before: now().saturating_sub(3600),
        not_after: now().saturating_add(90 * 24 * 3600),
    };
    let step = (joiners / 10).max(1);
    let mut packages: Vec<(KeyPackageBundle, Arc<dyn Signer>)> =
        Vec::with_capacity(usize::try_from(joiners)?);
    let mut done = 0u32;
    while done < joiners {
        let batch = step.min(joiners - done);
        let made: Vec<_> = (done..done + batch)
            .into_par_iter()
            .map(|i| {
                let signer = ops.signature_generate_key_pair()?;
                let leaf = LeafNodeParams::new(credential(i + 1), suite);
                let bundle = create_key_package(
                    &provider,
                    suite,
                    &KeyPackageParams::new(leaf, lifetime),
                    &signer,
                )?;
                Ok::<_, anyhow::Error>((bundle, Arc::new(signer) as Arc<dyn Signer>))
            })
            .collect::<Result<_, _>>()?;
        packages.extend(made);
        done += batch;
        if joiners >= 1000 {
            writeln!(out, "  key packages: {done}/{joiners}")?;
        }
    }
    timings.record("generate KeyPackage (all cores)", start.elapsed());

    // 2. The creator adds everyone in one commit.
    let creator_signer = ops.signature_generate_key_pair()?;
    let mut creator = Group::create(
        &env,
        CreateParams::new(
            suite,
            b"canopy demo group".to_vec(),
            &LeafNodeParams::new(credential(0), suite),
            Arc::new(creator_signer),
        ),
    )?;
    writeln!(out, "adding {joiners} members in one commit ...")?;
    let add = CommitOptions {
        add: packages
            .iter()
            .map(|(b, _)| b.key_package.clone())
            .collect(),
        ..CommitOptions::default()
    };
    let output = timings.time("add-everyone commit + Welcome", || {
        creator.commit(&env, add)
    })?;
    let echo = creator.process_message(&env, &output.commit)?;
    if !matches!(echo, ProcessedMessage::OwnCommit) {
        bail!("the creator did not recognise its own commit");
    }
    let _merged: Merged = creator.merge_pending_commit()?;
    let welcome_bytes = output.welcome.context("no Welcome")?;
    writeln!(
        out,
        "  commit {} bytes, Welcome {} bytes",
        output.commit.len(),
        welcome_bytes.len()
    )?;
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&welcome_bytes)? else {
        bail!("the Welcome is not a Welcome");
    };

    // 3. A spread-out sample joins from the Welcome.
    let active_joiners = opts
        .active
        .clamp(1, opts.members)
        .saturating_sub(1)
        .min(joiners);
    let picks = spread(joiners, active_joiners);
    let mut active = vec![Active {
        name: "member 0".into(),
        group: creator,
    }];
    let mut by_index: BTreeMap<u32, (KeyPackageBundle, Arc<dyn Signer>)> = packages
        .into_iter()
        .enumerate()
        .filter(|(i, _)| u32::try_from(*i).is_ok_and(|i| picks.contains(&i)))
        .map(|(i, p)| (u32::try_from(i).unwrap_or(u32::MAX), p))
        .collect();
    for i in picks {
        let (bundle, signer) = by_index.remove(&i).context("picked member")?;
        let group = timings.time("join from the Welcome", || {
            join(&env, &welcome, &bundle, signer)
        })?;
        active.push(Active {
            name: format!("member {}", i + 1),
            group,
        });
    }
    check_agreement(&active, "after the add")?;
    writeln!(
        out,
        "{} active members joined; epoch {}",
        active.len(),
        epoch(&active)
    )?;

    // 4. Application messages.
    for round in 0..opts.messages {
        for sender in 0..active.len() {
            let from = active.get_mut(sender).context("sender")?;
            let text = format!("message {round} from {}", from.name);
            let message = timings.time("encrypt 1 application message", || {
                from.group.encrypt_application(&env, text.as_bytes(), b"")
            })?;
            for (j, receiver) in active.iter_mut().enumerate() {
                if j == sender {
                    continue;
                }
                let got = timings.time("decrypt 1 application message", || {
                    receiver.group.process_message(&env, &message)
                })?;
                match got {
                    ProcessedMessage::Application { data, .. } if data == text.as_bytes() => {}
                    other => bail!("{} got {other:?} instead of the message", receiver.name),
                }
            }
        }
    }
    if opts.messages > 0 {
        writeln!(out, "application messages delivered and checked")?;
    }

    // 5. Every active member updates its leaf (a commit with a path).
    for committer in 0..active.len() {
        let options = CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        };
        let member = active.get_mut(committer).context("committer")?;
        let out_commit = timings.time("update commit (create)", || {
            member.group.commit(&env, options)
        })?;
        deliver(
            &env,
            &mut active,
            committer,
            &out_commit.commit,
            &mut timings,
            "update",
        )?;
        check_agreement(&active, "after an update")?;
    }
    writeln!(
        out,
        "{} updates committed; epoch {}",
        active.len(),
        epoch(&active)
    )?;

    // 6. Removals: a member without simulated state, then an active member.
    let removals = removal_targets(&active, opts.members);
    for (victim, is_active) in removals {
        let options = CommitOptions {
            remove: vec![victim],
            ..CommitOptions::default()
        };
        let creator = active.first_mut().context("creator")?;
        let out_commit = timings.time("remove commit (create)", || {
            creator.group.commit(&env, options)
        })?;
        deliver(
            &env,
            &mut active,
            0,
            &out_commit.commit,
            &mut timings,
            "remove",
        )?;
        if is_active {
            writeln!(out, "removed an active member (leaf {})", victim.value())?;
        }
        check_agreement(&active, "after a removal")?;
    }
    writeln!(
        out,
        "removals committed; {} members, epoch {}",
        active.first().map_or(0, |a| a.group.member_count()),
        epoch(&active)
    )?;

    writeln!(
        out,
        "\nall {} active members agree on the epoch authenticator after every commit",
        active.len()
    )?;
    writeln!(
        out,
        "{:<38} {:>8} {:>12} {:>12}",
        "operation", "count", "total", "mean"
    )?;
    for (what, t) in &timings.0 {
        let mean = t
            .total
            .checked_div(u32::try_from(t.count).unwrap_or(u32::MAX))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<38} {:>8} {:>12} {:>12}",
            what,
            t.count,
            fmt(t.total),
            fmt(mean)
        )?;
    }
    writeln!(out, "total time {}", fmt(started.elapsed()))?;
    Ok(())
}

fn credential(i: u32) -> Credential {
    Credential::Basic {
        identity: VarBytes(format!("member {i}").into_bytes()),
    }
}

fn join(
    env: &Env<'_>,
    welcome: &Welcome,
    bundle: &KeyPackageBundle,
    signer: Arc<dyn Signer>,
) -> anyhow::Result<Group> {
    Ok(Group::join(env, JoinParams::new(welcome, bundle, signer))?)
}

/// `count` indices in `0..n`, evenly spread (so active members sit all over the tree).
fn spread(n: u32, count: u32) -> Vec<u32> {
    if count == 0 || n == 0 {
        return Vec::new();
    }
    let mut picks: Vec<u32> = (0..count)
        .map(|k| {
            let pos = u64::from(k) * u64::from(n) / u64::from(count);
            u32::try_from(pos).unwrap_or(n - 1)
        })
        .collect();
    picks.dedup();
    picks
}

/// A member without simulated state and the last active member, as removal targets.
fn removal_targets(active: &[Active], members: u32) -> Vec<(LeafIndex, bool)> {
    let active_leaves: Vec<LeafIndex> = active.iter().map(|a| a.group.own_leaf()).collect();
    let mut targets = Vec::new();
    if let Some(passive) = (1..members)
        .rev()
        .filter_map(LeafIndex::new)
        .find(|l| !active_leaves.contains(l))
    {
        targets.push((passive, false));
    }
    if active.len() > 2
        && let Some(last) = active_leaves.last()
    {
        targets.push((*last, true));
    }
    targets
}

/// Delivers a commit from `committer` to every other active member, merges it everywhere,
/// and drops members it removed.
fn deliver(
    env: &Env<'_>,
    active: &mut Vec<Active>,
    committer: usize,
    commit: &[u8],
    timings: &mut Timings,
    what: &'static str,
) -> anyhow::Result<()> {
    let label: &'static str = match what {
        "update" => "update commit (process, per member)",
        _ => "remove commit (process, per member)",
    };
    let mut removed = Vec::new();
    for (i, member) in active.iter_mut().enumerate() {
        if i == committer {
            continue;
        }
        let staged: Box<StagedCommit> =
            match timings.time(label, || member.group.process_message(env, commit))? {
                ProcessedMessage::Commit(staged) => staged,
                other => bail!("{} got {other:?} instead of a commit", member.name),
            };
        if member.group.merge_staged_commit(*staged)? == Merged::Removed {
            removed.push(i);
        }
    }
    let me = &mut active.get_mut(committer).context("committer")?.group;
    match me.process_message(env, commit)? {
        ProcessedMessage::OwnCommit => {
            let _ = me.merge_pending_commit()?;
        }
        other => bail!("the committer got {other:?} for its own commit"),
    }
    for i in removed.into_iter().rev() {
        active.remove(i);
    }
    Ok(())
}

fn epoch(active: &[Active]) -> u64 {
    active.first().map_or(0, |a| a.group.epoch())
}

fn check_agreement(active: &[Active], when: &str) -> anyhow::Result<()> {
    let Some(first) = active.first() else {
        return Ok(());
    };
    for a in active {
        if a.group.epoch_authenticator() != first.group.epoch_authenticator()
            || a.group.epoch() != first.group.epoch()
        {
            bail!("{} disagrees with {} {when}", a.name, first.name);
        }
    }
    Ok(())
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}
