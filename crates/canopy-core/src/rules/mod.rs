//! RFC 9420's validity rules: every rule Canopy enforces on what a peer sends, each with a
//! stable id, the section that states it, and one function that checks it.
//!
//! Every entry path that accepts data from a peer (a KeyPackage to add, a proposal, a commit
//! and its UpdatePath, a Welcome, a GroupInfo and its ratchet tree for an external join)
//! runs the same functions of this module, so a rule cannot hold on one path and be missing
//! on another. A broken rule is a [`Violation`]: the [`Rule`], where it was broken ([`At`]),
//! and what was found ([`Detail`]). Errors of every layer report the rule they stand for
//! through their `rule()` method ([`GroupError::rule`](crate::group::GroupError::rule)).
//!
//! | module | RFC 9420 | rules |
//! |---|---|---|
//! | `leaf` | §5.3.1, §7.2, §7.3, §13.4 | LeafNode validity (`LN-`) |
//! | `key_package` | §10, §10.1 | KeyPackage validity (`KP-`) |
//! | `tree` | §7.1, §7.7, §7.9.2, §12.4.3.1 | ratchet tree validity (`TR-`), key uniqueness |
//! | `proposal` | §12.1, §12.2, §12.4.3.2 | single proposals (`PR-`), proposal lists (`CM-`, `EX-`) |
//! | framing, codec, join | §6, §9, §12.4.3 | message protection (`FR-`), joins (`WE-`) |
//!
//! The table of every rule, its section and its negative test is `docs/rules.md` at the root
//! of the repository; a test regenerates it and fails if a rule has no test.
//!
//! Invariants: the rule functions are pure (no clock, no randomness), never panic, and cost
//! O(n log n) or less in the size of the lists they are given; lists from peers are bounded
//! by the codec's limits before they get here.

pub(crate) mod key_package;
pub(crate) mod leaf;
pub(crate) mod proposal;
pub(crate) mod tree;

use canopy_crypto::CipherSuite;

use crate::wire::{CredentialType, ExtensionType, ProposalType, ProtocolVersion};

/// Declares [`Rule`] with its id, RFC section and summary in one table.
macro_rules! rules {
    ($(
        $(#[$doc:meta])*
        $name:ident = $id:literal, $section:literal, $summary:literal;
    )*) => {
        /// A validity rule of RFC 9420 (or, for `AP-` rules, of the application's policy as
        /// RFC 9420 allows it). Its [`id`](Self::id) is stable across releases.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $name, )*
        }

        impl Rule {
            /// Every rule, in id order.
            pub const ALL: &'static [Self] = &[ $( Self::$name, )* ];

            /// The stable rule id, such as `LN-02`.
            pub fn id(self) -> &'static str {
                match self { $( Self::$name => $id, )* }
            }

            /// The RFC 9420 section(s) stating the rule.
            pub fn section(self) -> &'static str {
                match self { $( Self::$name => $section, )* }
            }

            /// What the rule requires, in one line.
            pub fn summary(self) -> &'static str {
                match self { $( Self::$name => $summary, )* }
            }

            /// The name of the rule in the API (`LeafSignature` for `Rule::LeafSignature`).
            pub fn name(self) -> &'static str {
                match self { $( Self::$name => stringify!($name), )* }
            }

            /// The rule with id `id`.
            pub fn from_id(id: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|r| r.id() == id)
            }
        }
    };
}

