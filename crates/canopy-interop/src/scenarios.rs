//! The interop scenarios. Each starts from a fresh group in which `lineup[0]` creates the
//! group and adds `lineup[1]` and `lineup[2]` in one commit, and fails with the first error
//! (naming the member, its implementation and the operation).

use crate::harness::{Mixed, Rng};
use crate::{CanopyOptions, CommitSpec, Handshake, Impl, Result};

/// One interop scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// X creates the group and adds Y and Z in one commit; all agree on epoch, epoch
    /// authenticator and roster.
    Add,
    /// Application messages from every member to every other.
    Application,
    /// Commits from each implementation in turn: an update (with path), an add-only commit
    /// without path (as mls-rs sends them) and a remove.
    Commits,
    /// A Remove proposal from each implementation committed by reference by each other
    /// (ProposalRef hashing across implementations).
    RemoveByReference,
    /// External join by a member of each implementation, from a GroupInfo (with
    /// `external_pub` and the tree) of each implementation.
    ExternalJoin,
    /// A removed member of each implementation fails to decrypt afterwards.
    Removed,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Self; 6] = [
        Self::Add,
        Self::Application,
        Self::Commits,
        Self::RemoveByReference,
        Self::ExternalJoin,
        Self::Removed,
    ];

    /// A short column name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Application => "app",
            Self::Commits => "commits",
            Self::RemoveByReference => "remove-by-ref",
            Self::ExternalJoin => "external-join",
            Self::Removed => "removed",
        }
    }

    /// Runs the scenario for `lineup` (three implementations) on `suite`.
    pub fn run(
        self,
        lineup: [Impl; 3],
        suite: u16,
        handshake: Handshake,
        canopy: CanopyOptions,
    ) -> Result<()> {
        let mut g = three(lineup, suite, handshake, canopy)?;
        match self {
            Self::Add => Ok(()),
            Self::Application => g.messages(),
            Self::Commits => commits(&mut g, lineup),
            Self::RemoveByReference => remove_by_reference(&mut g, lineup),
            Self::ExternalJoin => external_join(&mut g, lineup),
            Self::Removed => removed(&mut g, lineup),
        }
    }
}

/// `lineup[0]` creates a group and adds `lineup[1]` and `lineup[2]` in one commit.
pub fn three(
    lineup: [Impl; 3],
    suite: u16,
    handshake: Handshake,
    canopy: CanopyOptions,
) -> Result<Mixed> {
    let mut g = Mixed::new(suite, handshake, canopy);
    g.create(lineup[0])?;
    g.add(0, &lineup[1..], CommitSpec::default())?;
    Ok(g)
}

fn next(lineup: [Impl; 3], i: usize) -> Impl {
    let [a, b, c] = lineup;
    match i % 3 {
        0 => b,
        1 => c,
        _ => a,
    }
}

fn commits(g: &mut Mixed, lineup: [Impl; 3]) -> Result<()> {
    for i in 0..3 {
        let update = CommitSpec {
            force_path: true,
            ..CommitSpec::default()
        };
        g.commit(i, &update, Vec::new())?;
        let no_path = CommitSpec {
            no_path: true,
            ..CommitSpec::default()
        };
        g.add(i, &[next(lineup, i)], no_path)?;
        let leaf = g.members.last().ok_or("no member")?.own_leaf();
        let remove = CommitSpec {
            remove: vec![leaf],
            ..CommitSpec::default()
        };
        g.commit(i, &remove, Vec::new())?;
        g.messages()?;
    }
    Ok(())
}

fn remove_by_reference(g: &mut Mixed, lineup: [Impl; 3]) -> Result<()> {
    for p in 0..3 {
        for c in 0..3 {
            if p == c {
                continue;
            }
            g.add(0, &[next(lineup, c)], CommitSpec::default())?;
            let leaf = g.members.last().ok_or("no member")?.own_leaf();
            g.propose_remove(p, leaf)?;
            let commit = g.commit(c, &CommitSpec::default(), Vec::new())?;
            let f = crate::canopy::framing(&commit)?;
            if !f.private && f.by_reference != 1 {
                return Err(format!(
                    "the commit names {} proposals by reference",
                    f.by_reference
                ));
            }
            if g.members.iter().any(|m| m.own_leaf() == leaf) {
                return Err(format!("leaf {leaf} not removed by reference"));
            }
        }
    }
    g.messages()
}

fn external_join(g: &mut Mixed, lineup: [Impl; 3]) -> Result<()> {
    for i in 0..3 {
        g.join_external(i, next(lineup, i))?;
    }
    g.messages()?;
    // The external joiners commit too.
    for i in 3..6 {
        let update = CommitSpec {
            force_path: true,
            ..CommitSpec::default()
        };
        g.commit(i, &update, Vec::new())?;
    }
    g.messages()
}

