//! Processing a sequence of received messages at once (RFC 9420 §6.3): consecutive
//! application messages of the current epoch have their keys taken in order, then are
//! decrypted and their signatures verified as batches, on the rayon pool with the `parallel`
//! feature.
//!
//! The results are exactly those of [`Group::process_message`] on each message in turn: a run
//! is only answered from the fast path when every message in it decrypts and verifies, and
//! otherwise the run's secret-tree changes are undone and its messages processed one by one.

use canopy_crypto::{SignaturePublicKey, SuiteOps};

use super::process::{Handled, ProcessedMessage, leaf_signature_key};
use super::stage::Received;
use super::{Env, EpochState, Group, GroupError};
use crate::framing::{VerifiedContent, open_content, open_key, verify_all};
use crate::schedule::KeyAndNonce;
use crate::tree::RatchetTree;
use crate::tree::math::LeafIndex;
use crate::wire::{ContentType, GroupContext, MlsMessage, PrivateMessage};

impl Group {
    /// Processes `messages` in the order given, with the same results, and the same final
    /// state, as [`Group::process_message`] called on each in turn.
    ///
    /// It stops after the first commit (a [`ProcessedMessage::Commit`] or
    /// [`ProcessedMessage::OwnCommit`]), so that the caller can merge it before the messages
    /// of the next epoch: fewer results than messages means the rest were not looked at yet.
    ///
    /// Runs of two or more consecutive application messages of the current epoch (a client
    /// catching up on a backlog, a busy group) first have their keys consumed in order, as
    /// they would be one by one; then they are decrypted and their signatures verified as
    /// batches ([`canopy_crypto::SuiteOps::verify_batch`], which accepts exactly what one
    /// verification each accepts), one batch per thread of the rayon pool with the
    /// `parallel` feature from 16 messages on. On a 2-vCPU machine 64 messages of 1 KiB from
    /// one sender take about 15 µs each, against 39 µs one at a time. If any message of a run
    /// fails, the run is undone and processed one message at a time, so each message gets its
    /// own result.
    pub fn process_messages<M: AsRef<[u8]>>(
        &mut self,
        env: &Env<'_>,
        messages: &[M],
    ) -> Vec<Result<ProcessedMessage, GroupError>> {
        let limits = self.config.limits;
        crate::codec::with_limits(limits, || {
            self.process_messages_within_limits(env, messages)
        })
    }

    /// [`Self::process_messages`], under the group's limits.
    fn process_messages_within_limits<M: AsRef<[u8]>>(
        &mut self,
        env: &Env<'_>,
        messages: &[M],
    ) -> Vec<Result<ProcessedMessage, GroupError>> {
        let mut results = Vec::with_capacity(messages.len());
        let mut run: Vec<PrivateMessage> = Vec::new();
        for bytes in messages {
            let bytes = bytes.as_ref();
            match MlsMessage::from_bytes(bytes) {
                Ok(MlsMessage::PrivateMessage(m)) if self.is_current_application(&m) => {
                    run.push(m);
                }
                _ => {
                    self.finish_run(env, &mut run, &mut results);
                    let result = self.process_message(env, bytes);
                    let commit = matches!(
                        result,
                        Ok(ProcessedMessage::Commit(_) | ProcessedMessage::OwnCommit)
                    );
                    results.push(result);
                    if commit {
                        return results;
                    }
                }
            }
        }
        self.finish_run(env, &mut run, &mut results);
        results
    }

    /// Whether `message` is application data for this group's current epoch.
    fn is_current_application(&self, message: &PrivateMessage) -> bool {
        message.content_type == ContentType::Application
            && message.epoch == self.context.epoch
            && message.group_id.as_slice() == self.context.group_id.as_slice()
    }

    /// Processes the messages of `run` and empties it.
    fn finish_run(
        &mut self,
        env: &Env<'_>,
        run: &mut Vec<PrivateMessage>,
        results: &mut Vec<Result<ProcessedMessage, GroupError>>,
    ) {
        let run = core::mem::take(run);
        if run.len() >= 2
            && let Some(processed) = self.try_run(env, &run)
        {
            results.extend(processed.into_iter().map(Ok));
            return;
        }
        for message in &run {
            results.push(self.process_private(env, message));
        }
    }

    /// Every message of `run` decrypted and verified, or `None` with the group unchanged if
    /// any of them fails.
    fn try_run(&mut self, env: &Env<'_>, run: &[PrivateMessage]) -> Option<Vec<ProcessedMessage>> {
        let ops = env.ops(self.cipher_suite()).ok()?;
        let before = self.epoch.secret_tree.clone();
        let processed = self.run_all(env, ops, run);
        if processed.is_none() {
            self.epoch.secret_tree = before;
        }
        processed
    }

    /// Decrypts `run` in order, consuming each key, and verifies every signature; `None` at
    /// the first failure (the caller undoes the consumed keys).
    fn run_all(
        &mut self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        run: &[PrivateMessage],
    ) -> Option<Vec<ProcessedMessage>> {
        let verified = self.open_and_verify(ops, run)?;
        verified
            .iter()
            .map(|content| {
                let received = Received {
                    content,
                    encoded: None,
                    confirmed: None,
                };
                self.handle_verified(env, ops, &received, None)
                    .ok()
                    .map(Handled::into_processed)
            })
            .collect()
    }

    /// The keys of `run` taken in order, then its messages decrypted and their signatures
    /// verified in batches ([`verify_all`]).
    #[cfg(not(feature = "parallel"))]
    fn open_and_verify(
        &mut self,
        ops: &dyn SuiteOps,
        run: &[PrivateMessage],
    ) -> Option<Vec<VerifiedContent>> {
        let keyed = take_keys(ops, run, &self.context, &mut self.epoch, &self.tree)?;
        open_keyed(ops, &self.context, keyed)
    }

