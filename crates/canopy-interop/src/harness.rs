//! A mixed group: members of any implementation, a perfect in-memory Delivery Service that
//! hands every message to every other member, and agreement checks after each step.

use crate::canopy::framing;
use crate::{CanopyOptions, CommitOut, CommitSpec, Handshake, Impl, Member, Received, Result};

/// A group of members of mixed implementations on one suite.
pub struct Mixed {
    /// The cipher suite.
    pub suite: u16,
    /// How every member frames its handshakes.
    pub handshake: Handshake,
    /// Canopy's options for new Canopy members.
    pub canopy: CanopyOptions,
    /// The members, in the order they joined.
    pub members: Vec<Box<dyn Member>>,
    /// Members removed from the group, kept to check that they can no longer read it.
    pub removed: Vec<Box<dyn Member>>,
    next_name: u32,
}

impl Mixed {
    /// An empty group (no member yet) on `suite`.
    pub fn new(suite: u16, handshake: Handshake, canopy: CanopyOptions) -> Self {
        Self {
            suite,
            handshake,
            canopy,
            members: Vec::new(),
            removed: Vec::new(),
            next_name: 0,
        }
    }

    /// A new member of `kind` with a fresh name ("canopy-3", "openmls-4", ...).
    pub fn new_member(&mut self, kind: Impl) -> Result<Box<dyn Member>> {
        let name = format!("{}-{}", kind.to_string().to_lowercase(), self.next_name);
        self.next_name += 1;
        crate::new_member(
            kind,
            name.as_bytes(),
            self.suite,
            self.handshake,
            self.canopy,
        )
    }

    /// `kind` creates the group.
    pub fn create(&mut self, kind: Impl) -> Result<()> {
        let mut m = self.new_member(kind)?;
        m.create_group(b"interop group")?;
        self.members.push(m);
        Ok(())
    }

    /// The position in [`Self::members`] of the member at `leaf`.
    pub fn at_leaf(&self, leaf: u32) -> Result<usize> {
        self.members
            .iter()
            .position(|m| m.own_leaf() == leaf)
            .ok_or_else(|| format!("no member at leaf {leaf}"))
    }