rules! {
    // ----- §6, §9: message framing -----
    /// The message is for this group.
    FramingGroupId = "FR-01", "§6", "a message's group_id is the group's";
    /// The message is for the current epoch (or a retained past one, §9.2).
    FramingEpoch = "FR-02", "§6, §12.4.2", "a message's epoch is the current epoch, or a retained past epoch";
    /// The FramedContent signature verifies.
    FramingSignature = "FR-03", "§6.1", "the FramedContent signature verifies under the sender's signature key";
    /// A member's PublicMessage has a valid membership tag.
    FramingMembershipTag = "FR-04", "§6.2", "a member's PublicMessage carries a membership tag that verifies";
    /// Application data is never a PublicMessage.
    FramingPublicApplication = "FR-05", "§6.2", "application data is never sent as a PublicMessage";
    /// What each sender type may send.
    FramingSenderContent = "FR-06", "§6, §12.1.8", "external senders send only proposals, new_member_proposal only Add, new_member_commit only Commit";
    /// The sender exists.
    FramingSender = "FR-07", "§6.1, §12.1.8", "the sender is a member, a listed external sender, or a new member signing with its own key";
    /// A PrivateMessage decrypts.
    FramingDecrypt = "FR-08", "§6.3", "a PrivateMessage's sender data and content decrypt with the epoch's keys";
    /// Padding is zero.
    FramingPadding = "FR-09", "§6.3.1", "PrivateMessageContent padding is all zero bytes";
    /// A ratchet key is used once.
    FramingGeneration = "FR-10", "§9.2", "a (sender, generation) key is used at most once, within the out-of-order window";
    /// One extension of each type in a list.
    ExtensionsUnique = "FR-11", "§13.4", "a list of extensions has at most one extension of each type";

    // ----- §5.3.1, §7.2, §7.3, §13.4: LeafNodes -----
    /// The Authentication Service accepts the credential.
    LeafCredential = "LN-01", "§5.3.1, §7.3", "the Authentication Service accepts the leaf's credential for its signature key";
    /// The LeafNode signature verifies.
    LeafSignature = "LN-02", "§7.3", "the LeafNode signature verifies under its signature_key (with group_id and leaf index for update and commit leaves)";
    /// The leaf meets `required_capabilities`.
    LeafRequiredCapabilities = "LN-03", "§7.3, §11.1", "the leaf lists every extension, proposal and credential type of the group's required_capabilities";
    /// Every member supports the leaf's credential type.
    LeafCredentialTypeSupported = "LN-04", "§7.3", "every member supports the leaf's credential type";
    /// The leaf supports every credential type in use.
    LeafSupportsCredentialTypes = "LN-05", "§7.3", "the leaf supports every credential type in use in the group";
    /// The current time is within the lifetime.
    LeafLifetime = "LN-06", "§7.3", "the current time is within a key_package leaf's lifetime (when a clock is given)";
    /// The lifetime is not longer than the application's maximum.
    LeafLifetimeMax = "LN-07", "§7.2", "a key_package leaf's total lifetime is within the application's maximum";
    /// Every non-default extension of the leaf is listed in its capabilities.
    LeafExtensionsListed = "LN-08", "§7.2, §7.3", "every non-default extension in the leaf is listed in its capabilities";
    /// The leaf's source fits where it appears.
    LeafSource = "LN-09", "§7.3", "leaf_node_source is key_package in a KeyPackage, update in an Update, commit in an UpdatePath";
    /// An Update changes the encryption key.
    LeafUpdateNewKey = "LN-10", "§7.3", "an Update's encryption_key differs from the one of the leaf it replaces";
    /// Signature keys are unique.
    LeafSignatureKeyUnique = "LN-11", "§7.3, §12.2", "no two leaves of the tree share a signature_key";
    /// Encryption keys are unique.
    LeafEncryptionKeyUnique = "LN-12", "§7.3, §12.4.3.1", "no two nodes of the tree share an encryption_key";
    /// The leaf lists its own credential type.
    LeafOwnCredentialListed = "LN-13", "§7.2", "the leaf's credential type is listed in its capabilities";
    /// The leaf supports the group's protocol version.
    LeafVersion = "LN-14", "§7.2, §11.1", "the leaf's capabilities list the group's protocol version";
    /// Recognised extensions appear only where their registry entry allows.
    LeafExtensionPlacement = "LN-15", "§13.4, §17.3", "a recognised extension in a LeafNode is one registered for LeafNodes";
    /// A replacing credential is a valid successor.
    LeafCredentialSuccessor = "LN-16", "§5.3.1", "a credential replacing another (Update, Commit, resync) is a valid successor of it";
    /// The encryption key is a valid key of the suite's KEM.
    LeafEncryptionKeyValid = "LN-17", "§5.1.1, RFC 9180 §7.1", "the leaf's encryption_key is a valid public key of the suite's KEM";
    /// The leaf supports every GroupContext extension.
    LeafGroupExtensions = "LN-18", "§13.4", "the leaf lists every non-default extension of the GroupContext";

    // ----- §10, §10.1: KeyPackages -----
    /// The KeyPackage's version is the group's.
    KeyPackageVersion = "KP-01", "§10.1", "the KeyPackage's protocol version is the group's";
    /// The KeyPackage's cipher suite is the group's.
    KeyPackageSuite = "KP-02", "§10.1", "the KeyPackage's cipher suite is the group's";
    /// The KeyPackage signature verifies.
    KeyPackageSignature = "KP-03", "§10.1", "the KeyPackage signature verifies under leaf_node.signature_key";
    /// `init_key` differs from the leaf's `encryption_key`.
    KeyPackageInitKeyDistinct = "KP-04", "§10.1", "init_key differs from leaf_node.encryption_key";
    /// `init_key` is a valid key of the suite's KEM.
    KeyPackageInitKeyValid = "KP-05", "§5.1.1, §10", "init_key is a valid public key of the suite's KEM";
    /// Recognised KeyPackage extensions are registered for KeyPackages.
    KeyPackageExtensionPlacement = "KP-06", "§13.4, §17.3", "a recognised extension in a KeyPackage is one registered for KeyPackages";

    // ----- §7.1, §7.7, §7.9.2, §12.4.3.1: ratchet trees -----
    /// The tree is truncated.
    TreeTruncated = "TR-01", "§7.7", "the right subtree of the root holds a member (the tree is truncated)";
    /// Unmerged leaves are sorted.
    TreeUnmergedSorted = "TR-02", "§7.1", "a parent's unmerged_leaves are sorted in increasing order";
    /// Unmerged leaves are non-blank descendants.
    TreeUnmergedLeaf = "TR-03", "§12.4.3.1", "each unmerged leaf is a non-blank leaf below its parent";
    /// Unmerged leaves are listed at every node between leaf and parent.
    TreeUnmergedChain = "TR-04", "§12.4.3.1", "every non-blank node between an unmerged leaf and its parent lists it too";
    /// Parent hashes are valid.
    TreeParentHash = "TR-05", "§7.9.2, §12.4.3.1", "every non-blank parent is parent-hash valid, covered by exactly one chain";
    /// The tree hash matches the GroupContext.
    TreeHash = "TR-06", "§12.4.3.1", "the ratchet tree's hash is the GroupContext's tree_hash";
    /// Parent encryption keys are valid.
    TreeNodeKeyValid = "TR-07", "§5.1.1", "a parent node's encryption_key is a valid public key of the suite's KEM";

    // ----- §12.1: proposals -----
    /// Only a member's own Update.
    ProposalUpdateSender = "PR-01", "§12.1.2, §12.4", "an Update is sent by a member, and committed only by reference";
    /// A Remove names a member.
    ProposalRemoveMember = "PR-02", "§12.1.3", "a Remove names a non-blank leaf";
    /// PSK nonce length.
    ProposalPskNonce = "PR-03", "§12.1.4", "a PreSharedKey's psk_nonce has length KDF.Nh";
    /// `reinit` and `branch` resumption PSKs only in successor groups.
    ProposalPskUsage = "PR-04", "§8.4, §12.1.4", "a resumption PSK with usage reinit or branch appears only in the first commit of a successor group";
    /// ReInit never downgrades.
    ProposalReInitVersion = "PR-05", "§12.1.5", "a ReInit's version is not lower than the group's";
    /// New GroupContext extensions are supported by every member.
    ProposalGroupExtensions = "PR-06", "§12.1.7, §11.1", "every member supports the new GroupContext extensions and their required_capabilities";
    /// What external senders may propose.
    ProposalExternalType = "PR-07", "§12.1.8", "an external sender proposes only add, remove, psk, reinit or group_context_extensions";
    /// New external senders are acceptable.
    ProposalExternalSenders = "PR-08", "§5.3.1", "the Authentication Service accepts every credential of a new external_senders extension";

    // ----- §12.2, §12.4: commits -----
    /// No Update from the committer.
    CommitterUpdate = "CM-01", "§12.2", "the proposal list holds no Update from the committer";
    /// No Remove of the committer.
    CommitterRemoved = "CM-02", "§12.2", "the proposal list holds no Remove of the committer";
    /// One change per leaf.
    CommitLeafChangedTwice = "CM-03", "§12.2", "no two Update or Remove proposals apply to the same leaf";
    /// No client added twice.
    CommitAddTwice = "CM-04", "§12.2", "no two Adds add the same client (same signature key)";
    /// No Add of a member.
    CommitAddMember = "CM-05", "§12.2", "no Add adds a client already in the group, unless the list also removes it";
    /// No PSK twice.
    CommitPskTwice = "CM-06", "§12.2", "no two PreSharedKey proposals name the same PSK";
    /// At most one GroupContextExtensions.
    CommitExtensionsTwice = "CM-07", "§12.2", "at most one GroupContextExtensions proposal";
    /// ReInit alone.
    CommitReInitAlone = "CM-08", "§12.2", "a ReInit is the only proposal of its commit";
    /// No ExternalInit in a member's commit.
    CommitExternalInit = "CM-09", "§12.2", "a member's commit holds no ExternalInit";
    /// A path when required.
    CommitPathRequired = "CM-10", "§12.4, §12.4.2", "a commit carries a path if it is empty or holds a proposal type that requires one";
    /// Referenced proposals are known.
    CommitProposalRef = "CM-11", "§12.4.2", "every proposal reference names a proposal received in this epoch";
    /// The committer's new leaf key is new.
    CommitPathNewKey = "CM-12", "§12.4.2", "an UpdatePath leaf's encryption_key differs from the committer's current one";
    /// The path's keys are not in the tree.
    CommitPathFreshKeys = "CM-13", "§12.4.2", "no public key of the UpdatePath is already in the tree (after the proposals) or twice in the path";
    /// The path has one node per filtered direct path node.
    CommitPathLength = "CM-14", "§7.6, §12.4.2", "an UpdatePath has one node per node of the committer's filtered direct path";
    /// One ciphertext per resolution node.
    CommitPathCiphertexts = "CM-15", "§7.6", "each UpdatePath node has one ciphertext per node of its copath child's resolution";
    /// The leaf's parent hash matches.
    CommitPathParentHash = "CM-16", "§7.9.2, §12.4.2", "the UpdatePath leaf's parent_hash matches the recomputed chain";
    /// The path secret for us decrypts.
    CommitPathDecrypt = "CM-17", "§7.5, §12.4.2", "the path secret encrypted to the receiver decrypts";
    /// Decrypted path secrets give the path's keys.
    CommitPathKeys = "CM-18", "§7.5", "the public keys derived from the decrypted path secrets are those of the UpdatePath";
    /// The confirmation tag verifies.
    CommitConfirmationTag = "CM-19", "§6.1, §12.4.2", "the commit's confirmation_tag verifies under the new epoch's confirmation key";

    // ----- §12.2, §12.4.3.2: external commits -----
    /// The proposals an external commit may carry.
    ExternalProposals = "EX-01", "§12.2", "an external commit has exactly one ExternalInit, at most one Remove, PreSharedKeys and nothing else";
    /// No references in an external commit.
    ExternalByValue = "EX-02", "§12.4.3.2", "an external commit carries every proposal by value";
    /// The ExternalInit decapsulates.
    ExternalInitKem = "EX-03", "§8.3", "the ExternalInit's kem_output decapsulates under the epoch's external key";
    /// External commits need a path.
    ExternalPath = "EX-04", "§12.4.3.2", "an external commit carries a path";

    // ----- §11, §12.4.3.1: Welcome, GroupInfo, successor groups -----
    /// The Welcome is for one of our KeyPackages.
    WelcomeForUs = "WE-01", "§12.4.3.1", "the Welcome has an entry for our KeyPackage, in its cipher suite";
    /// The GroupSecrets and GroupInfo decrypt.
    WelcomeDecrypt = "WE-02", "§12.4.3.1", "the GroupSecrets and the GroupInfo decrypt";
    /// The GroupInfo signature verifies.
    GroupInfoSignature = "WE-03", "§12.4.3.1", "the GroupInfo signature verifies under the key of the non-blank leaf `signer`";
    /// The GroupInfo's suite is the KeyPackage's.
    GroupInfoSuite = "WE-04", "§12.4.3.1", "the GroupInfo's cipher suite is the KeyPackage's";
    /// Our leaf is in the tree.
    WelcomeOwnLeaf = "WE-05", "§12.4.3.1", "a leaf of the tree is our KeyPackage's LeafNode";
    /// The path secret gives the tree's keys.
    WelcomePathSecret = "WE-06", "§12.4.3.1", "the keys derived from the path secret are those of the tree";
    /// The GroupInfo confirmation tag verifies.
    GroupInfoConfirmationTag = "WE-07", "§12.4.3.1", "the GroupInfo's confirmation_tag verifies";
    /// At most one reinit or branch PSK, and only when joining a successor.
    WelcomeSuccessorPsk = "WE-08", "§12.4.3.1, §8.4", "a Welcome names at most one reinit or branch PSK, and only a successor join accepts one";
    /// A successor starts at epoch 1.
    SuccessorEpoch = "WE-09", "§11.2, §11.3, §12.4.3.1", "a successor group joined with a reinit or branch PSK is at epoch 1";
    /// A re-initialized group matches its ReInit.
    SuccessorReInit = "WE-10", "§11.2, §12.4.3.1", "a re-initialized group has the ReInit's group_id, version, cipher suite and extensions, and its PSK names the epoch that ended the old group";
    /// Members of a re-initialized group.
    SuccessorReInitMembers = "WE-11", "§11.2, §12.4.3.1", "every member of the old group is a member of the re-initialized group";
    /// A branch keeps version and suite.
    SuccessorBranch = "WE-12", "§11.3, §12.4.3.1", "a branch has the old group's version and cipher suite";
    /// Branch members come from the old group.
    SuccessorBranchMembers = "WE-13", "§11.3, §12.4.3.1", "every member of a branch is a member of the old group";
    /// External join needs `external_pub`.
    GroupInfoExternalPub = "WE-14", "§12.4.3.2", "a GroupInfo for an external join carries a valid external_pub";

    // ----- §12.4: sending -----
    /// Commit before application data.
    ApplicationAfterProposals = "AP-01", "§12.4", "a member that holds valid proposals commits before sending application data";
    /// The application's proposal policy.
    ApplicationPolicy = "AP-02", "§12.2, §12.4", "the application's policy accepts each proposal received and each proposal committed";

    // ----- draft-ietf-mls-extensions §SelfRemove (feature `extensions`) -----
    /// SelfRemove as a PublicMessage.
    SelfRemovePublic = "SR-01", "ext §SelfRemove", "a SelfRemove proposal is sent as a PublicMessage";
    /// SelfRemove by reference.
    SelfRemoveByReference = "SR-02", "ext §SelfRemove", "a commit includes SelfRemove proposals by reference only";
    /// SelfRemove from a member.
    SelfRemoveSender = "SR-03", "ext §SelfRemove", "a SelfRemove is sent by a member, never as an external or new-member proposal";
    /// A self-remove-capable group.
    SelfRemoveCapable = "SR-04", "ext §SelfRemove", "every member lists the SelfRemove proposal type in its capabilities";
    /// No other change to a leaf that removes itself.
    SelfRemoveRemove = "SR-05", "ext §SelfRemove", "no Remove, Update or second SelfRemove applies to a leaf a SelfRemove removes";
    /// The committer stays.
    SelfRemoveCommitter = "SR-06", "ext §SelfRemove", "the committer does not commit its own SelfRemove";
    /// One SelfRemove per member and epoch.
    SelfRemoveOnce = "SR-07", "ext §SelfRemove", "a member sends at most one SelfRemove proposal per epoch";
    /// What an external commit references.
    SelfRemoveExternal = "SR-08", "ext §SelfRemove", "an external commit references only SelfRemove proposals, each a member's, signed for the epoch it joins";

    // ----- draft-ietf-mls-extensions §AppDataUpdate, §AppEphemeral (feature `extensions`) -----
    /// A known component.
    AppDataUpdateComponent = "AD-01", "ext §AppDataUpdate", "an AppDataUpdate names a component the application knows";
    /// Removing present data.
    AppDataUpdateRemoveAbsent = "AD-02", "ext §AppDataUpdate", "an AppDataUpdate remove names a component with data in the GroupContext";
    /// One remove, or only updates.
    AppDataUpdateList = "AD-03", "ext §AppDataUpdate", "per component, a commit holds a single remove or only updates";
    /// The component's logic.
    AppDataUpdateRefused = "AD-04", "ext §AppDataUpdate", "the component's logic accepts the updates of a commit and yields its new data";
    /// GroupContextExtensions leaves app data alone.
    AppDataUpdateExtensions = "AD-05", "ext §AppDataUpdate", "with AppDataUpdate required, a GroupContextExtensions proposal leaves app_data_dictionary as it was";
    /// Supported by every member.
    AppProposalCapable = "AD-06", "ext §AppDataUpdate, §AppEphemeral", "every member lists the AppDataUpdate or AppEphemeral proposal type it receives";
    /// A known component.
    AppEphemeralComponent = "AE-01", "ext §AppEphemeral", "an AppEphemeral names a component the application knows";
    /// Valid data.
    AppEphemeralRefused = "AE-02", "ext §AppEphemeral", "the component's logic accepts the AppEphemeral data (an AppAck for app_ack)";

    // ----- draft-ietf-mls-extensions §Negotiating Extensions and Components (feature `extensions`) -----
    /// Required wire formats.
    LeafWireFormats = "XT-01", "ext §Negotiating Extensions and Components", "a member's leaf lists every wire format of the group's required_wire_formats in supported_wire_formats";
    /// Required components.
    LeafComponents = "XT-02", "ext §Negotiating Extensions and Components", "a member's leaf lists every component of the group's app_components and safe_aad";
    /// Required media types.
    LeafMediaTypes = "XT-03", "ext §Content Advertisement", "a member's leaf lists every media type of the group's content_media_types";
    /// Safe AAD framing.
    SafeAadFraming = "XT-04", "ext §Safe AAD", "where the GroupContext holds the safe_aad component, a message's authenticated_data starts with a SafeAAD whose items are sorted by component id";
    /// Last-resort marker.
    LastResortComponent = "XT-05", "ext §Last-Resort KeyPackages", "a KeyPackage's last_resort_key_package component carries no data";
    /// Application framing.
    ApplicationFramed = "XT-06", "ext §Framing of application_data", "where the GroupContext holds the content_media_types component, application_data is an ApplicationFraming";

    // ----- draft-ietf-mls-extensions §Multi-Credentials (feature `extensions`) -----
    /// Bindings present.
    MultiCredentialEmpty = "MC-01", "ext §Multi-Credentials", "a multi or weak-multi credential holds at least one credential binding";
    /// Strong support.
    MultiCredentialSupported = "MC-02", "ext §Verifying a Multi-Credential", "every member supports the cipher suite and credential type of every binding of a multi credential";
    /// Weak support.
    WeakMultiCredentialSupported = "MC-03", "ext §Verifying a Multi-Credential", "every member supports at least one binding of a weak-multi credential";
    /// The Authentication Service accepts each binding.
    MultiCredentialBindingValid = "MC-04", "ext §Verifying a Multi-Credential", "each binding (of a weak-multi credential: each this client supports) has a credential the Authentication Service accepts for its credential_key";
    /// Binding signatures.
    MultiCredentialSignature = "MC-05", "ext §Credential Bindings", "each binding's signature verifies under its credential_key over CredentialBindingTBS with the leaf's signature_key";
}

