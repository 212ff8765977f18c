//! Threading: assigning each incoming post to a case, one post at a time.
//!
//! The [`Threader`] is deterministic (same posts in the same order give the same cases and ids) and
//! streaming (it sees each post once, roughly in published order). It knows only what it needs to
//! decide: an index from post ids and conversations to cases, and a small entry per case. The full
//! [`Case`] lives with the caller, who applies each [`Assignment`] with
//! [`Case::open`] / [`Case::record`].
//!
//! # Rules, in the order they are tried
//!
//! A case belongs to one customer: posts by that customer and by the brand join it; anyone else's
//! post is their own voice and goes to their own case (except blog comments, rule d).
//!
//! 0. **Duplicate**: a post already assigned gets the same case again ([`Rule::Duplicate`]).
//! 1. **Reply** (a, e): a reply joins the case of the post it replies to (by native id on the same
//!    platform) when written by that case's customer or by the brand. A brand reply sets
//!    [`Assignment::first_response`] when it is the first brand post of the case. A customer reply to
//!    a *resolved* case reopens it ([`Assignment::reopened`]); one to a *closed* case opens a new case.
//!    If a reply arrived before the post it answers (out of order), that post joins the reply's case
//!    when it arrives ([`Rule::Parent`]).
//! 2. **Blog comment** (d): on [`Platform::Blog`], any comment joins the case of the post it answers;
//!    a comment by someone who is neither the customer nor the brand gets [`Role::Participant`].
//! 3. **Conversation** (b): a post with a `conversation_id` joins that conversation's case for the same
//!    customer (a brand post: for the customer it replies to).
//! 4. A **brand post** that joined nothing opens nothing. When it replies to a post not seen yet, it
//!    is kept as an orphan and adopted by that post's case when the post arrives
//!    ([`Assignment::adopted`]).
//! 5. **Follow-up** (c): a customer's post to the same brand joins their latest case while it is active
//!    (not resolved or closed) and the post is within [`ThreaderConfig::follow_up_window`] (default
//!    72 h) of the case's activity.
//! 6. **New case** (f): otherwise a new case opens for (platform, brand, customer) — only for posts
//!    attributed to a brand (and, with [`ThreaderConfig::require_complaint`], not known to be a
//!    non-complaint).
//!
//! # Bounded state and eviction
//!
//! Time for eviction is the *watermark*: the latest published time seen (never the wall clock). Every
//! [`EVICT_EVERY`] assignments, and whenever the post index exceeds [`ThreaderConfig::max_posts`]:
//!
//! - cases whose latest activity is older than `watermark - retention` (default 14 days) are forgotten
//!   with all their index entries (posts, conversations, the customer's latest-case pointer);
//! - if the post index is still over `max_posts`, the least recently active cases are forgotten until
//!   it is at 90 % of the cap;
//! - pending entries (orphan brand replies, posts awaited by an earlier reply) are dropped with their
//!   case or after `retention`, and capped at [`ThreaderConfig::max_pending`], oldest first.
//!
//! A post replying to a forgotten case starts a new case. To continue after a restart, seed a fresh
//! threader from stored rows with [`Threader::restore`] (cases) and [`Threader::remember`] (posts).

use chrono::{DateTime, TimeDelta, Utc};
use earshot_core::post::{Platform, Post, normalize_handle};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher as _;
use std::time::Duration;

use crate::case::{Case, CaseError, CaseId, CaseStatus};

/// How many assignments pass between two retention sweeps.
pub const EVICT_EVERY: u64 = 4096;

/// What the threader needs to know about one post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadInput {
    /// The network.
    pub platform: Platform,
    /// The platform's id of the post; `(platform, native_id)` identifies it.
    pub native_id: String,
    /// Author handle (normalized by the threader: lowercase, no `@`).
    pub author_handle: String,
    /// True when one of the brand's own (care) accounts wrote it.
    pub author_is_brand: bool,
    /// The brand the post is attributed to (the addressed brand, or the speaking brand for brand posts).
    pub brand: Option<String>,
    /// Native id of the post this one replies to (for blog comments: the blog post).
    pub reply_to: Option<String>,
    /// Handle of the author replied to, when known (lets a brand reply find the customer's conversation).
    pub reply_to_author: Option<String>,
    /// Native id of the conversation / thread root, when the platform tells.
    pub conversation_id: Option<String>,
    /// When the platform says it was published.
    pub published_at: DateTime<Utc>,
    /// Whether the analysis judged it a complaint; `None` when not analyzed.
    pub is_complaint: Option<bool>,
    /// Priority 0–100 from the analysis, when analyzed.
    pub priority: Option<u8>,
}

impl ThreadInput {
    /// A customer post with no brand, reply, conversation or analysis; set the rest as needed.
    pub fn new(
        platform: Platform,
        native_id: impl Into<String>,
        author_handle: impl Into<String>,
        published_at: DateTime<Utc>,
    ) -> ThreadInput {
        ThreadInput {
            platform,
            native_id: native_id.into(),
            author_handle: author_handle.into(),
            author_is_brand: false,
            brand: None,
            reply_to: None,
            reply_to_author: None,
            conversation_id: None,
            published_at,
            is_complaint: None,
            priority: None,
        }
    }

    /// The threading fields of a decoded post, with its brand attribution: `brand` is the addressed
    /// brand or, when `author_is_brand`, the brand speaking.
    pub fn from_post(post: &Post, brand: Option<&str>, author_is_brand: bool) -> ThreadInput {
        ThreadInput {
            platform: post.platform,
            native_id: post.native_id.clone(),
            author_handle: post.author.handle.clone(),
            author_is_brand,
            brand: brand.map(str::to_string),
            reply_to: post.reply_to.clone(),
            reply_to_author: post.reply_to_author.clone(),
            conversation_id: post.conversation_id.clone(),
            published_at: post.published_at,
            is_complaint: None,
            priority: None,
        }
    }
}