fn removed(g: &mut Mixed, lineup: [Impl; 3]) -> Result<()> {
    g.add(0, &lineup, CommitSpec::default())?;
    // Members 3, 4, 5 (one of each lineup implementation) are removed by 0, 1, 2 in turn.
    for i in 0..3 {
        let leaf = g.members.get(3).ok_or("no member")?.own_leaf();
        let remove = CommitSpec {
            remove: vec![leaf],
            ..CommitSpec::default()
        };
        g.commit(i, &remove, Vec::new())?;
    }
    if g.removed.len() != 3 {
        return Err(format!("{} members removed, not 3", g.removed.len()));
    }
    g.removed_cannot_read()?;
    g.messages()
}

/// One step of the random scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A member adds one to three new members.
    Add,
    /// A member commits an update.
    Update,
    /// A member removes one to two others.
    Remove,
    /// A new member joins externally.
    ExternalJoin,
    /// A member proposes a remove and another commits it by reference.
    RemoveByReference,
}

/// The random scenario: a group grown to `size` members of random implementations (among
/// `kinds` that run `suite`), then `steps` random steps (adds, updates, removes, external joins,
/// removes by reference) by random members, with agreement checked after each and
/// application messages between all members at the end. Returns the steps taken.
pub fn random_group(
    seed: u64,
    kinds: &[Impl],
    suite: u16,
    size: usize,
    steps: usize,
    handshake: Handshake,
    canopy: CanopyOptions,
) -> Result<Vec<String>> {
    let mut rng = Rng::new(seed);
    let kinds: Vec<Impl> = kinds
        .iter()
        .copied()
        .filter(|k| k.suites().contains(&suite))
        .collect();
    let mut log = Vec::new();
    let mut g = Mixed::new(suite, handshake, canopy);
    g.create(rng.pick(&kinds).ok_or("no implementation")?)?;
    while g.members.len() < size {
        let n = (size - g.members.len()).min(8);
        let add: Vec<Impl> = (0..n).filter_map(|_| rng.pick(&kinds)).collect();
        let c = rng.below(g.members.len());
        log.push(format!("member {c} adds {add:?}"));
        g.add(c, &add, CommitSpec::default())
            .map_err(|e| format!("{e} (steps: {log:?})"))?;
    }
    let all = [
        Step::Add,
        Step::Update,
        Step::Remove,
        Step::ExternalJoin,
        Step::RemoveByReference,
    ];
    for _ in 0..steps {
        let step = rng.pick(&all).ok_or("no step")?;
        let c = rng.below(g.members.len());
        let r = match step {
            Step::Add => {
                let add: Vec<Impl> = (0..1 + rng.below(3))
                    .filter_map(|_| rng.pick(&kinds))
                    .collect();
                log.push(format!("member {c} adds {add:?}"));
                g.add(c, &add, CommitSpec::default())
            }
            Step::Update => {
                log.push(format!("member {c} updates"));
                let spec = CommitSpec {
                    force_path: true,
                    ..CommitSpec::default()
                };
                g.commit(c, &spec, Vec::new())
            }
            Step::Remove => {
                let mut remove = Vec::new();
                for _ in 0..1 + rng.below(2) {
                    let t = rng.below(g.members.len());
                    let leaf = g.members.get(t).map_or(0, |m| m.own_leaf());
                    if t != c && !remove.contains(&leaf) {
                        remove.push(leaf);
                    }
                }
                log.push(format!("member {c} removes leaves {remove:?}"));
                let spec = CommitSpec {
                    remove,
                    ..CommitSpec::default()
                };
                g.commit(c, &spec, Vec::new())
            }
            Step::ExternalJoin => {
                let k = rng.pick(&kinds).ok_or("no implementation")?;
                log.push(format!(
                    "a new {k} member joins from member {c}'s GroupInfo"
                ));
                g.join_external(c, k).map(|()| Vec::new())
            }
            Step::RemoveByReference => {
                let p = rng.below(g.members.len());
                let t = rng.below(g.members.len());
                if t == p || t == c {
                    log.push(format!("member {c} updates"));
                    let spec = CommitSpec {
                        force_path: true,
                        ..CommitSpec::default()
                    };
                    g.commit(c, &spec, Vec::new())
                } else {
                    let leaf = g.members.get(t).map_or(0, |m| m.own_leaf());
                    log.push(format!(
                        "member {p} proposes removing leaf {leaf}, member {c} commits"
                    ));
                    g.propose_remove(p, leaf)
                        .and_then(|()| g.commit(c, &CommitSpec::default(), Vec::new()))
                }
            }
        };
        r.map(|_| ())
            .map_err(|e| format!("{e} (seed {seed}, steps: {log:?})"))?;
    }
    g.messages()
        .map_err(|e| format!("{e} (seed {seed}, steps: {log:?})"))?;
    g.removed_cannot_read()
        .map_err(|e| format!("{e} (seed {seed}, steps: {log:?})"))?;
    Ok(log)
}