impl core::fmt::Display for Rule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.section().strip_prefix("ext ") {
            Some(section) => write!(f, "{} (draft-ietf-mls-extensions {section})", self.id()),
            None => write!(f, "{} (RFC 9420 {})", self.id(), self.section()),
        }
    }
}

/// Where in a message or tree a rule was broken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum At {
    /// The message or structure as a whole.
    #[default]
    Whole,
    /// The leaf with this index.
    Leaf(u32),
    /// The node with this index (array representation, RFC 9420 Appendix C).
    Node(u32),
}

impl core::fmt::Display for At {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Whole => Ok(()),
            Self::Leaf(l) => write!(f, " at leaf {l}"),
            Self::Node(x) => write!(f, " at node {x}"),
        }
    }
}

/// What was found that broke a rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// Nothing more to say.
    #[default]
    None,
    /// The extension type concerned.
    Extension(ExtensionType),
    /// The proposal type concerned.
    Proposal(ProposalType),
    /// The credential type concerned.
    Credential(CredentialType),
    /// The cipher suite concerned.
    Suite(CipherSuite),
    /// The protocol version concerned.
    Version(ProtocolVersion),
    /// A code point that should have been `expected`.
    Code {
        /// The required value.
        expected: u16,
        /// The value found.
        got: u16,
    },
    /// A count that should have been `expected`.
    Count {
        /// The required count.
        expected: usize,
        /// The count found.
        got: usize,
    },
    /// A lifetime that does not contain `now`.
    Lifetime {
        /// The time checked against.
        now: u64,
        /// `not_before`.
        not_before: u64,
        /// `not_after`.
        not_after: u64,
    },
    /// A total lifetime above the maximum.
    TooLong {
        /// `not_after - not_before` (saturating).
        total: u64,
        /// The maximum.
        max: u64,
    },
    /// The leaf (or node) that holds a duplicated value first.
    First(u32),
    /// A length in bytes.
    Length(usize),
    /// The application's reason (from its validator or policy).
    Reason(String),
}

