//! Two Canopy interop servers driven against each other the way the MLS working group's test
//! runner (`interop/test-runner/main.go` in `github.com/mlswg/mls-implementations`) drives
//! two implementations: its step semantics re-implemented here, and the step sequences of its
//! config files (`interop/configs/welcome_join.json`, `commit.json`, `application.json`,
//! `external_join.json`, `external_proposals.json`, `reinit.json`, `branch.json`) written
//! out as Rust data.
//!
//! Each script runs with its actors spread over the two servers in two ways (alternating,
//! and the reverse), with handshakes as PublicMessage and as PrivateMessage; a few also run
//! on every cipher suite. Every step checks what the runner checks: all members and joiners
//! agree on the epoch authenticator after each commit, Welcome, ReInit and branch, and
//! unprotected messages equal what was protected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use canopy_interop_server::proto::*;
use common::{Client, Server, bounded};

/// A proposal to commit by value, or to send from an external signer, as the runner's
/// `ProposalDescription` JSON has it (indices are step numbers).
#[derive(Clone, Debug)]
enum Desc {
    Add(usize),
    Remove(&'static str),
    ExternalPsk(usize),
    ResumptionPsk(u64),
    Gce(Vec<(u32, Vec<u8>)>),
    ReInit {
        change_group_id: bool,
        change_suite: bool,
        extensions: Vec<(u32, Vec<u8>)>,
    },
}

/// One step of a script, as in the runner's configs.
#[derive(Clone, Debug)]
enum Step {
    CreateGroup(&'static str, Vec<&'static str>),
    CreateKeyPackage(&'static str),
    AddProposal(&'static str, usize),
    UpdateProposal(&'static str),
    RemoveProposal(&'static str, &'static str),
    ExternalPskProposal(&'static str, usize),
    ResumptionPskProposal(&'static str, u64),
    GceProposal(&'static str, Vec<(u32, Vec<u8>)>),
    InstallExternalPsk(Vec<&'static str>),
    FullCommit(CommitArgs),
    ExternalJoin(ExternalJoinArgs),
    Protect(&'static str, &'static str, &'static str),
    Unprotect(&'static str, usize),
    ReInit(ReInitArgs),
    Branch(BranchArgs),
    NewMemberAddProposal(&'static str, &'static str),
    AddExternalSigner(&'static str, &'static str),
    ExternalSignerProposal(&'static str, &'static str, Desc),
}

#[derive(Clone, Debug, Default)]
struct CommitArgs {
    actor: &'static str,
    by_reference: Vec<usize>,
    by_value: Vec<Desc>,
    members: Vec<&'static str>,
    joiners: Vec<&'static str>,
    force_path: bool,
    external_tree: bool,
}

#[derive(Clone, Debug, Default)]
struct ExternalJoinArgs {
    actor: &'static str,
    joiner: &'static str,
    members: Vec<&'static str>,
    external_tree: bool,
    remove_prior: bool,
    psks: Vec<usize>,
}

#[derive(Clone, Debug, Default)]
struct ReInitArgs {
    proposer: Option<&'static str>,
    external_proposal: Option<usize>,
    committer: &'static str,
    welcomer: &'static str,
    members: Vec<&'static str>,
    change_suite: bool,
    change_group_id: bool,
    extensions: Vec<(u32, Vec<u8>)>,
    force_path: bool,
    external_tree: bool,
}

#[derive(Clone, Debug, Default)]
struct BranchArgs {
    actor: &'static str,
    members: Vec<&'static str>,
    extensions: Vec<(u32, Vec<u8>)>,
    force_path: bool,
    external_tree: bool,
}

fn commit(actor: &'static str) -> CommitArgs {
    CommitArgs {
        actor,
        ..CommitArgs::default()
    }
}

fn join(actor: &'static str, joiner: &'static str) -> Step {
    Step::ExternalJoin(ExternalJoinArgs {
        actor,
        joiner,
        ..ExternalJoinArgs::default()
    })
}

/// `{"extension_type": 3, "extension_data": "AAAA"}` and `{.. 5, "AA=="}` of the configs.
fn ext_3_5() -> Vec<(u32, Vec<u8>)> {
    vec![(3, vec![0, 0, 0]), (5, vec![0])]
}

fn ext_3() -> Vec<(u32, Vec<u8>)> {
    vec![(3, vec![0, 0, 0])]
}

fn extensions(list: &[(u32, Vec<u8>)]) -> Vec<Extension> {
    list.iter()
        .map(|(t, d)| Extension {
            extension_type: *t,
            extension_data: d.clone(),
        })
        .collect()
}

/// A script's run: one assignment of actors to servers, one suite, one handshake mode.
struct Run {
    suite: u32,
    encrypt: bool,
    /// Every suite both servers support (for `changeCipherSuite`).
    suites: Vec<u32>,
    clients: BTreeMap<&'static str, Client>,
    state: BTreeMap<&'static str, u32>,
    transaction: BTreeMap<&'static str, u32>,
    signer: BTreeMap<&'static str, u32>,
    cache: Vec<BTreeMap<&'static str, Vec<u8>>>,
}

impl Run {
    fn client(&self, actor: &str) -> Client {
        self.clients[actor].clone()
    }

    fn get(&self, step: usize, key: &str) -> Vec<u8> {
        self.cache[step]
            .get(key)
            .unwrap_or_else(|| panic!("no {key} at step {step}"))
            .clone()
    }

    fn group_id(&self, change: bool) -> Vec<u8> {
        let mut id = self.get(0, "group_id");
        if change {
            id.extend_from_slice(b"++");
        }
        id
    }

    /// The runner picks another suite every client supports; we pick the next one.
    fn change_suite(&mut self) {
        let next = self
            .suites
            .iter()
            .copied()
            .find(|&s| s != self.suite)
            .expect("a second suite");
        self.suite = next;
    }

    fn describe(&mut self, d: &Desc) -> ProposalDescription {
        let mut out = ProposalDescription::default();
        match d {
            Desc::Add(kp) => {
                out.proposal_type = b"add".to_vec();
                out.key_package = self.get(*kp, "key_package");
            }
            Desc::Remove(who) => {
                out.proposal_type = b"remove".to_vec();
                out.removed_id = who.as_bytes().to_vec();
            }
            Desc::ExternalPsk(step) => {
                out.proposal_type = b"externalPSK".to_vec();
                out.psk_id = self.get(*step, "psk_id");
            }
            Desc::ResumptionPsk(epoch) => {
                out.proposal_type = b"resumptionPSK".to_vec();
                out.epoch_id = *epoch;
            }
            Desc::Gce(list) => {
                out.proposal_type = b"groupContextExtensions".to_vec();
                out.extensions = extensions(list);
            }
            Desc::ReInit {
                change_group_id,
                change_suite,
                extensions: list,
            } => {
                out.proposal_type = b"reinit".to_vec();
                out.extensions = extensions(list);
                if *change_suite {
                    self.change_suite();
                }
                out.cipher_suite = self.suite;
                out.group_id = self.group_id(*change_group_id);
            }
        }
        out
    }

    async fn create_key_package(&mut self, actor: &'static str) -> CreateKeyPackageResponse {
        let r = self
            .client(actor)
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: self.suite,
                identity: actor.into(),
            })
            .await
            .unwrap()
            .into_inner();
        self.transaction.insert(actor, r.transaction_id);
        r
    }

    async fn proposal(
        &mut self,
        index: usize,
        r: Result<tonic::Response<ProposalResponse>, tonic::Status>,
    ) {
        let p = r
            .unwrap_or_else(|e| panic!("step {index}: {e:?}"))
            .into_inner()
            .proposal;
        self.cache[index].insert("proposal", p);
    }

    async fn run(&mut self, script: &[Step]) {
        self.cache = vec![BTreeMap::new(); script.len()];
        for (i, step) in script.iter().enumerate() {
            self.step(i, step.clone()).await;
        }
    }

    async fn step(&mut self, i: usize, step: Step) {
        match step {
            Step::CreateGroup(actor, members) => self.create_group(i, actor, members).await,
            Step::CreateKeyPackage(actor) => {
                let r = self.create_key_package(actor).await;
                self.cache[i].insert("key_package", r.key_package);
            }
            Step::AddProposal(actor, kp) => {
                let r = self
                    .client(actor)
                    .add_proposal(AddProposalRequest {
                        state_id: self.state[actor],
                        key_package: self.get(kp, "key_package"),
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::UpdateProposal(actor) => {
                let r = self
                    .client(actor)
                    .update_proposal(UpdateProposalRequest {
                        state_id: self.state[actor],
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::RemoveProposal(actor, removed) => {
                let r = self
                    .client(actor)
                    .remove_proposal(RemoveProposalRequest {
                        state_id: self.state[actor],
                        removed_id: removed.into(),
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::ExternalPskProposal(actor, psk) => {
                let r = self
                    .client(actor)
                    .external_psk_proposal(ExternalPskProposalRequest {
                        state_id: self.state[actor],
                        psk_id: self.get(psk, "psk_id"),
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::ResumptionPskProposal(actor, epoch_id) => {
                let r = self
                    .client(actor)
                    .resumption_psk_proposal(ResumptionPskProposalRequest {
                        state_id: self.state[actor],
                        epoch_id,
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::GceProposal(actor, list) => {
                let r = self
                    .client(actor)
                    .group_context_extensions_proposal(GroupContextExtensionsProposalRequest {
                        state_id: self.state[actor],
                        extensions: extensions(&list),
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::InstallExternalPsk(clients) => {
                // Deterministic stand-ins for the runner's random 32-byte id and secret.
                let psk_id = format!("psk id of step {i}").into_bytes();
                let psk_secret = vec![u8::try_from(i).unwrap(); 32];
                self.cache[i].insert("psk_id", psk_id.clone());
                self.cache[i].insert("psk_secret", psk_secret.clone());
                for actor in clients {
                    let id = self
                        .state
                        .get(actor)
                        .or_else(|| self.transaction.get(actor))
                        .copied()
                        .unwrap_or(0);
                    self.client(actor)
                        .store_psk(StorePskRequest {
                            state_or_transaction_id: id,
                            psk_id: psk_id.clone(),
                            psk_secret: psk_secret.clone(),
                        })
                        .await
                        .unwrap();
                }
            }
            Step::FullCommit(c) => self.full_commit(i, c).await,
            Step::ExternalJoin(e) => self.external_join(i, e).await,
            Step::Protect(actor, ad, pt) => {
                let r = self
                    .client(actor)
                    .protect(ProtectRequest {
                        state_id: self.state[actor],
                        authenticated_data: ad.into(),
                        plaintext: pt.into(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                self.cache[i].insert("ciphertext", r.ciphertext);
                self.cache[i].insert("authenticatedData", ad.into());
                self.cache[i].insert("plaintext", pt.into());
            }
            Step::Unprotect(actor, step) => {
                let r = self
                    .client(actor)
                    .unprotect(UnprotectRequest {
                        state_id: self.state[actor],
                        ciphertext: self.get(step, "ciphertext"),
                    })
                    .await
                    .unwrap_or_else(|e| panic!("step {i}: {e:?}"))
                    .into_inner();
                assert_eq!(r.authenticated_data, self.get(step, "authenticatedData"));
                assert_eq!(r.plaintext, self.get(step, "plaintext"));
            }
            Step::ReInit(r) => self.reinit(r).await,
            Step::Branch(b) => self.branch(b).await,
            Step::NewMemberAddProposal(actor, joiner) => {
                let info = self.group_info(actor, false).await.group_info;
                let r = self
                    .client(joiner)
                    .new_member_add_proposal(NewMemberAddProposalRequest {
                        group_info: info,
                        identity: joiner.into(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                self.transaction.insert(joiner, r.transaction_id);
                self.cache[i].insert("proposal", r.proposal);
            }
            Step::AddExternalSigner(actor, signer) => {
                let s = self
                    .client(signer)
                    .create_external_signer(CreateExternalSignerRequest {
                        cipher_suite: self.suite,
                        identity: signer.into(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                self.signer.insert(signer, s.signer_id);
                let r = self
                    .client(actor)
                    .add_external_signer(AddExternalSignerRequest {
                        state_id: self.state[actor],
                        external_sender: s.external_sender,
                    })
                    .await;
                self.proposal(i, r).await;
            }
            Step::ExternalSignerProposal(actor, member, desc) => {
                let info = self.group_info(member, true).await;
                let description = self.describe(&desc);
                let r = self
                    .client(actor)
                    .external_signer_proposal(ExternalSignerProposalRequest {
                        signer_id: self.signer[actor],
                        signer_index: 0,
                        group_info: info.group_info,
                        ratchet_tree: info.ratchet_tree,
                        description: Some(description),
                    })
                    .await;
                self.proposal(i, r).await;
            }
        }
    }

    async fn group_info(&self, actor: &str, external_tree: bool) -> GroupInfoResponse {
        self.client(actor)
            .group_info(GroupInfoRequest {
                state_id: self.state[actor],
                external_tree,
            })
            .await
            .unwrap()
            .into_inner()
    }

    async fn create_group(&mut self, i: usize, actor: &'static str, members: Vec<&'static str>) {
        let group_id = format!("group of suite {} encrypted {}", self.suite, self.encrypt);
        let r = self
            .client(actor)
            .create_group(CreateGroupRequest {
                group_id: group_id.clone().into_bytes(),
                cipher_suite: self.suite,
                encrypt_handshake: self.encrypt,
                identity: actor.into(),
            })
            .await
            .unwrap()
            .into_inner();
        self.state.insert(actor, r.state_id);
        self.cache[i].insert("group_id", group_id.into_bytes());
        if members.is_empty() {
            return;
        }
        let mut kps = Vec::new();
        for m in &members {
            kps.push(self.create_key_package(m).await);
        }
        let out = self
            .client(actor)
            .commit(CommitRequest {
                state_id: self.state[actor],
                by_value: kps
                    .iter()
                    .map(|kp| ProposalDescription {
                        proposal_type: b"add".to_vec(),
                        key_package: kp.key_package.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let auth = self.pending(actor).await;
        for (m, kp) in members.iter().zip(&kps) {
            let r = self
                .client(m)
                .join_group(JoinGroupRequest {
                    transaction_id: kp.transaction_id,
                    welcome: out.welcome.clone(),
                    encrypt_handshake: self.encrypt,
                    identity: m.as_bytes().to_vec(),
                    ratchet_tree: Vec::new(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(r.epoch_authenticator, auth, "joiner {m}");
            self.state.insert(m, r.state_id);
        }
    }

    async fn pending(&mut self, actor: &'static str) -> Vec<u8> {
        let r = self
            .client(actor)
            .handle_pending_commit(HandlePendingCommitRequest {
                state_id: self.state[actor],
            })
            .await
            .unwrap()
            .into_inner();
        self.state.insert(actor, r.state_id);
        r.epoch_authenticator
    }

    async fn handle(
        &mut self,
        member: &'static str,
        proposals: &[Vec<u8>],
        commit: &[u8],
    ) -> Vec<u8> {
        let r = self
            .client(member)
            .handle_commit(HandleCommitRequest {
                state_id: self.state[member],
                proposal: proposals.to_vec(),
                commit: commit.to_vec(),
            })
            .await
            .unwrap_or_else(|e| panic!("{member} handling a commit: {e:?}"))
            .into_inner();
        self.state.insert(member, r.state_id);
        r.epoch_authenticator
    }

    async fn full_commit(&mut self, i: usize, c: CommitArgs) {
        let by_reference: Vec<Vec<u8>> = c
            .by_reference
            .iter()
            .map(|&s| self.get(s, "proposal"))
            .collect();
        let by_value: Vec<ProposalDescription> =
            c.by_value.iter().map(|d| self.describe(d)).collect();
        let out = self
            .client(c.actor)
            .commit(CommitRequest {
                state_id: self.state[c.actor],
                by_reference: by_reference.clone(),
                by_value,
                force_path: c.force_path,
                external_tree: c.external_tree,
            })
            .await
            .unwrap_or_else(|e| panic!("step {i}, {} commits: {e:?}", c.actor))
            .into_inner();
        assert_eq!(out.ratchet_tree.is_empty(), !c.external_tree);
        let auth = self.pending(c.actor).await;
        for m in &c.members {
            assert_eq!(
                self.handle(m, &by_reference, &out.commit).await,
                auth,
                "member {m}"
            );
        }
        for j in &c.joiners {
            let r = self
                .client(j)
                .join_group(JoinGroupRequest {
                    transaction_id: self.transaction[j],
                    welcome: out.welcome.clone(),
                    encrypt_handshake: self.encrypt,
                    identity: j.as_bytes().to_vec(),
                    ratchet_tree: if c.external_tree {
                        out.ratchet_tree.clone()
                    } else {
                        Vec::new()
                    },
                })
                .await
                .unwrap_or_else(|e| panic!("step {i}, joiner {j}: {e:?}"))
                .into_inner();
            assert_eq!(r.epoch_authenticator, auth, "joiner {j}");
            self.state.insert(j, r.state_id);
        }
    }

    async fn external_join(&mut self, i: usize, e: ExternalJoinArgs) {
        let info = self.group_info(e.actor, e.external_tree).await;
        let psks = e
            .psks
            .iter()
            .map(|&s| PreSharedKey {
                psk_id: self.get(s, "psk_id"),
                psk_secret: self.get(s, "psk_secret"),
            })
            .collect();
        let r = self
            .client(e.joiner)
            .external_join(ExternalJoinRequest {
                group_info: info.group_info,
                ratchet_tree: info.ratchet_tree,
                encrypt_handshake: self.encrypt,
                identity: e.joiner.into(),
                remove_prior: e.remove_prior,
                psks,
            })
            .await
            .unwrap_or_else(|err| panic!("step {i}, {} joins: {err:?}", e.joiner))
            .into_inner();
        self.state.insert(e.joiner, r.state_id);
        let mut members = e.members.clone();
        members.push(e.actor);
        for m in members {
            assert_eq!(
                self.handle(m, &[], &r.commit).await,
                r.epoch_authenticator,
                "member {m}"
            );
        }
    }

    async fn reinit(&mut self, r: ReInitArgs) {
        let mut not_committer: Vec<&'static str> = vec![r.welcomer];
        let mut not_welcomer: Vec<&'static str> = vec![r.committer];
        for m in r.members.iter().chain(r.proposer.iter()) {
            not_committer.push(m);
            not_welcomer.push(m);
        }
        not_committer.sort_unstable();
        not_committer.dedup();
        not_committer.retain(|m| *m != r.committer);
        not_welcomer.sort_unstable();
        not_welcomer.dedup();
        not_welcomer.retain(|m| *m != r.welcomer);

        let group_id = self.group_id(r.change_group_id);
        if r.change_suite {
            self.change_suite();
        }
        let proposal = match (r.proposer, r.external_proposal) {
            (Some(p), _) => {
                self.client(p)
                    .re_init_proposal(ReInitProposalRequest {
                        state_id: self.state[p],
                        cipher_suite: self.suite,
                        group_id,
                        extensions: extensions(&r.extensions),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .proposal
            }
            (None, Some(step)) => self.get(step, "proposal"),
            (None, None) => panic!("a reinit needs a proposal"),
        };
        let commit = self
            .client(r.committer)
            .re_init_commit(CommitRequest {
                state_id: self.state[r.committer],
                by_reference: vec![proposal.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .commit;
        let mut reinit_ids = BTreeMap::new();
        let mut key_packages = BTreeMap::new();
        let ended = self
            .client(r.committer)
            .handle_pending_re_init_commit(HandlePendingCommitRequest {
                state_id: self.state[r.committer],
            })
            .await
            .unwrap()
            .into_inner();
        reinit_ids.insert(r.committer, ended.reinit_id);
        key_packages.insert(r.committer, ended.key_package);
        for m in &not_committer {
            let h = self
                .client(m)
                .handle_re_init_commit(HandleCommitRequest {
                    state_id: self.state[m],
                    proposal: vec![proposal.clone()],
                    commit: commit.clone(),
                })
                .await
                .unwrap_or_else(|e| panic!("{m} handling the reinit: {e:?}"))
                .into_inner();
            assert_eq!(
                h.epoch_authenticator, ended.epoch_authenticator,
                "member {m}"
            );
            reinit_ids.insert(m, h.reinit_id);
            key_packages.insert(m, h.key_package);
        }
        let welcome = self
            .client(r.welcomer)
            .re_init_welcome(ReInitWelcomeRequest {
                reinit_id: reinit_ids[r.welcomer],
                key_package: not_welcomer
                    .iter()
                    .map(|m| key_packages[m].clone())
                    .collect(),
                force_path: r.force_path,
                external_tree: r.external_tree,
            })
            .await
            .unwrap()
            .into_inner();
        self.state.insert(r.welcomer, welcome.state_id);
        for m in &not_welcomer {
            let j = self
                .client(m)
                .handle_re_init_welcome(HandleReInitWelcomeRequest {
                    reinit_id: reinit_ids[m],
                    welcome: welcome.welcome.clone(),
                    ratchet_tree: if r.external_tree {
                        welcome.ratchet_tree.clone()
                    } else {
                        Vec::new()
                    },
                })
                .await
                .unwrap_or_else(|e| panic!("{m} joining the successor: {e:?}"))
                .into_inner();
            assert_eq!(
                j.epoch_authenticator, welcome.epoch_authenticator,
                "member {m}"
            );
            self.state.insert(m, j.state_id);
        }
    }

    async fn branch(&mut self, b: BranchArgs) {
        let mut transactions = BTreeMap::new();
        let mut key_packages = Vec::new();
        for m in &b.members {
            let r = self
                .client(m)
                .create_key_package(CreateKeyPackageRequest {
                    cipher_suite: self.suite,
                    identity: m.as_bytes().to_vec(),
                })
                .await
                .unwrap()
                .into_inner();
            transactions.insert(*m, r.transaction_id);
            key_packages.push(r.key_package);
        }
        let created = self
            .client(b.actor)
            .create_branch(CreateBranchRequest {
                state_id: self.state[b.actor],
                group_id: b"branched group".to_vec(),
                extensions: extensions(&b.extensions),
                key_packages,
                force_path: b.force_path,
                external_tree: b.external_tree,
            })
            .await
            .unwrap()
            .into_inner();
        self.state.insert(b.actor, created.state_id);
        for m in &b.members {
            let r = self
                .client(m)
                .handle_branch(HandleBranchRequest {
                    state_id: self.state[m],
                    transaction_id: transactions[m],
                    welcome: created.welcome.clone(),
                    ratchet_tree: if b.external_tree {
                        created.ratchet_tree.clone()
                    } else {
                        Vec::new()
                    },
                })
                .await
                .unwrap_or_else(|e| panic!("{m} joining the branch: {e:?}"))
                .into_inner();
            assert_eq!(
                r.epoch_authenticator, created.epoch_authenticator,
                "member {m}"
            );
            self.state.insert(m, r.state_id);
        }
    }

    /// Beyond the runner: every actor still in the group of `actors[0]` agrees, and can talk.
    async fn agree(&mut self, actors: &[&'static str]) {
        let mut auths = Vec::new();
        for a in actors {
            let r = self
                .client(a)
                .state_auth(StateAuthRequest {
                    state_id: self.state[a],
                })
                .await
                .unwrap()
                .into_inner();
            auths.push(r.state_auth_secret);
        }
        assert!(auths.windows(2).all(|w| w[0] == w[1]), "state auth differs");
        let (first, rest) = actors.split_first().unwrap();
        let ciphertext = self
            .client(first)
            .protect(ProtectRequest {
                state_id: self.state[first],
                authenticated_data: b"end".to_vec(),
                plaintext: b"all agree".to_vec(),
            })
            .await
            .unwrap()
            .into_inner()
            .ciphertext;
        for a in rest {
            let r = self
                .client(a)
                .unprotect(UnprotectRequest {
                    state_id: self.state[a],
                    ciphertext: ciphertext.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(r.plaintext, b"all agree");
        }
    }
}

/// The actors of a script, in order of appearance.
fn actors(script: &[Step]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |a: &'static str| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for step in script {
        match step {
            Step::CreateGroup(a, ms) => {
                add(a);
                ms.iter().for_each(|m| add(m));
            }
            Step::CreateKeyPackage(a)
            | Step::AddProposal(a, _)
            | Step::UpdateProposal(a)
            | Step::RemoveProposal(a, _)
            | Step::ExternalPskProposal(a, _)
            | Step::ResumptionPskProposal(a, _)
            | Step::GceProposal(a, _)
            | Step::Protect(a, _, _)
            | Step::Unprotect(a, _)
            | Step::ExternalSignerProposal(a, _, _) => add(a),
            Step::InstallExternalPsk(cs) => cs.iter().for_each(|c| add(c)),
            Step::FullCommit(c) => add(c.actor),
            Step::ExternalJoin(e) => {
                add(e.actor);
                add(e.joiner);
            }
            Step::ReInit(r) => {
                add(r.committer);
                add(r.welcomer);
                r.proposer.iter().for_each(|p| add(p));
                r.members.iter().for_each(|m| add(m));
            }
            Step::Branch(b) => {
                add(b.actor);
                b.members.iter().for_each(|m| add(m));
            }
            Step::NewMemberAddProposal(a, j) | Step::AddExternalSigner(a, j) => {
                add(a);
                add(j);
            }
        }
    }
    out
}

/// Runs `script` for each assignment of its actors to the two servers in `assignments`
/// (`true` puts the i-th actor on the second server when i is odd, `false` when even), for
/// each suite and handshake mode; then checks that `final_members` agree.
async fn run_script(
    servers: &[Client; 2],
    name: &str,
    script: &[Step],
    suites: &[u32],
    final_members: &[&'static str],
) {
    let actors = actors(script);
    for &suite in suites {
        for encrypt in [false, true] {
            for parity in [0, 1] {
                let clients = actors
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (*a, servers[(i + parity) % 2].clone()))
                    .collect();
                let mut run = Run {
                    suite,
                    encrypt,
                    suites: vec![1, 2, 3],
                    clients,
                    state: BTreeMap::new(),
                    transaction: BTreeMap::new(),
                    signer: BTreeMap::new(),
                    cache: Vec::new(),
                };
                eprintln!("{name}: suite {suite}, encrypted {encrypt}, assignment {parity}");
                run.run(script).await;
                if !final_members.is_empty() {
                    run.agree(final_members).await;
                }
            }
        }
    }
}

fn welcome_join() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    use Step::*;
    let base = || {
        vec![
            CreateGroup("alice", vec![]),
            CreateKeyPackage("bob"),
            AddProposal("alice", 1),
        ]
    };
    let full = |by_reference: Vec<usize>, force_path, external_tree| {
        FullCommit(CommitArgs {
            by_reference,
            joiners: vec!["bob"],
            force_path,
            external_tree,
            ..commit("alice")
        })
    };
    let ab = vec!["alice", "bob"];
    vec![
        (
            "no_path_secret",
            [base(), vec![full(vec![2], false, false)]].concat(),
            ab.clone(),
        ),
        (
            "with_path_secret",
            [base(), vec![full(vec![2], true, false)]].concat(),
            ab.clone(),
        ),
        (
            "with_psk",
            // The config's `preSharedKeyProposal` step is the runner's `externalPSKProposal`.
            [
                base(),
                vec![
                    InstallExternalPsk(vec!["alice", "bob"]),
                    ExternalPskProposal("alice", 3),
                    full(vec![2, 4], false, false),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "with_external_tree",
            [base(), vec![full(vec![2], false, true)]].concat(),
            ab,
        ),
    ]
}

fn commit_scripts() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    use Step::*;
    let start = || vec![CreateGroup("alice", vec![]), join("alice", "bob")];
    let ab = vec!["alice", "bob"];
    vec![
        (
            "empty",
            [
                start(),
                vec![FullCommit(CommitArgs {
                    members: vec!["bob"],
                    ..commit("alice")
                })],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "add",
            [
                start(),
                vec![
                    CreateKeyPackage("charlie1"),
                    CreateKeyPackage("charlie2"),
                    CreateKeyPackage("charlie3"),
                    AddProposal("alice", 2),
                    AddProposal("bob", 3),
                    FullCommit(CommitArgs {
                        by_reference: vec![5, 6],
                        by_value: vec![Desc::Add(4)],
                        members: vec!["bob"],
                        joiners: vec!["charlie1", "charlie2", "charlie3"],
                        force_path: true,
                        ..commit("alice")
                    }),
                    CreateKeyPackage("charlie4"),
                    CreateKeyPackage("charlie5"),
                    CreateKeyPackage("charlie6"),
                    AddProposal("alice", 8),
                    AddProposal("bob", 9),
                    FullCommit(CommitArgs {
                        by_reference: vec![11, 12],
                        by_value: vec![Desc::Add(10)],
                        members: vec!["bob", "charlie1", "charlie2"],
                        joiners: vec!["charlie4", "charlie5", "charlie6"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            vec!["alice", "bob", "charlie1", "charlie6"],
        ),
        (
            "remove",
            [
                start(),
                vec![
                    CreateKeyPackage("charlie1"),
                    CreateKeyPackage("charlie2"),
                    CreateKeyPackage("charlie3"),
                    AddProposal("alice", 2),
                    AddProposal("alice", 3),
                    AddProposal("alice", 4),
                    FullCommit(CommitArgs {
                        by_reference: vec![5, 6, 7],
                        members: vec!["bob"],
                        joiners: vec!["charlie1", "charlie2", "charlie3"],
                        ..commit("alice")
                    }),
                    RemoveProposal("alice", "charlie1"),
                    RemoveProposal("bob", "charlie2"),
                    FullCommit(CommitArgs {
                        by_reference: vec![9, 10],
                        by_value: vec![Desc::Remove("charlie3")],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "update",
            [
                start(),
                vec![
                    UpdateProposal("bob"),
                    FullCommit(CommitArgs {
                        by_reference: vec![2],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "group_context_extensions",
            [
                start(),
                vec![
                    GceProposal("alice", ext_3_5()),
                    FullCommit(CommitArgs {
                        by_reference: vec![2],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                    GceProposal("bob", vec![]),
                    FullCommit(CommitArgs {
                        by_reference: vec![4],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                    FullCommit(CommitArgs {
                        by_value: vec![Desc::Gce(ext_3())],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "external_psk",
            [
                start(),
                vec![
                    InstallExternalPsk(vec!["alice", "bob"]),
                    InstallExternalPsk(vec!["alice", "bob"]),
                    InstallExternalPsk(vec!["alice", "bob"]),
                    ExternalPskProposal("alice", 2),
                    ExternalPskProposal("bob", 3),
                    FullCommit(CommitArgs {
                        by_reference: vec![5, 6],
                        by_value: vec![Desc::ExternalPsk(4)],
                        members: vec!["bob"],
                        force_path: true,
                        ..commit("alice")
                    }),
                    ExternalPskProposal("alice", 2),
                    ExternalPskProposal("bob", 3),
                    FullCommit(CommitArgs {
                        by_reference: vec![8, 9],
                        by_value: vec![Desc::ExternalPsk(4)],
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "resumption_psk",
            [
                start(),
                vec![
                    FullCommit(CommitArgs {
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                    FullCommit(CommitArgs {
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                    ResumptionPskProposal("alice", 1),
                    ResumptionPskProposal("bob", 2),
                    FullCommit(CommitArgs {
                        by_reference: vec![4, 5],
                        by_value: vec![Desc::ResumptionPsk(3)],
                        members: vec!["bob"],
                        force_path: true,
                        ..commit("alice")
                    }),
                    ResumptionPskProposal("alice", 2),
                    ResumptionPskProposal("bob", 3),
                    FullCommit(CommitArgs {
                        by_reference: vec![7, 8],
                        by_value: vec![Desc::ResumptionPsk(4)],
                        members: vec!["bob"],
                        force_path: true,
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "all_together_alice_proposes",
            all_together("alice"),
            ab.clone(),
        ),
        ("all_together_bob_proposes", all_together("bob"), ab),
    ]
}

/// `all_together_alice_proposes` and `all_together_bob_proposes` of `commit.json`.
fn all_together(proposer: &'static str) -> Vec<Step> {
    use Step::*;
    let mut steps = vec![
        CreateGroup("alice", vec![]),
        join("alice", "bob"),
        CreateKeyPackage("charlie1"),
        CreateKeyPackage("charlie2"),
        AddProposal("alice", 2),
        AddProposal("alice", 3),
        FullCommit(CommitArgs {
            by_reference: vec![4, 5],
            members: vec!["bob"],
            joiners: vec!["charlie1", "charlie2"],
            ..commit("alice")
        }),
        InstallExternalPsk(vec!["alice", "bob"]),
        InstallExternalPsk(vec!["alice", "bob"]),
        CreateKeyPackage("charlie3"),
        AddProposal(proposer, 9),
        RemoveProposal(proposer, "charlie1"),
        GceProposal(proposer, ext_3_5()),
        ExternalPskProposal(proposer, 7),
        ResumptionPskProposal(proposer, 1),
    ];
    let mut by_reference = vec![10, 11, 12, 13, 14];
    if proposer == "bob" {
        steps.push(UpdateProposal("bob"));
        by_reference.push(15);
    }
    let kp = steps.len();
    steps.push(CreateKeyPackage("charlie4"));
    steps.push(FullCommit(CommitArgs {
        by_reference,
        by_value: vec![
            Desc::Add(kp),
            Desc::Remove("charlie2"),
            Desc::ExternalPsk(8),
            Desc::ResumptionPsk(2),
        ],
        members: vec!["bob"],
        ..commit("alice")
    }));
    steps
}

fn application() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    use Step::*;
    let protect3 = || {
        vec![
            Protect("alice", "btw1", "hello world 1"),
            Protect("alice", "btw2", "hello world 2"),
            Protect("alice", "btw3", "hello world 3"),
        ]
    };
    let group = || vec![CreateGroup("alice", vec!["bob"])];
    let ab = vec!["alice", "bob"];
    vec![
        (
            "in_order",
            [
                group(),
                protect3(),
                vec![
                    Unprotect("bob", 1),
                    Unprotect("bob", 2),
                    Unprotect("bob", 3),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "out_of_order_within_epoch",
            [
                group(),
                protect3(),
                vec![
                    Unprotect("bob", 3),
                    Unprotect("bob", 2),
                    Unprotect("bob", 1),
                ],
            ]
            .concat(),
            ab.clone(),
        ),
        (
            "out_of_order_across_epochs",
            [
                group(),
                vec![
                    Protect("alice", "btw1", "hello world 1"),
                    Protect("alice", "btw2", "hello world 2"),
                    FullCommit(CommitArgs {
                        members: vec!["bob"],
                        ..commit("alice")
                    }),
                    Protect("alice", "btw3", "hello world 3"),
                    Protect("alice", "btw4", "hello world 4"),
                    Unprotect("bob", 5),
                    Unprotect("bob", 4),
                    Unprotect("bob", 2),
                    Unprotect("bob", 1),
                ],
            ]
            .concat(),
            ab,
        ),
    ]
}

fn external_join_scripts() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    use Step::*;
    let ab = vec!["alice", "bob"];
    vec![
        (
            "normal",
            vec![CreateGroup("alice", vec![]), join("alice", "bob")],
            ab.clone(),
        ),
        (
            "with_psk",
            vec![
                CreateGroup("alice", vec![]),
                InstallExternalPsk(vec!["alice"]),
                ExternalJoin(ExternalJoinArgs {
                    psks: vec![1],
                    ..ExternalJoinArgs {
                        actor: "alice",
                        joiner: "bob",
                        ..ExternalJoinArgs::default()
                    }
                }),
            ],
            ab.clone(),
        ),
        (
            "removing_prior",
            vec![
                CreateGroup("alice", vec![]),
                join("alice", "bob"),
                ExternalJoin(ExternalJoinArgs {
                    remove_prior: true,
                    ..ExternalJoinArgs {
                        actor: "alice",
                        joiner: "bob",
                        ..ExternalJoinArgs::default()
                    }
                }),
            ],
            ab.clone(),
        ),
        (
            "with_external_tree",
            vec![
                CreateGroup("alice", vec![]),
                ExternalJoin(ExternalJoinArgs {
                    external_tree: true,
                    ..ExternalJoinArgs {
                        actor: "alice",
                        joiner: "bob",
                        ..ExternalJoinArgs::default()
                    }
                }),
            ],
            ab,
        ),
        (
            "with_more_members",
            vec![
                CreateGroup("alice", vec![]),
                CreateKeyPackage("bob"),
                CreateKeyPackage("charlie"),
                CreateKeyPackage("diana"),
                AddProposal("alice", 1),
                AddProposal("alice", 2),
                AddProposal("alice", 3),
                FullCommit(CommitArgs {
                    by_reference: vec![4, 5, 6],
                    joiners: vec!["bob", "charlie", "diana"],
                    ..commit("alice")
                }),
                ExternalJoin(ExternalJoinArgs {
                    actor: "diana",
                    joiner: "ellen",
                    members: vec!["alice", "bob", "charlie"],
                    ..ExternalJoinArgs::default()
                }),
            ],
            vec!["ellen", "alice", "bob", "charlie", "diana"],
        ),
    ]
}

fn external_proposals() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    use Step::*;
    let three = || {
        vec![
            CreateGroup("alice", vec![]),
            join("alice", "bob"),
            ExternalJoin(ExternalJoinArgs {
                members: vec!["bob"],
                ..ExternalJoinArgs {
                    actor: "alice",
                    joiner: "charlie",
                    ..ExternalJoinArgs::default()
                }
            }),
        ]
    };
    let bc = || vec!["bob", "charlie"];
    let signer_commit = |step| {
        FullCommit(CommitArgs {
            by_reference: vec![step],
            members: vec!["bob", "charlie"],
            ..commit("alice")
        })
    };
    vec![
        (
            "joiner_signed_add",
            vec![
                CreateGroup("alice", vec![]),
                NewMemberAddProposal("alice", "bob"),
                FullCommit(CommitArgs {
                    by_reference: vec![1],
                    joiners: vec!["bob"],
                    ..commit("alice")
                }),
            ],
            vec!["alice", "bob"],
        ),
        (
            "external_add",
            vec![
                CreateGroup("alice", vec![]),
                join("alice", "bob"),
                AddExternalSigner("alice", "ds"),
                FullCommit(CommitArgs {
                    by_reference: vec![2],
                    members: vec!["bob"],
                    ..commit("alice")
                }),
                CreateKeyPackage("charlie"),
                ExternalSignerProposal("ds", "alice", Desc::Add(4)),
                FullCommit(CommitArgs {
                    by_reference: vec![5],
                    members: vec!["bob"],
                    joiners: vec!["charlie"],
                    ..commit("alice")
                }),
            ],
            vec!["alice", "bob", "charlie"],
        ),
        (
            "external_remove",
            [
                three(),
                vec![
                    AddExternalSigner("alice", "ds"),
                    signer_commit(3),
                    ExternalSignerProposal("ds", "alice", Desc::Remove("bob")),
                    FullCommit(CommitArgs {
                        by_reference: vec![5],
                        members: vec!["charlie"],
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            vec!["alice", "charlie"],
        ),
        (
            "external_psk",
            [
                three(),
                vec![
                    InstallExternalPsk(vec!["alice", "bob", "charlie"]),
                    AddExternalSigner("alice", "ds"),
                    signer_commit(4),
                    ExternalSignerProposal("ds", "alice", Desc::ExternalPsk(3)),
                    signer_commit(6),
                ],
            ]
            .concat(),
            vec!["alice", "bob", "charlie"],
        ),
        (
            "resumption_psk",
            [
                three(),
                vec![
                    AddExternalSigner("alice", "ds"),
                    signer_commit(3),
                    ExternalSignerProposal("ds", "alice", Desc::ResumptionPsk(2)),
                    signer_commit(5),
                ],
            ]
            .concat(),
            vec!["alice", "bob", "charlie"],
        ),
        (
            "group_context_extensions",
            [
                three(),
                vec![
                    AddExternalSigner("alice", "ds"),
                    signer_commit(3),
                    ExternalSignerProposal("ds", "alice", Desc::Gce(ext_3())),
                    signer_commit(5),
                ],
            ]
            .concat(),
            vec!["alice", "bob", "charlie"],
        ),
        (
            "multiple_external",
            [
                three(),
                vec![
                    InstallExternalPsk(vec!["alice", "bob", "charlie"]),
                    InstallExternalPsk(vec!["alice", "bob", "charlie"]),
                    AddExternalSigner("alice", "ds1"),
                    signer_commit(5),
                    AddExternalSigner("alice", "ds2"),
                    signer_commit(7),
                    ExternalSignerProposal("ds1", "alice", Desc::ExternalPsk(3)),
                    ExternalSignerProposal("ds1", "alice", Desc::ExternalPsk(4)),
                    FullCommit(CommitArgs {
                        by_reference: vec![9, 10],
                        members: bc(),
                        ..commit("alice")
                    }),
                ],
            ]
            .concat(),
            vec!["alice", "bob", "charlie"],
        ),
        (
            "external_reinit",
            [
                three(),
                vec![
                    AddExternalSigner("alice", "ds"),
                    signer_commit(3),
                    ExternalSignerProposal(
                        "ds",
                        "alice",
                        Desc::ReInit {
                            change_group_id: true,
                            change_suite: true,
                            extensions: ext_3(),
                        },
                    ),
                    ReInit(ReInitArgs {
                        external_proposal: Some(5),
                        committer: "alice",
                        welcomer: "bob",
                        members: vec!["charlie"],
                        force_path: true,
                        ..ReInitArgs::default()
                    }),
                ],
            ]
            .concat(),
            vec!["bob", "alice", "charlie"],
        ),
    ]
}

fn reinit_scripts() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    let five = || Step::CreateGroup("alice", vec!["bob", "charlie", "diana", "eliza"]);
    let usual = || ReInitArgs {
        proposer: Some("alice"),
        committer: "bob",
        welcomer: "charlie",
        members: vec!["diana", "eliza"],
        ..ReInitArgs::default()
    };
    let all = vec!["charlie", "alice", "bob", "diana", "eliza"];
    vec![
        (
            "change_ciphersuite",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    change_suite: true,
                    ..usual()
                }),
            ],
            all.clone(),
        ),
        (
            "change_group_id",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    change_group_id: true,
                    ..usual()
                }),
            ],
            all.clone(),
        ),
        (
            "change_extensions",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    extensions: ext_3_5(),
                    ..usual()
                }),
            ],
            all.clone(),
        ),
        (
            "all_same_actor",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    proposer: Some("alice"),
                    committer: "alice",
                    welcomer: "alice",
                    members: vec!["bob", "charlie", "diana", "eliza"],
                    change_group_id: true,
                    ..ReInitArgs::default()
                }),
            ],
            all.clone(),
        ),
        (
            "external_tree",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    change_group_id: true,
                    external_tree: true,
                    ..usual()
                }),
            ],
            all.clone(),
        ),
        (
            "force_path",
            vec![
                five(),
                Step::ReInit(ReInitArgs {
                    change_group_id: true,
                    force_path: true,
                    ..usual()
                }),
            ],
            all,
        ),
    ]
}

fn branch_scripts() -> Vec<(&'static str, Vec<Step>, Vec<&'static str>)> {
    let five = || Step::CreateGroup("alice", vec!["bob", "charlie", "diana", "eliza"]);
    let base = || BranchArgs {
        actor: "alice",
        members: vec!["bob", "charlie", "diana", "eliza"],
        ..BranchArgs::default()
    };
    let all = vec!["alice", "bob", "charlie", "diana", "eliza"];
    vec![
        ("base", vec![five(), Step::Branch(base())], all.clone()),
        (
            "with_extensions",
            vec![
                five(),
                Step::Branch(BranchArgs {
                    extensions: ext_3_5(),
                    ..base()
                }),
            ],
            all.clone(),
        ),
        (
            "external_tree",
            vec![
                five(),
                Step::Branch(BranchArgs {
                    external_tree: true,
                    ..base()
                }),
            ],
            all.clone(),
        ),
        (
            "force_path",
            vec![
                five(),
                Step::Branch(BranchArgs {
                    force_path: true,
                    ..base()
                }),
            ],
            all,
        ),
    ]
}

async fn two_servers() -> (Server, Server, [Client; 2]) {
    let a = Server::start().await;
    let b = Server::start().await;
    let clients = [a.client.clone(), b.client.clone()];
    (a, b, clients)
}

async fn run_all(scripts: Vec<(&'static str, Vec<Step>, Vec<&'static str>)>, suites: &[u32]) {
    let (a, b, clients) = two_servers().await;
    for (name, script, members) in scripts {
        run_script(&clients, name, &script, suites, &members).await;
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_join_json() {
    bounded(180, run_all(welcome_join(), &[1, 2, 3, 4, 5, 6, 7])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_json() {
    bounded(180, run_all(commit_scripts(), &[1])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_json() {
    bounded(180, run_all(application(), &[1, 3])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_join_json() {
    bounded(180, run_all(external_join_scripts(), &[1, 2])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_proposals_json() {
    bounded(180, run_all(external_proposals(), &[1])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinit_json() {
    bounded(180, run_all(reinit_scripts(), &[1])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_json() {
    bounded(180, run_all(branch_scripts(), &[1])).await;
}