/// Who a post speaks for within its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The case's customer (their posts drive the SLA clocks).
    Customer,
    /// The brand's care account (its replies meet response targets).
    Brand,
    /// Someone else commenting on the blog post the case is about; does not move SLA clocks.
    Participant,
}

/// Which threading rule placed a post (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The post was assigned before.
    Duplicate,
    /// A reply to a post of the case (rules a and e).
    Reply,
    /// A post an earlier-seen reply of the case answered (out-of-order arrival).
    Parent,
    /// A blog comment on the case's post (rule d).
    BlogComment,
    /// Same conversation as the case (rule b).
    Conversation,
    /// The customer's follow-up while the case is active (rule c).
    FollowUp,
    /// Opened a new case (rule f).
    New,
}

/// A brand reply that arrived before the post it answers and was attached when that post came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The brand reply's native id.
    pub native_id: String,
    /// Its published time.
    pub published_at: DateTime<Utc>,
}

/// Where a post went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The case.
    pub case_id: CaseId,
    /// True when this post opened the case.
    pub opened: bool,
    /// Who the post speaks for in the case.
    pub role: Role,
    /// The rule that decided.
    pub rule: Rule,
    /// True when this is the first brand post the threader has seen for the case.
    pub first_response: bool,
    /// True when a customer reply moved a resolved case back to open.
    pub reopened: bool,
    /// Earlier brand replies to this post that now belong to the case too.
    pub adopted: Vec<Adopted>,
}

impl Assignment {
    /// A plain join of an existing case by `role` (no flags, no adoptions).
    pub fn joined(case_id: CaseId, role: Role) -> Assignment {
        Assignment {
            case_id,
            opened: false,
            role,
            rule: Rule::Reply,
            first_response: false,
            reopened: false,
            adopted: Vec::new(),
        }
    }
}

/// Threading knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThreaderConfig {
    /// How far from a case's activity a customer's unthreaded post still joins it (rule c).
    #[serde(with = "humantime_serde")]
    pub follow_up_window: Duration,
    /// How long after its last activity a case stays in the index.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Cap on indexed post ids; past it the least recently active cases are forgotten.
    pub max_posts: usize,
    /// Cap on pending entries (orphan brand replies, awaited parents).
    pub max_pending: usize,
    /// When true, a post analyzed as not a complaint does not open a case (it may still join one).
    pub require_complaint: bool,
}

impl Default for ThreaderConfig {
    fn default() -> Self {
        ThreaderConfig {
            follow_up_window: Duration::from_secs(72 * 3600),
            retention: Duration::from_secs(14 * 24 * 3600),
            max_posts: 1_000_000,
            max_pending: 100_000,
            require_complaint: false,
        }
    }
}

/// Sizes of the threader's state, for monitoring the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ThreaderStats {
    /// Cases in the index.
    pub cases: usize,
    /// Post ids in the index.
    pub posts: usize,
    /// Conversation keys in the index.
    pub conversations: usize,
    /// Orphan brand replies waiting for their post.
    pub orphans: usize,
    /// Posts awaited by an earlier reply.
    pub awaited: usize,
    /// Merge redirects.
    pub merged: usize,
}

/// A post, as `(platform, native id)` hashed with the threader's keys: the index holds 8 bytes per post instead of
/// the id's text (a 1M-post index: ~450 MB as text, a fraction of it hashed; `examples/threader_memory.rs`). Two
/// posts share a key with probability ~n²/2⁶⁵ (3·10⁻⁸ at the 1M-post cap), and the keys are random per process, so
/// ids cannot be chosen to collide.
type PostKey = u64;
/// A conversation of one customer, as `(platform, conversation id, customer)` hashed the same way.
type ConvKey = u64;
type CustomerKey = (Platform, String, String);

#[derive(Debug, Clone)]
struct Entry {
    platform: Platform,
    brand: String,
    customer: String,
    status: CaseStatus,
    opened_at: DateTime<Utc>,
    last_activity: DateTime<Utc>,
    brand_replied: bool,
    posts: Vec<PostKey>,
    conversations: Vec<ConvKey>,
}

#[derive(Debug, Clone)]
struct Orphan {
    native_id: String,
    published_at: DateTime<Utc>,
    brand: Option<String>,
}

/// Assigns posts to cases. See the module docs for the rules and the eviction policy.
#[derive(Debug, Clone)]
pub struct Threader {
    config: ThreaderConfig,
    /// Hash keys of the post and conversation index.
    keys: std::hash::RandomState,
    next_id: u64,
    cases: BTreeMap<CaseId, Entry>,
    posts: HashMap<PostKey, CaseId>,
    conversations: HashMap<ConvKey, CaseId>,
    customers: HashMap<CustomerKey, CaseId>,
    awaited: HashMap<PostKey, (CaseId, DateTime<Utc>)>,
    orphans: HashMap<PostKey, Vec<Orphan>>,
    /// Entries in `orphans` (kept, not counted: the cap is checked at every brand reply to an unseen post).
    orphan_total: usize,
    merged: HashMap<CaseId, CaseId>,
    watermark: Option<DateTime<Utc>>,
    assigned: u64,
}

impl Default for Threader {
    fn default() -> Self {
        Threader::new(ThreaderConfig::default())
    }
}