impl core::fmt::Display for Detail {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Extension(t) => write!(f, ": extension type 0x{:04x}", t.0),
            Self::Proposal(t) => write!(f, ": proposal type 0x{:04x}", t.0),
            Self::Credential(t) => write!(f, ": credential type 0x{:04x}", t.0),
            Self::Suite(s) => write!(f, ": cipher suite {s:?}"),
            Self::Version(v) => write!(f, ": version {v:?}"),
            Self::Code { expected, got } => write!(f, ": {got}, expected {expected}"),
            Self::Count { expected, got } => write!(f, ": {got}, expected {expected}"),
            Self::Lifetime {
                now,
                not_before,
                not_after,
            } => write!(f, ": time {now} outside {not_before}..={not_after}"),
            Self::TooLong { total, max } => write!(f, ": {total} s, maximum {max} s"),
            Self::First(x) => write!(f, ": also at {x}"),
            Self::Length(n) => write!(f, ": {n} bytes"),
            Self::Reason(r) => write!(f, ": {r}"),
        }
    }
}

/// A broken rule: the data was well-formed but is invalid under RFC 9420 (or the
/// application's policy). The operation that found it changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{rule} broken{at}: {summary}{detail}", summary = rule.summary())]
pub struct Violation {
    rule: Rule,
    at: At,
    detail: Detail,
}