    /// The keys of `run` taken in order on the calling thread (each depends on the one
    /// before); then, from [`crate::parallel::CONTENT_SIGNATURES`] messages on, the messages
    /// decrypted and verified in one batch per thread (`rules::tree::batch_len`): the first
    /// batch here, the others on the rayon pool, whose workers wake while this thread works.
    #[cfg(feature = "parallel")]
    fn open_and_verify(
        &mut self,
        ops: &dyn SuiteOps,
        run: &[PrivateMessage],
    ) -> Option<Vec<VerifiedContent>> {
        use std::sync::OnceLock;
        let keyed = take_keys(ops, run, &self.context, &mut self.epoch, &self.tree)?;
        let context = &self.context;
        if run.len() < crate::parallel::CONTENT_SIGNATURES {
            return open_keyed(ops, context, keyed);
        }
        let len = crate::rules::tree::batch_len(run.len(), rayon::current_num_threads());
        let mut keyed = keyed.into_iter();
        let batches: Vec<Vec<Keyed<'_>>> = (0..run.len().div_ceil(len))
            .map(|_| keyed.by_ref().take(len).collect())
            .collect();
        let slots: Vec<OnceLock<Option<Vec<VerifiedContent>>>> =
            batches.iter().map(|_| OnceLock::new()).collect();
        let mut batches = batches.into_iter().zip(&slots);
        let here = batches.next();
        rayon::in_place_scope_fifo(|scope| {
            for (batch, slot) in batches {
                scope.spawn_fifo(move |_| {
                    // Each slot is set once, by its own batch.
                    let _ = slot.set(open_keyed(ops, context, batch));
                });
            }
            if let Some((batch, slot)) = here {
                let _ = slot.set(open_keyed(ops, context, batch));
            }
        });
        let mut verified = Vec::with_capacity(run.len());
        for slot in slots {
            verified.extend(slot.into_inner()??);
        }
        Some(verified)
    }
}

/// A message of a run whose key was taken from the secret tree.
struct Keyed<'m> {
    message: &'m PrivateMessage,
    leaf: LeafIndex,
    reuse_guard: [u8; 4],
    key: KeyAndNonce,
    signature_key: SignaturePublicKey,
}

/// RFC 9420 §6.3.2: the sender data of each message of `run` decrypted and its key consumed
/// from the secret tree of `epoch`, in order, with the sender's signature key from `tree`;
/// `None` at the first failure (the caller undoes the consumed keys).
fn take_keys<'m>(
    ops: &dyn SuiteOps,
    run: &'m [PrivateMessage],
    context: &GroupContext,
    epoch: &mut EpochState,
    tree: &RatchetTree,
) -> Option<Vec<Keyed<'m>>> {
    run.iter()
        .map(|message| {
            let (leaf, reuse_guard, pending) = open_key(
                ops,
                message,
                context,
                &epoch.secrets.sender_data_secret,
                &epoch.secret_tree,
            )
            .ok()?;
            let signature_key = leaf_signature_key(tree, leaf).ok()?;
            let key = pending.key().clone();
            epoch.secret_tree.commit_decryption(pending).ok()?;
            Some(Keyed {
                message,
                leaf,
                reuse_guard,
                key,
                signature_key,
            })
        })
        .collect()
}

/// RFC 9420 §6.3.2, §6.1: the contents of `keyed` decrypted and decoded, and their
/// signatures verified together; `None` if any fails.
fn open_keyed(
    ops: &dyn SuiteOps,
    context: &GroupContext,
    keyed: Vec<Keyed<'_>>,
) -> Option<Vec<VerifiedContent>> {
    let items = keyed
        .into_iter()
        .map(|k| {
            let content =
                open_content(ops, k.message, context, k.leaf, k.reuse_guard, &k.key).ok()?;
            Some((content, k.signature_key))
        })
        .collect::<Option<Vec<_>>>()?;
    verify_all(ops, items).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::group::GroupConfig;
    use crate::group::test_world::World;

    fn private(bytes: &[u8]) -> PrivateMessage {
        match MlsMessage::from_bytes(bytes).unwrap() {
            MlsMessage::PrivateMessage(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_clean_run_takes_the_fast_path_and_a_failing_one_changes_nothing() {
        let w = World::new();
        let env = w.env();
        let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
        let mut run: Vec<PrivateMessage> = (0..3u8)
            .flat_map(|i| {
                [
                    private(&alice.encrypt_application(&env, &[i; 64], b"").unwrap()),
                    private(&carol.encrypt_application(&env, &[i; 32], b"").unwrap()),
                ]
            })
            .collect();
        let before = bob.to_bytes().unwrap();
        // With a replayed message the run fails as a whole and leaves Bob as he was.
        let mut replayed = run.clone();
        replayed.push(run[1].clone());
        assert!(bob.try_run(&env, &replayed).is_none());
        assert_eq!(bob.to_bytes().unwrap().as_bytes(), before.as_bytes());
        // The clean run is read in full, in order.
        let read = bob.try_run(&env, &run).unwrap();
        assert_eq!(read.len(), 6);
        for (i, processed) in read.iter().enumerate() {
            match processed {
                ProcessedMessage::Application { data, .. } => {
                    assert_eq!(data[0], u8::try_from(i / 2).unwrap());
                    assert_eq!(data.len(), if i % 2 == 0 { 64 } else { 32 });
                }
                other => panic!("{other:?}"),
            }
        }
        // Each key was consumed: the same messages again are refused one by one.
        run.truncate(1);
        assert!(bob.process_private(&env, &run[0]).is_err());
    }
}