    /// Hands `message` from member `from` to every other member; returns what each did.
    pub fn broadcast(&mut self, from: usize, message: &[u8]) -> Result<Vec<Received>> {
        let mut out = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            if i != from {
                let r = m
                    .process(message)
                    .map_err(|e| format!("{} ({}) processing: {e}", name(m.as_ref()), m.kind()))?;
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Member `committer` commits `spec` plus the pending proposals; everyone else processes
    /// it; the committer merges; removed members leave [`Self::members`]; new members
    /// (`joiners`, whose KeyPackages are in `spec.add`) join from the Welcome. Checks
    /// agreement, and that the commit is framed as configured (with or without an UpdatePath
    /// as `spec` asks). Returns the commit.
    pub fn commit(
        &mut self,
        committer: usize,
        spec: &CommitSpec,
        joiners: Vec<Box<dyn Member>>,
    ) -> Result<Vec<u8>> {
        let epoch = self.epoch();
        let c = self.members.get_mut(committer).ok_or("no such committer")?;
        let who = format!("{} ({})", name(c.as_ref()), c.kind());
        let CommitOut { commit, welcome } = c
            .commit(spec)
            .map_err(|e| format!("{who} committing: {e}"))?;
        let mut removed = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            if i == committer {
                continue;
            }
            let r = m.process(&commit).map_err(|e| {
                format!(
                    "{} ({}) processing {who}'s commit: {e}",
                    name(m.as_ref()),
                    m.kind()
                )
            })?;
            match r {
                Received::Commit => {}
                Received::Removed => removed.push(i),
                other => return Err(format!("{}: commit gave {other:?}", name(m.as_ref()))),
            }
        }
        self.members
            .get_mut(committer)
            .ok_or("no such committer")?
            .merge_pending()
            .map_err(|e| format!("{who} merging: {e}"))?;
        for i in removed.into_iter().rev() {
            let m = self.members.remove(i);
            self.removed.push(m);
        }
        if !joiners.is_empty() {
            let welcome = welcome.ok_or_else(|| format!("{who}: no Welcome"))?;
            for mut j in joiners {
                j.join(&welcome).map_err(|e| {
                    format!(
                        "{} ({}) joining {who}'s Welcome: {e}",
                        name(j.as_ref()),
                        j.kind()
                    )
                })?;
                self.members.push(j);
            }
        }
        self.check()?;
        if self.epoch() != epoch + 1 {
            return Err(format!(
                "epoch {} after a commit in epoch {epoch}",
                self.epoch()
            ));
        }
        Ok(commit)
    }

    /// Member `committer` adds new members of `kinds` in one commit (`spec` gives the path
    /// choice).
    pub fn add(
        &mut self,
        committer: usize,
        kinds: &[Impl],
        mut spec: CommitSpec,
    ) -> Result<Vec<u8>> {
        let mut joiners = Vec::new();
        for &k in kinds {
            let mut j = self.new_member(k)?;
            spec.add.push(j.key_package()?);
            joiners.push(j);
        }
        self.commit(committer, &spec, joiners)
    }

    /// Member `proposer` proposes to remove the member at `leaf`; everyone else caches it.
    pub fn propose_remove(&mut self, proposer: usize, leaf: u32) -> Result<()> {
        let p = self.members.get_mut(proposer).ok_or("no such proposer")?;
        let who = format!("{} ({})", name(p.as_ref()), p.kind());
        let proposal = p
            .propose_remove(leaf)
            .map_err(|e| format!("{who} proposing: {e}"))?;
        if framing(&proposal)?.private != (self.handshake == Handshake::Private) {
            return Err(format!(
                "{who}'s proposal is not framed as {:?}",
                self.handshake
            ));
        }
        for r in self.broadcast(proposer, &proposal)? {
            if r != Received::Proposal {
                return Err(format!("{who}'s proposal gave {r:?}"));
            }
        }
        Ok(())
    }

    /// Member `proposer` sends a SelfRemove (as a PublicMessage, whatever the group's
    /// handshake framing); everyone else caches it.
    #[cfg(feature = "extensions")]
    pub fn propose_self_remove(&mut self, proposer: usize) -> Result<()> {
        let p = self.members.get_mut(proposer).ok_or("no such proposer")?;
        let who = format!("{} ({})", name(p.as_ref()), p.kind());
        let proposal = p
            .propose_self_remove()
            .map_err(|e| format!("{who} proposing SelfRemove: {e}"))?;
        if framing(&proposal)?.private {
            return Err(format!("{who}'s SelfRemove is not a PublicMessage"));
        }
        for r in self.broadcast(proposer, &proposal)? {
            if r != Received::Proposal {
                return Err(format!("{who}'s SelfRemove gave {r:?}"));
            }
        }
        Ok(())
    }

    /// A new member of `kind` joins externally from a GroupInfo of member `from`.
    pub fn join_external(&mut self, from: usize, kind: Impl) -> Result<()> {
        let epoch = self.epoch();
        let g = self.members.get_mut(from).ok_or("no such member")?;
        let who = format!("{} ({})", name(g.as_ref()), g.kind());
        let info = g
            .group_info()
            .map_err(|e| format!("{who} GroupInfo: {e}"))?;
        let mut j = self.new_member(kind)?;
        let commit = j.join_external(&info).map_err(|e| {
            format!(
                "{} ({kind}) joining externally from {who}'s GroupInfo: {e}",
                name(j.as_ref())
            )
        })?;
        for m in &mut self.members {
            let r = m.process(&commit).map_err(|e| {
                format!(
                    "{} ({}) processing {}'s external commit: {e}",
                    name(m.as_ref()),
                    m.kind(),
                    name(j.as_ref())
                )
            })?;
            if r != Received::Commit {
                return Err(format!("external commit gave {r:?}"));
            }
        }
        self.members.push(j);
        self.check()?;
        if self.epoch() != epoch + 1 {
            return Err(format!("epoch {} after an external commit", self.epoch()));
        }
        Ok(())
    }

    /// Every member sends one application message, and every other member reads it.
    pub fn messages(&mut self) -> Result<()> {
        for from in 0..self.members.len() {
            let data = format!("hello from {from} in epoch {}", self.epoch()).into_bytes();
            let s = self.members.get_mut(from).ok_or("no member")?;
            let who = format!("{} ({})", name(s.as_ref()), s.kind());
            let m = s
                .encrypt(&data)
                .map_err(|e| format!("{who} encrypting: {e}"))?;
            for r in self.broadcast(from, &m)? {
                if r != Received::Application(data.clone()) {
                    return Err(format!("{who}'s message read as {r:?}"));
                }
            }
        }
        Ok(())
    }

    /// Checks that every removed member fails to read a message of the current epoch.
    pub fn removed_cannot_read(&mut self) -> Result<()> {
        let s = self.members.first_mut().ok_or("no member")?;
        let m = s.encrypt(b"secret")?;
        for r in &mut self.removed {
            if let Ok(got) = r.process(&m) {
                return Err(format!(
                    "removed {} ({}) read a message after removal: {got:?}",
                    name(r.as_ref()),
                    r.kind()
                ));
            }
        }
        Ok(())
    }

    /// The first member's epoch.
    pub fn epoch(&self) -> u64 {
        self.members.first().map_or(0, |m| m.epoch())
    }

    /// Checks that every member reports the same epoch, epoch authenticator and roster, and
    /// that the roster is exactly the members.
    pub fn check(&self) -> Result<()> {
        let first = self.members.first().ok_or("empty group")?;
        let (epoch, auth, roster) = (first.epoch(), first.epoch_authenticator(), first.roster());
        for m in &self.members {
            let who = format!("{} ({})", name(m.as_ref()), m.kind());
            if m.epoch() != epoch {
                return Err(format!("{who} is in epoch {} not {epoch}", m.epoch()));
            }
            if m.epoch_authenticator() != auth {
                return Err(format!("{who} disagrees on the epoch authenticator"));
            }
            if m.roster() != roster {
                return Err(format!("{who} disagrees on the roster"));
            }
        }
        let mut names: Vec<Vec<u8>> = self.members.iter().map(|m| m.identity().to_vec()).collect();
        let mut listed: Vec<Vec<u8>> = roster.into_iter().map(|(_, id)| id).collect();
        names.sort();
        listed.sort();
        if names != listed {
            return Err("the roster is not the set of members".to_owned());
        }
        Ok(())
    }
}

/// A member's identity as text.
pub fn name(m: &dyn Member) -> String {
    String::from_utf8_lossy(m.identity()).into_owned()
}

/// A small seeded generator (SplitMix64) for the random scenario: the sequence of operations
/// is fixed by the seed (the members' own key material comes from their providers).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// A random element of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        items.get(self.below(items.len())).copied()
    }
}