impl Threader {
    /// An empty threader; the first case gets id 1.
    pub fn new(config: ThreaderConfig) -> Threader {
        Threader {
            config,
            keys: std::hash::RandomState::new(),
            next_id: 1,
            cases: BTreeMap::new(),
            posts: HashMap::new(),
            conversations: HashMap::new(),
            customers: HashMap::new(),
            awaited: HashMap::new(),
            orphans: HashMap::new(),
            orphan_total: 0,
            merged: HashMap::new(),
            watermark: None,
            assigned: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ThreaderConfig {
        &self.config
    }

    /// The id the next new case will get (persist it, or let [`Threader::restore`] derive it).
    pub fn next_case_id(&self) -> CaseId {
        CaseId(self.next_id)
    }

    /// Makes the next new case get at least `id` (ids never go down).
    pub fn reserve_ids_below(&mut self, id: CaseId) {
        self.next_id = self.next_id.max(id.0);
    }

    /// Sizes of the state.
    pub fn stats(&self) -> ThreaderStats {
        ThreaderStats {
            cases: self.cases.len(),
            posts: self.posts.len(),
            conversations: self.conversations.len(),
            orphans: self.orphan_total,
            awaited: self.awaited.len(),
            merged: self.merged.len(),
        }
    }

    /// The case a post was assigned to, if it is still indexed (follows merges).
    pub fn case_of(&self, platform: Platform, native_id: &str) -> Option<CaseId> {
        self.posts.get(&self.post_key(platform, native_id)).map(|id| self.resolve(*id))
    }

    fn post_key(&self, platform: Platform, native_id: &str) -> PostKey {
        self.keys.hash_one((platform, native_id))
    }

    fn conv_key(&self, platform: Platform, conv: &str, customer: &str) -> ConvKey {
        self.keys.hash_one((platform, conv, customer))
    }

    /// The status the threader believes a case has.
    pub fn status(&self, case: CaseId) -> Option<CaseStatus> {
        self.cases.get(&self.resolve(case)).map(|e| e.status)
    }

    /// Assigns one post to a case, opening one when the rules say so. `None` when the post belongs to
    /// no case: unattributed posts that join nothing, brand posts that answer no case, and (with
    /// `require_complaint`) non-complaints.
    pub fn assign(&mut self, input: &ThreadInput) -> Option<Assignment> {
        self.assigned += 1;
        self.watermark = Some(self.watermark.map_or(input.published_at, |w| w.max(input.published_at)));
        let assignment = self.decide(input);
        if self.assigned.is_multiple_of(EVICT_EVERY) || self.posts.len() > self.config.max_posts {
            self.sweep();
        }
        assignment
    }

    fn decide(&mut self, input: &ThreadInput) -> Option<Assignment> {
        let platform = input.platform;
        let author = normalize_handle(&input.author_handle);
        let key = self.post_key(platform, &input.native_id);

        // 0. Duplicate.
        if let Some(&case) = self.posts.get(&key) {
            let case = self.resolve(case);
            if let Some(entry) = self.cases.get(&case) {
                let role = self.role_in(entry, input, &author).unwrap_or(Role::Participant);
                let mut a = Assignment::joined(case, role);
                a.rule = Rule::Duplicate;
                return Some(a);
            }
        }

        // 1. A reply of the case answered this post before it arrived.
        if let Some((case, _)) = self.awaited.get(&key).copied() {
            let case = self.resolve(case);
            if let Some(role) = self.cases.get(&case).and_then(|e| self.role_in(e, input, &author))
                && (role != Role::Brand || input.reply_to.is_some())
            {
                self.awaited.remove(&key);
                return Some(self.join(case, input, role, Rule::Parent));
            }
        }

        // 1, 2. Replies and blog comments.
        if let Some(parent) = &input.reply_to
            && let Some(&case) = self.posts.get(&self.post_key(platform, parent))
        {
            let case = self.resolve(case);
            if let Some(entry) = self.cases.get(&case) {
                let blog = platform == Platform::Blog;
                let role = self.role_in(entry, input, &author).or(blog.then_some(Role::Participant));
                let closed_to_customer = entry.status == CaseStatus::Closed && role == Some(Role::Customer);
                if let Some(role) = role
                    && !closed_to_customer
                {
                    let rule = if blog && role != Role::Brand { Rule::BlogComment } else { Rule::Reply };
                    return Some(self.join(case, input, role, rule));
                }
            }
        }

        // 3. Conversation.
        if let Some(conv) = &input.conversation_id {
            let customer = if input.author_is_brand {
                input.reply_to_author.as_deref().map(normalize_handle)
            } else {
                Some(author.clone())
            };
            if let Some(customer) = customer
                && let Some(&case) = self.conversations.get(&self.conv_key(platform, conv, &customer))
            {
                let case = self.resolve(case);
                if let Some(entry) = self.cases.get(&case)
                    && let Some(role) = self.role_in(entry, input, &author)
                    && (entry.status != CaseStatus::Closed || role == Role::Brand)
                {
                    return Some(self.join(case, input, role, Rule::Conversation));
                }
            }
        }

        // 4. Brand posts never open cases.
        if input.author_is_brand {
            if let Some(parent) = &input.reply_to {
                let key = self.post_key(platform, parent);
                self.orphans.entry(key).or_default().push(Orphan {
                    native_id: input.native_id.clone(),
                    published_at: input.published_at,
                    brand: input.brand.clone(),
                });
                self.orphan_total += 1;
                if self.orphan_total > self.config.max_pending {
                    self.prune_pending();
                }
            }
            return None;
        }

        let brand = input.brand.as_deref()?;
        let customer_key: CustomerKey = (platform, brand.to_lowercase(), author.clone());

        // 5. Follow-up.
        if let Some(&case) = self.customers.get(&customer_key) {
            let case = self.resolve(case);
            if let Some(entry) = self.cases.get(&case) {
                let window = delta(self.config.follow_up_window);
                let t = input.published_at;
                if entry.status.is_active() && t >= entry.opened_at - window && t <= entry.last_activity + window {
                    return Some(self.join(case, input, Role::Customer, Rule::FollowUp));
                }
            }
        }

        // 6. New case.
        if self.config.require_complaint && input.is_complaint == Some(false) {
            return None;
        }
        let case = CaseId(self.next_id);
        self.next_id += 1;
        self.cases.insert(
            case,
            Entry {
                platform,
                brand: brand.to_string(),
                customer: author,
                status: CaseStatus::New,
                opened_at: input.published_at,
                last_activity: input.published_at,
                brand_replied: false,
                posts: Vec::new(),
                conversations: Vec::new(),
            },
        );
        self.customers.insert(customer_key, case);
        let mut a = self.join(case, input, Role::Customer, Rule::New);
        a.opened = true;
        Some(a)
    }

    /// The role `input` would have in the case, or `None` for a third party.
    fn role_in(&self, entry: &Entry, input: &ThreadInput, author: &str) -> Option<Role> {
        if input.author_is_brand {
            let same_brand = input.brand.as_deref().is_none_or(|b| b.eq_ignore_ascii_case(&entry.brand));
            return same_brand.then_some(Role::Brand);
        }
        (author == entry.customer).then_some(Role::Customer)
    }

    /// Records `input` as a member of `case` and updates the indexes.
    fn join(&mut self, case: CaseId, input: &ThreadInput, role: Role, rule: Rule) -> Assignment {
        let platform = input.platform;
        let mut a = Assignment::joined(case, role);
        a.rule = rule;
        let Some(entry) = self.cases.get_mut(&case) else { return a };
        entry.opened_at = entry.opened_at.min(input.published_at);
        entry.last_activity = entry.last_activity.max(input.published_at);
        match role {
            Role::Brand => {
                a.first_response = !entry.brand_replied;
                entry.brand_replied = true;
            }
            Role::Customer => match entry.status {
                CaseStatus::Resolved => {
                    entry.status = CaseStatus::Open;
                    a.reopened = true;
                }
                CaseStatus::WaitingOnCustomer => entry.status = CaseStatus::Open,
                _ => {}
            },
            Role::Participant => {}
        }
        let post_key = self.keys.hash_one((platform, input.native_id.as_str()));
        if self.posts.insert(post_key, case).is_none() {
            entry.posts.push(post_key);
        }
        if let Some(conv) = &input.conversation_id
            && role != Role::Participant
        {
            let conv_key = self.keys.hash_one((platform, conv.as_str(), entry.customer.as_str()));
            if self.conversations.insert(conv_key, case) != Some(case) {
                entry.conversations.push(conv_key);
            }
        }
        // Out of order: the post replied to is not known yet; when it arrives it joins this case.
        if let Some(parent) = &input.reply_to
            && role == Role::Customer
            && !self.posts.contains_key(&self.post_key(platform, parent))
        {
            self.awaited.insert(self.post_key(platform, parent), (case, input.published_at));
            if self.awaited.len() > self.config.max_pending {
                self.prune_pending();
            }
        }
        // Brand replies that arrived before this post.
        if let Some(orphans) = self.orphans.remove(&post_key) {
            self.orphan_total -= orphans.len();
            let mut left = Vec::new();
            for orphan in orphans {
                let entry = &self.cases[&case];
                let fits = orphan.brand.as_deref().is_none_or(|b| b.eq_ignore_ascii_case(&entry.brand));
                if !fits || role == Role::Participant {
                    left.push(orphan);
                    continue;
                }
                self.index_adopted(case, platform, &orphan);
                a.adopted.push(Adopted { native_id: orphan.native_id, published_at: orphan.published_at });
            }
            if !left.is_empty() {
                self.orphan_total += left.len();
                self.orphans.insert(post_key, left);
            }
        }
        a
    }

    fn index_adopted(&mut self, case: CaseId, platform: Platform, orphan: &Orphan) {
        let Some(entry) = self.cases.get_mut(&case) else { return };
        entry.brand_replied = true;
        entry.last_activity = entry.last_activity.max(orphan.published_at);
        let key = self.keys.hash_one((platform, orphan.native_id.as_str()));
        if self.posts.insert(key, case).is_none() {
            entry.posts.push(key);
        }
        // Replies to the orphan may be waiting too.
        if let Some(more) = self.orphans.remove(&key) {
            self.orphan_total -= more.len();
            for o in more {
                self.index_adopted(case, platform, &o);
            }
        }
    }

    /// Follows merge redirects to the surviving case.
    fn resolve(&self, case: CaseId) -> CaseId {
        resolve_in(&self.merged, case)
    }

    /// Tells the threader a case's status changed (resolved and closed cases take no follow-ups;
    /// customer replies reopen resolved ones and open new cases instead of closed ones).
    pub fn set_status(&mut self, case: CaseId, status: CaseStatus) -> Result<(), CaseError> {
        let case = self.resolve(case);
        let entry = self.cases.get_mut(&case).ok_or(CaseError::UnknownCase { case })?;
        entry.status = status;
        Ok(())
    }

    /// Merges case `from` into case `into`: every post, conversation and pending entry of `from` now
    /// leads to `into`, and later lookups of `from` are redirected. Both must be known and belong to
    /// the same platform, brand and customer. Apply the same merge to the stored cases with
    /// [`Case::merge_from`].
    pub fn merge(&mut self, from: CaseId, into: CaseId) -> Result<(), CaseError> {
        let (from, into) = (self.resolve(from), self.resolve(into));
        if from == into {
            return Err(CaseError::SelfMerge { case: from });
        }
        let target = self.cases.get(&into).ok_or(CaseError::UnknownCase { case: into })?;
        let source = self.cases.get(&from).ok_or(CaseError::UnknownCase { case: from })?;
        if (source.platform, &source.brand, &source.customer) != (target.platform, &target.brand, &target.customer) {
            return Err(CaseError::MergeMismatch {
                from,
                into,
                from_key: format!("{}/{}/{}", source.platform, source.brand, source.customer),
                into_key: format!("{}/{}/{}", target.platform, target.brand, target.customer),
            });
        }
        let Some(source) = self.cases.remove(&from) else { return Err(CaseError::UnknownCase { case: from }) };
        for key in &source.posts {
            self.posts.insert(*key, into);
        }
        for key in &source.conversations {
            self.conversations.insert(*key, into);
        }
        let customer_key = (source.platform, source.brand.to_lowercase(), source.customer.clone());
        if let Some(latest) = self.customers.get_mut(&customer_key)
            && *latest == from
        {
            *latest = into;
        }
        self.merged.insert(from, into);
        let Some(target) = self.cases.get_mut(&into) else { return Err(CaseError::UnknownCase { case: into }) };
        target.opened_at = target.opened_at.min(source.opened_at);
        target.last_activity = target.last_activity.max(source.last_activity);
        target.brand_replied |= source.brand_replied;
        if !target.status.is_active() && source.status.is_active() {
            target.status = CaseStatus::Open;
        }
        for id in source.posts {
            if !target.posts.contains(&id) {
                target.posts.push(id);
            }
        }
        for conv in source.conversations {
            if !target.conversations.contains(&conv) {
                target.conversations.push(conv);
            }
        }
        Ok(())
    }

    /// Seeds the threader with a stored case: its status, times and post ids (so replies to them
    /// thread). Later cases get ids above it. Restoring a case that is already known updates it.
    pub fn restore(&mut self, case: &Case) {
        if let Some(into) = case.merged_into {
            self.merged.insert(case.id, into);
            self.next_id = self.next_id.max(case.id.0 + 1);
            return;
        }
        let entry = self.cases.entry(case.id).or_insert_with(|| Entry {
            platform: case.platform,
            brand: case.brand.clone(),
            customer: normalize_handle(&case.customer),
            status: case.status,
            opened_at: case.opened_at,
            last_activity: case.last_activity_at,
            brand_replied: false,
            posts: Vec::new(),
            conversations: Vec::new(),
        });
        entry.status = case.status;
        entry.opened_at = entry.opened_at.min(case.opened_at);
        entry.last_activity = entry.last_activity.max(case.last_activity_at);
        entry.brand_replied |= case.first_response_at.is_some();
        for id in &case.post_ids {
            let key = self.keys.hash_one((case.platform, id.as_str()));
            if self.posts.insert(key, case.id).is_none() {
                entry.posts.push(key);
            }
        }
        let key = (case.platform, case.brand.to_lowercase(), entry.customer.clone());
        let latest = self.customers.entry(key).or_insert(case.id);
        if self.cases.get(latest).is_none_or(|e| e.opened_at <= case.opened_at) {
            *latest = case.id;
        }
        self.next_id = self.next_id.max(case.id.0 + 1);
        self.watermark = Some(self.watermark.map_or(case.last_activity_at, |w| w.max(case.last_activity_at)));
    }

    /// Seeds the threader with one stored post of a restored case, indexing its id and conversation
    /// (use it after [`Threader::restore`] when conversations matter). Does not change flags or status.
    pub fn remember(&mut self, input: &ThreadInput, case: CaseId) -> Result<(), CaseError> {
        let case = self.resolve(case);
        let entry = self.cases.get_mut(&case).ok_or(CaseError::UnknownCase { case })?;
        let platform = input.platform;
        let key = self.keys.hash_one((platform, input.native_id.as_str()));
        if self.posts.insert(key, case).is_none() {
            entry.posts.push(key);
        }
        entry.opened_at = entry.opened_at.min(input.published_at);
        entry.last_activity = entry.last_activity.max(input.published_at);
        entry.brand_replied |= input.author_is_brand;
        if let Some(conv) = &input.conversation_id {
            let key = self.keys.hash_one((platform, conv.as_str(), entry.customer.as_str()));
            if self.conversations.insert(key, case) != Some(case) {
                entry.conversations.push(key);
            }
        }
        Ok(())
    }

    /// Forgets every case whose latest activity is before `cutoff`, with its index entries, and
    /// pending entries older than `cutoff`. Returns how many cases were forgotten.
    pub fn evict_before(&mut self, cutoff: DateTime<Utc>) -> usize {
        let old: Vec<CaseId> = self.cases.iter().filter(|(_, e)| e.last_activity < cutoff).map(|(id, _)| *id).collect();
        for id in &old {
            self.forget(*id);
        }
        self.awaited.retain(|_, (_, at)| *at >= cutoff);
        self.orphans.retain(|_, list| {
            list.retain(|o| o.published_at >= cutoff);
            !list.is_empty()
        });
        self.orphan_total = self.orphan_count();
        self.tidy_redirects();
        old.len()
    }

    fn forget(&mut self, id: CaseId) {
        let Some(entry) = self.cases.remove(&id) else { return };
        for post in entry.posts {
            self.posts.remove(&post);
        }
        for conv in entry.conversations {
            self.conversations.remove(&conv);
        }
        let key = (entry.platform, entry.brand.to_lowercase(), entry.customer);
        if self.customers.get(&key) == Some(&id) {
            self.customers.remove(&key);
        }
    }

    /// Drops merge redirects and awaited entries that lead to forgotten cases.
    fn tidy_redirects(&mut self) {
        let (cases, merged) = (&self.cases, &self.merged);
        let dead: Vec<CaseId> =
            merged.keys().copied().filter(|k| !cases.contains_key(&resolve_in(merged, *k))).collect();
        self.awaited.retain(|_, (case, _)| cases.contains_key(&resolve_in(merged, *case)));
        for k in dead {
            self.merged.remove(&k);
        }
    }

    /// The periodic sweep: retention first, then the size cap.
    fn sweep(&mut self) {
        debug_assert_eq!(self.orphan_total, self.orphan_count(), "orphan count out of step");
        if let Some(w) = self.watermark {
            self.evict_before(w - delta(self.config.retention));
        }
        if self.posts.len() > self.config.max_posts {
            let target = self.config.max_posts / 10 * 9;
            let mut by_age: Vec<(DateTime<Utc>, CaseId)> =
                self.cases.iter().map(|(id, e)| (e.last_activity, *id)).collect();
            by_age.sort();
            for (_, id) in by_age {
                if self.posts.len() <= target {
                    break;
                }
                self.forget(id);
            }
            self.tidy_redirects();
        }
        self.prune_pending();
    }

    fn orphan_count(&self) -> usize {
        self.orphans.values().map(Vec::len).sum()
    }

    /// Keeps pending entries under the cap, dropping the oldest (by published time, then id).
    fn prune_pending(&mut self) {
        let cap = self.config.max_pending;
        let keep = cap / 10 * 9;
        if self.awaited.len() > cap {
            // Oldest first; the case breaks ties (keys are random per process, so ordering by them alone would not
            // be deterministic).
            let mut all: Vec<(DateTime<Utc>, CaseId, PostKey)> =
                self.awaited.iter().map(|(k, (case, at))| (*at, *case, *k)).collect();
            all.sort();
            for (_, _, k) in all.into_iter().take(self.awaited.len() - keep) {
                self.awaited.remove(&k);
            }
        }
        let count = self.orphan_count();
        if count > cap {
            let mut all: Vec<(DateTime<Utc>, String, PostKey)> = self
                .orphans
                .iter()
                .flat_map(|(k, list)| list.iter().map(move |o| (o.published_at, o.native_id.clone(), *k)))
                .collect();
            all.sort();
            for (_, native, k) in all.into_iter().take(count - keep) {
                if let Some(list) = self.orphans.get_mut(&k) {
                    list.retain(|o| o.native_id != native);
                    if list.is_empty() {
                        self.orphans.remove(&k);
                    }
                }
            }
            self.orphan_total = self.orphan_count();
        }
    }
}

/// Follows merge redirects; chains are short (one hop per merge) and the bound guards against a cycle.
fn resolve_in(merged: &HashMap<CaseId, CaseId>, mut case: CaseId) -> CaseId {
    for _ in 0..64 {
        match merged.get(&case) {
            Some(&next) => case = next,
            None => break,
        }
    }
    case
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap() + TimeDelta::hours(h)
    }

    fn customer(id: &str, who: &str, h: i64) -> ThreadInput {
        let mut i = ThreadInput::new(Platform::X, id, who, at(h));
        i.brand = Some("Gilt".into());
        i
    }

    fn reply(mut i: ThreadInput, to: &str) -> ThreadInput {
        i.reply_to = Some(to.into());
        i
    }

    fn brand(id: &str, to: Option<&str>, h: i64) -> ThreadInput {
        let mut i = ThreadInput::new(Platform::X, id, "GiltCare", at(h));
        i.author_is_brand = true;
        i.brand = Some("Gilt".into());
        i.reply_to = to.map(str::to_string);
        i
    }

    #[test]
    fn first_post_opens_and_replies_join() {
        let mut t = Threader::default();
        let a = t.assign(&customer("1", "@Alice", 0)).unwrap();
        assert!(a.opened);
        assert_eq!((a.case_id, a.role, a.rule), (CaseId(1), Role::Customer, Rule::New));

        let b = t.assign(&brand("2", Some("1"), 1)).unwrap();
        assert_eq!((b.case_id, b.role, b.rule, b.first_response), (CaseId(1), Role::Brand, Rule::Reply, true));
        let b2 = t.assign(&brand("3", Some("1"), 2)).unwrap();
        assert!(!b2.first_response);

        // The customer answers the brand's reply.
        let c = t.assign(&reply(customer("4", "alice", 3), "2")).unwrap();
        assert_eq!((c.case_id, c.role, c.opened), (CaseId(1), Role::Customer, false));
        assert_eq!(t.case_of(Platform::X, "4"), Some(CaseId(1)));
    }

    #[test]
    fn duplicates_get_the_same_case() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        let again = t.assign(&customer("1", "alice", 0)).unwrap();
        assert_eq!((again.case_id, again.rule, again.opened), (CaseId(1), Rule::Duplicate, false));
        assert_eq!(t.next_case_id(), CaseId(2));
    }