impl Violation {
    /// `rule` broken by the structure as a whole.
    pub fn new(rule: Rule) -> Self {
        Self {
            rule,
            at: At::Whole,
            detail: Detail::None,
        }
    }

    /// Says where the rule was broken.
    #[must_use]
    pub fn at(self, at: At) -> Self {
        Self { at, ..self }
    }

    /// Says what was found.
    #[must_use]
    pub fn with(self, detail: Detail) -> Self {
        Self { detail, ..self }
    }

    /// The rule broken.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Where.
    pub fn location(&self) -> At {
        self.at
    }

    /// What was found.
    pub fn detail(&self) -> &Detail {
        &self.detail
    }
}

impl From<Rule> for Violation {
    fn from(rule: Rule) -> Self {
        Self::new(rule)
    }
}

/// `Err(Violation::new(rule))` unless `ok`.
pub(crate) fn ensure(ok: bool, rule: Rule) -> Result<(), Violation> {
    if ok {
        Ok(())
    } else {
        Err(Violation::new(rule))
    }
}

#[cfg(test)]
mod tests;

/// Every error type that can report a broken [`Rule`].
#[cfg(test)]
pub(crate) trait ReportsRule {
    /// The rule broken, if the error is a broken rule.
    fn broken_rule(&self) -> Option<Rule>;
}

#[cfg(test)]
macro_rules! reports_rule {
    ($($ty:ty),*) => {$(
        impl ReportsRule for $ty {
            fn broken_rule(&self) -> Option<Rule> {
                self.rule()
            }
        }
    )*};
}

#[cfg(test)]
reports_rule!(
    crate::group::GroupError,
    crate::key_package::KeyPackageError,
    crate::tree::TreeError,
    crate::framing::FramingError,
    crate::join::JoinError,
    crate::codec::CodecError,
    crate::schedule::ScheduleError
);

#[cfg(test)]
impl ReportsRule for Violation {
    fn broken_rule(&self) -> Option<Rule> {
        Some(self.rule)
    }
}

/// Asserts that `result` failed by breaking `rule` (the negative tests of the rule table
/// call this, so that the table finds them).
#[cfg(test)]
#[track_caller]
pub(crate) fn assert_rule<T: core::fmt::Debug, E: ReportsRule + core::fmt::Debug>(
    result: Result<T, E>,
    rule: Rule,
) {
    match result {
        Ok(value) => panic!("expected {} to be broken, got Ok({value:?})", rule.id()),
        Err(e) => assert_eq!(
            e.broken_rule(),
            Some(rule),
            "expected {} to be broken, got {e:?}",
            rule.id()
        ),
    }
}