    #[test]
    fn brand_posts_and_unattributed_posts_open_nothing() {
        let mut t = Threader::default();
        assert!(t.assign(&brand("1", None, 0)).is_none());
        let mut plain = customer("2", "alice", 0);
        plain.brand = None;
        assert!(t.assign(&plain).is_none());
        assert_eq!(t.stats().cases, 0);
    }

    #[test]
    fn follow_ups_join_within_window_while_active() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        let f = t.assign(&customer("2", "ALICE", 48)).unwrap();
        assert_eq!((f.case_id, f.rule), (CaseId(1), Rule::FollowUp));
        // 72 h after the latest activity (48 h) is 120 h.
        assert_eq!(t.assign(&customer("3", "alice", 120)).unwrap().case_id, CaseId(1));
        let late = t.assign(&customer("4", "alice", 193)).unwrap();
        assert!(late.opened);
        assert_eq!(late.case_id, CaseId(2));
        // Another brand is another case.
        let mut other = customer("5", "alice", 193);
        other.brand = Some("Acme".into());
        assert_eq!(t.assign(&other).unwrap().case_id, CaseId(3));
        // A resolved case takes no follow-ups.
        t.set_status(CaseId(2), CaseStatus::Resolved).unwrap();
        assert_eq!(t.assign(&customer("6", "alice", 194)).unwrap().case_id, CaseId(4));
    }

    #[test]
    fn window_is_configurable() {
        let mut t = Threader::new(ThreaderConfig { follow_up_window: Duration::from_secs(3600), ..Default::default() });
        t.assign(&customer("1", "alice", 0)).unwrap();
        assert!(t.assign(&customer("2", "alice", 2)).unwrap().opened);
    }

    #[test]
    fn conversation_joins_for_the_same_customer_only() {
        let mut t = Threader::default();
        let mut first = customer("1", "alice", 0);
        first.conversation_id = Some("root".into());
        t.assign(&first).unwrap();
        t.set_status(CaseId(1), CaseStatus::Resolved).unwrap();
        // A later post in the same conversation (replying to something unseen) joins and reopens.
        let mut again = reply(customer("2", "alice", 200), "unseen");
        again.conversation_id = Some("root".into());
        let a = t.assign(&again).unwrap();
        assert_eq!((a.case_id, a.rule, a.reopened), (CaseId(1), Rule::Conversation, true));
        // Someone else in the same conversation gets their own case.
        let mut bob = customer("3", "bob", 201);
        bob.conversation_id = Some("root".into());
        assert!(t.assign(&bob).unwrap().opened);
        // The brand answering alice in that conversation (reply target unseen) joins alice's case.
        let mut b = brand("4", Some("unseen-2"), 202);
        b.conversation_id = Some("root".into());
        b.reply_to_author = Some("@alice".into());
        assert_eq!(t.assign(&b).unwrap().case_id, CaseId(1));
    }

    #[test]
    fn third_party_replies_get_their_own_case() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        let bob = t.assign(&reply(customer("2", "bob", 1), "1")).unwrap();
        assert!(bob.opened);
        assert_eq!(bob.case_id, CaseId(2));
        let mut unattributed = reply(customer("3", "carol", 1), "1");
        unattributed.brand = None;
        assert!(t.assign(&unattributed).is_none());
    }

    #[test]
    fn blog_comments_join_the_post_they_answer() {
        let mut t = Threader::default();
        let mut post = customer("https://blog/p/1", "writer", 0);
        post.platform = Platform::Blog;
        t.assign(&post).unwrap();
        let mut comment = reply(customer("c1", "reader", 1), "https://blog/p/1");
        comment.platform = Platform::Blog;
        comment.brand = None;
        let a = t.assign(&comment).unwrap();
        assert_eq!((a.case_id, a.role, a.rule), (CaseId(1), Role::Participant, Rule::BlogComment));
        let mut by_writer = reply(customer("c2", "writer", 2), "c1");
        by_writer.platform = Platform::Blog;
        assert_eq!(t.assign(&by_writer).unwrap().role, Role::Customer);
        let mut by_brand = brand("c3", Some("https://blog/p/1"), 3);
        by_brand.platform = Platform::Blog;
        let b = t.assign(&by_brand).unwrap();
        assert_eq!((b.role, b.first_response), (Role::Brand, true));
    }

    #[test]
    fn closed_cases_take_brand_replies_but_customers_get_a_new_case() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        t.set_status(CaseId(1), CaseStatus::Closed).unwrap();
        assert_eq!(t.assign(&brand("2", Some("1"), 1)).unwrap().case_id, CaseId(1));
        let a = t.assign(&reply(customer("3", "alice", 2), "2")).unwrap();
        assert!(a.opened);
        assert_eq!(a.case_id, CaseId(2));
    }

    #[test]
    fn resolved_case_reopens_on_customer_reply() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        t.assign(&brand("2", Some("1"), 1)).unwrap();
        t.set_status(CaseId(1), CaseStatus::Resolved).unwrap();
        let a = t.assign(&reply(customer("3", "alice", 300), "2")).unwrap();
        assert_eq!((a.case_id, a.reopened), (CaseId(1), true));
        assert_eq!(t.status(CaseId(1)), Some(CaseStatus::Open));
    }

    #[test]
    fn out_of_order_brand_reply_is_adopted() {
        let mut t = Threader::default();
        assert!(t.assign(&brand("2", Some("1"), 1)).is_none());
        assert!(t.assign(&brand("3", Some("2"), 2)).is_none());
        let a = t.assign(&customer("1", "alice", 0)).unwrap();
        assert!(a.opened);
        let ids: Vec<_> = a.adopted.iter().map(|x| x.native_id.as_str()).collect();
        assert_eq!(ids, ["2"]);
        // The reply to the orphan was adopted transitively into the index.
        assert_eq!(t.case_of(Platform::X, "3"), Some(CaseId(1)));
        assert_eq!(t.stats().orphans, 0);
        // A later brand reply is not the first response any more.
        assert!(!t.assign(&brand("4", Some("1"), 3)).unwrap().first_response);
    }

    #[test]
    fn out_of_order_parent_joins_its_reply() {
        let mut t = Threader::default();
        // alice's second post (a self-reply) arrives first and opens the case...
        let mut late = reply(customer("2", "alice", 1), "1");
        late.brand = Some("Gilt".into());
        t.assign(&late).unwrap();
        // ... then her first post arrives, without a brand attribution of its own.
        let mut first = customer("1", "alice", 0);
        first.brand = None;
        let a = t.assign(&first).unwrap();
        assert_eq!((a.case_id, a.rule), (CaseId(1), Rule::Parent));
    }

    #[test]
    fn merge_redirects_everything() {
        let mut t = Threader::default();
        let mut one = customer("1", "alice", 0);
        one.conversation_id = Some("c1".into());
        t.assign(&one).unwrap();
        t.set_status(CaseId(1), CaseStatus::Resolved).unwrap();
        t.assign(&customer("2", "alice", 1)).unwrap();
        t.merge(CaseId(1), CaseId(2)).unwrap();
        assert_eq!(t.case_of(Platform::X, "1"), Some(CaseId(2)));
        assert_eq!(t.assign(&brand("3", Some("1"), 2)).unwrap().case_id, CaseId(2));
        let mut conv = customer("4", "alice", 500);
        conv.conversation_id = Some("c1".into());
        assert_eq!(t.assign(&conv).unwrap().case_id, CaseId(2));
        assert!(matches!(t.merge(CaseId(1), CaseId(2)), Err(CaseError::SelfMerge { .. })));
        assert!(matches!(t.merge(CaseId(2), CaseId(99)), Err(CaseError::UnknownCase { .. })));
        t.assign(&customer("5", "bob", 3)).unwrap();
        assert!(matches!(t.merge(CaseId(3), CaseId(2)), Err(CaseError::MergeMismatch { .. })));
    }

    #[test]
    fn restore_and_remember_continue_where_storage_left_off() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        let mut conv = customer("2", "alice", 1);
        conv.conversation_id = Some("root".into());
        let assigned = t.assign(&conv).unwrap();
        let mut case = Case::open(CaseId(1), &customer("1", "alice", 0));
        case.record(&conv, &assigned);
        case.set_status(CaseStatus::Open, at(1)).unwrap();

        let mut fresh = Threader::default();
        fresh.restore(&case);
        fresh.remember(&conv, CaseId(1)).unwrap();
        assert_eq!(fresh.next_case_id(), CaseId(2));
        assert_eq!(fresh.assign(&brand("3", Some("1"), 2)).unwrap().case_id, CaseId(1));
        let mut in_conv = customer("4", "alice", 400);
        in_conv.conversation_id = Some("root".into());
        assert_eq!(fresh.assign(&in_conv).unwrap().case_id, CaseId(1));
        assert_eq!(fresh.assign(&customer("5", "alice", 401)).unwrap().case_id, CaseId(1));
        assert!(fresh.remember(&conv, CaseId(42)).is_err());
    }

    #[test]
    fn retention_forgets_old_cases() {
        let mut t = Threader::default();
        t.assign(&customer("1", "alice", 0)).unwrap();
        t.assign(&customer("2", "bob", 400)).unwrap();
        assert_eq!(t.evict_before(at(24 * 14)), 1);
        assert_eq!(t.case_of(Platform::X, "1"), None);
        let s = t.stats();
        assert_eq!((s.cases, s.posts), (1, 1));
        // A reply to the forgotten case starts a new one.
        assert!(t.assign(&reply(customer("3", "alice", 401), "1")).unwrap().opened);
    }

    #[test]
    fn size_cap_keeps_state_bounded() {
        let mut t = Threader::new(ThreaderConfig { max_posts: 100, max_pending: 10, ..Default::default() });
        for i in 0..1000 {
            t.assign(&customer(&i.to_string(), &format!("user{i}"), i / 100)).unwrap();
            t.assign(&brand(&format!("orphan{i}"), Some(&format!("missing{i}")), i / 100));
            let s = t.stats();
            assert!(s.posts <= 101 && s.cases <= 101, "{s:?}");
            assert!(s.orphans <= 11, "{s:?}");
        }
        // The most recent cases survive.
        assert_eq!(t.case_of(Platform::X, "999"), Some(CaseId(1000)));
    }

    #[test]
    fn deterministic_across_runs() {
        let posts: Vec<ThreadInput> = (0..200)
            .map(|i| {
                let who = format!("u{}", i % 7);
                let mut p = customer(&i.to_string(), &who, i * 5);
                if i % 3 == 0 && i > 0 {
                    p.reply_to = Some((i - 1).to_string());
                }
                p
            })
            .collect();
        let run = |config: ThreaderConfig| {
            let mut t = Threader::new(config);
            posts.iter().map(|p| t.assign(p).map(|a| a.case_id)).collect::<Vec<_>>()
        };
        let small = ThreaderConfig { max_posts: 20, ..Default::default() };
        assert_eq!(run(small.clone()), run(small));
        assert_eq!(run(ThreaderConfig::default()), run(ThreaderConfig::default()));
    }

    #[test]
    fn config_reads_from_toml() {
        let c: ThreaderConfig = toml::from_str("follow_up_window = \"48h\"\nretention = \"30d\"").unwrap();
        assert_eq!(c.follow_up_window, Duration::from_secs(48 * 3600));
        assert_eq!(c.retention, Duration::from_secs(30 * 86400));
        assert_eq!(c.max_posts, ThreaderConfig::default().max_posts);
        assert!(toml::from_str::<ThreaderConfig>("window = \"1h\"").is_err());
    }
}
