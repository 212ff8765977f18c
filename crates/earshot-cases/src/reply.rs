//! Suggested replies: editable templates chosen by issue type, signals and brand policy.
//!
//! Templates are [MiniJinja](https://docs.rs/minijinja) texts in a TOML file; the built-in set is
//! `templates/default.toml` (embedded), and users can replace it ([`ReplyTemplates::from_toml_str`])
//! or override templates by name ([`ReplyTemplates::extend_from_toml_str`]). Every template leads with
//! empathy: its remedies must include an apology, so a bare refund can never be suggested.
//!
//! # Escalation policy
//!
//! A defect or damage whose product is out of stock, and a customer threatening to leave (churn signal
//! or a competitor named), must be offered apology + refund + gift card, plus waitlist when the product
//! is out of stock ([`ReplyContext::required_remedies`]). Then only templates offering at least those are
//! suggested; if the loaded set has none, the built-in ones are used. A brand's excluded remedies
//! ([`BrandPolicy::exclude`]) cannot remove these.
//!
//! # Length
//!
//! Replies are fitted to the platform's limit ([`char_limit`]: X 280, Bluesky 300, Mastodon 500
//! characters, counted as Unicode scalar values): the template's `short` version is used when the
//! full one is too long, then trailing sentences are dropped (never the first), and as a last resort
//! the text is cut at a word with `…`. The brand's signature is kept.

use earshot_core::post::Platform;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::case::Remedy;

/// The built-in templates (`templates/default.toml`).
pub const DEFAULT_TEMPLATES: &str = include_str!("../templates/default.toml");

/// What a complaint is about (the issue labels of the analysis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueType {
    /// The product was faulty or arrived damaged.
    DefectOrDamage,
    /// The order or service did not arrive on time, or at all.
    LateOrMissingDelivery,
    /// Trouble cancelling an order or subscription.
    Cancellation,
    /// Refunds, charges, invoices.
    RefundOrBilling,
    /// Logging in, account access.
    AccountOrLogin,
    /// The product is unavailable.
    OutOfStock,
    /// Rude or slow service.
    RudeOrSlowService,
    /// Anything else.
    Other,
}

impl IssueType {
    /// All issue types.
    pub const ALL: [IssueType; 8] = [
        IssueType::DefectOrDamage,
        IssueType::LateOrMissingDelivery,
        IssueType::Cancellation,
        IssueType::RefundOrBilling,
        IssueType::AccountOrLogin,
        IssueType::OutOfStock,
        IssueType::RudeOrSlowService,
        IssueType::Other,
    ];

    /// The stable snake_case label (as the analysis stores it).
    pub fn as_str(self) -> &'static str {
        match self {
            IssueType::DefectOrDamage => "defect_or_damage",
            IssueType::LateOrMissingDelivery => "late_or_missing_delivery",
            IssueType::Cancellation => "cancellation",
            IssueType::RefundOrBilling => "refund_or_billing",
            IssueType::AccountOrLogin => "account_or_login",
            IssueType::OutOfStock => "out_of_stock",
            IssueType::RudeOrSlowService => "rude_or_slow_service",
            IssueType::Other => "other",
        }
    }
}

impl fmt::Display for IssueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IssueType {
    type Err = ReplyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        IssueType::ALL.into_iter().find(|i| i.as_str() == s).ok_or(ReplyError::UnknownIssue(s))
    }
}

/// A brand's rules for suggested replies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandPolicy {
    /// Remedies the brand does not offer; templates offering them are skipped (except the remedies the
    /// escalation policy requires).
    pub exclude: Vec<Remedy>,
    /// Appended to every reply, e.g. `^JS`.
    pub signature: Option<String>,
    /// How the customer reaches the brand, for `{{ contact }}`; default: "Please DM us your order
    /// number and we'll take care of it."
    pub contact: Option<String>,
    /// A short version for `{{ contact_short }}`; default: "DM us your order number?"
    pub contact_short: Option<String>,
}

/// What a suggestion is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyContext {
    /// The brand's display name.
    pub brand: String,
    /// The customer's handle (with or without `@`).
    pub customer: String,
    /// The issue.
    pub issue: IssueType,
    /// Products mentioned, most relevant first.
    #[serde(default)]
    pub products: Vec<String>,
    /// The product concerned is out of stock (implied by [`IssueType::OutOfStock`]).
    #[serde(default)]
    pub out_of_stock: bool,
    /// A churn signal ("I'm done", "cancelling my membership").
    #[serde(default)]
    pub churn: bool,
    /// A competitor the customer named.
    #[serde(default)]
    pub competitor: Option<String>,
    /// A loyalty signal ("customer for 10 years").
    #[serde(default)]
    pub loyal: bool,
    /// Remedies already given on the case.
    #[serde(default)]
    pub prior_remedies: Vec<Remedy>,
    /// Where the reply goes (sets the character limit).
    pub platform: Platform,
    /// The brand's rules.
    #[serde(default)]
    pub policy: BrandPolicy,
}

impl ReplyContext {
    /// A context with no products, signals, prior remedies or brand rules.
    pub fn new(brand: impl Into<String>, customer: impl Into<String>, issue: IssueType, platform: Platform) -> Self {
        ReplyContext {
            brand: brand.into(),
            customer: customer.into(),
            issue,
            products: Vec::new(),
            out_of_stock: false,
            churn: false,
            competitor: None,
            loyal: false,
            prior_remedies: Vec::new(),
            platform,
            policy: BrandPolicy::default(),
        }
    }

    /// The customer threatens to leave: a churn signal or a competitor named.
    pub fn churn_risk(&self) -> bool {
        self.churn || self.competitor.as_deref().is_some_and(|c| !c.trim().is_empty())
    }

    /// The product is out of stock (flag set or the issue itself).
    pub fn is_out_of_stock(&self) -> bool {
        self.out_of_stock || self.issue == IssueType::OutOfStock
    }

    /// The remedies the escalation policy requires, if it applies (see the module docs).
    pub fn required_remedies(&self) -> Option<Vec<Remedy>> {
        let defect_unavailable = self.issue == IssueType::DefectOrDamage && self.is_out_of_stock();
        if !(defect_unavailable || self.churn_risk()) {
            return None;
        }
        let mut required = vec![Remedy::Apology, Remedy::Refund, Remedy::GiftCard];
        if self.is_out_of_stock() {
            required.push(Remedy::Waitlist);
        }
        Some(required)
    }
}

/// The character limit of a reply on a platform, if it has one.
pub fn char_limit(platform: Platform) -> Option<usize> {
    match platform {
        Platform::X => Some(280),
        Platform::Bluesky => Some(300),
        Platform::Mastodon => Some(500),
        Platform::Blog | Platform::Other => None,
    }
}

/// Conditions a template needs; unset ones match anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    /// The product is (not) out of stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_stock: Option<bool>,
    /// The customer does (not) threaten to leave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churn: Option<bool>,
    /// The customer did (not) signal loyalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyal: Option<bool>,
}

impl Conditions {
    fn matches(&self, ctx: &ReplyContext) -> bool {
        let ok = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        ok(self.out_of_stock, ctx.is_out_of_stock()) && ok(self.churn, ctx.churn_risk()) && ok(self.loyal, ctx.loyal)
    }

    fn count(&self) -> usize {
        [self.out_of_stock, self.churn, self.loyal].iter().filter(|c| c.is_some()).count()
    }
}

/// One reply template as written in the TOML file (see `templates/default.toml` for the fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyTemplate {
    /// Unique name.
    pub name: String,
    /// Issue types it answers; empty answers any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<IssueType>,
    /// Conditions on the signals.
    #[serde(default)]
    pub when: Conditions,
    /// Only for these brands (case-insensitive); empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<String>,
    /// Suggested only when no other template fits.
    #[serde(default)]
    pub fallback: bool,
    /// What the reply offers; must include `apology`.
    pub remedies: Vec<Remedy>,
    /// The MiniJinja text.
    pub text: String,
    /// A shorter version for tight character limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
}

impl ReplyTemplate {
    fn fits(&self, ctx: &ReplyContext) -> bool {
        (self.issues.is_empty() || self.issues.contains(&ctx.issue))
            && self.when.matches(ctx)
            && (self.brands.is_empty() || self.brands.iter().any(|b| b.eq_ignore_ascii_case(&ctx.brand)))
    }

    /// Brand-specific first, then issue-specific, then more conditions.
    fn specificity(&self) -> (bool, bool, usize) {
        (!self.brands.is_empty(), !self.issues.is_empty(), self.when.count())
    }

    fn validate(&self) -> Result<(), ReplyError> {
        let bad =
            |problem: &str| Err(ReplyError::Invalid { template: self.name.clone(), problem: problem.to_string() });
        if self.name.trim().is_empty() {
            return bad("the name is empty");
        }
        if self.remedies == [Remedy::Refund] {
            return bad("it offers a bare refund; a refund always comes with an apology (add \"apology\")");
        }
        if !self.remedies.contains(&Remedy::Apology) {
            return bad("its remedies lack \"apology\"; every reply leads with empathy, so add it");
        }
        if self.text.trim().is_empty() {
            return bad("the text is empty");
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(default, rename = "template")]
    templates: Vec<ReplyTemplate>,
}

/// A suggested reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The template's name.
    pub template: String,
    /// What it offers, apology first.
    pub remedies: Vec<Remedy>,
    /// The reply, within the platform's character limit.
    pub text: String,
    /// True when the text was shortened to fit (short version, sentences dropped, or cut).
    pub shortened: bool,
}

/// What can go wrong loading or rendering templates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplyError {
    /// The TOML did not parse (the message has line and column).
    #[error("reply templates file is invalid: {0}")]
    Toml(String),
    /// A template breaks a rule.
    #[error("reply template {template:?} is invalid: {problem}")]
    Invalid {
        /// The template's name.
        template: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Two templates with one name in one file.
    #[error(
        "reply template name {0:?} is used twice in one file; names must be unique (an override file replaces by name)"
    )]
    Duplicate(String),
    /// The MiniJinja text does not compile or render.
    #[error(
        "reply template {template:?} does not render: {message}; check its syntax and use only the documented variables"
    )]
    Render {
        /// The template's name.
        template: String,
        /// MiniJinja's message (with the line).
        message: String,
    },
    /// An issue label that is not one of the known ones.
    #[error(
        "unknown issue type {0:?}; use one of defect_or_damage, late_or_missing_delivery, cancellation, \
         refund_or_billing, account_or_login, out_of_stock, rude_or_slow_service, other"
    )]
    UnknownIssue(String),
}

/// A loaded, validated set of reply templates.
#[derive(Debug, Clone)]
pub struct ReplyTemplates {
    templates: Vec<ReplyTemplate>,
    env: Environment<'static>,
}

impl Default for ReplyTemplates {
    /// The built-in templates.
    fn default() -> Self {
        builtin().clone()
    }
}

fn builtin() -> &'static ReplyTemplates {
    static BUILTIN: OnceLock<ReplyTemplates> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        ReplyTemplates::from_toml_str(DEFAULT_TEMPLATES).expect("the built-in reply templates are valid (tested)")
    })
}

impl ReplyTemplates {
    /// Loads a complete template set from TOML, checking every template's rules and rendering it once
    /// with sample values so mistakes surface now rather than in front of an agent.
    pub fn from_toml_str(text: &str) -> Result<ReplyTemplates, ReplyError> {
        let templates = parse(text)?;
        ReplyTemplates::build(templates)
    }

    /// Adds templates from TOML to this set: a template with an existing name replaces it, others
    /// are added.
    pub fn extend_from_toml_str(&mut self, text: &str) -> Result<(), ReplyError> {
        let mut templates = self.templates.clone();
        for t in parse(text)? {
            match templates.iter_mut().find(|old| old.name == t.name) {
                Some(old) => *old = t,
                None => templates.push(t),
            }
        }
        *self = ReplyTemplates::build(templates)?;
        Ok(())
    }

    /// The templates, in file order.
    pub fn templates(&self) -> &[ReplyTemplate] {
        &self.templates
    }

    fn build(templates: Vec<ReplyTemplate>) -> Result<ReplyTemplates, ReplyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        for t in &templates {
            t.validate()?;
            let render_err =
                |e: minijinja::Error| ReplyError::Render { template: t.name.clone(), message: e.to_string() };
            env.add_template_owned(t.name.clone(), t.text.clone()).map_err(render_err)?;
            if let Some(short) = &t.short {
                env.add_template_owned(short_name(&t.name), short.clone()).map_err(render_err)?;
            }
        }
        let set = ReplyTemplates { templates, env };
        let mut sample = ReplyContext::new("Brand", "customer", IssueType::DefectOrDamage, Platform::Other);
        sample.products = vec!["product".into()];
        sample.competitor = Some("Competitor".into());
        sample.prior_remedies = vec![Remedy::Refund];
        for t in &set.templates {
            set.render(t, &sample, &t.name)?;
            if t.short.is_some() {
                set.render(t, &sample, &short_name(&t.name))?;
            }
        }
        Ok(set)
    }

    /// Suggested replies for `ctx`, best first: the brand's own templates, then issue-specific ones, then
    /// those with more conditions, then file order.
    ///
    /// Every suggestion leads with an apology, offers the escalation policy's remedies when it applies,
    /// and fits the platform's character limit.
    pub fn suggest(&self, ctx: &ReplyContext) -> Result<Vec<Suggestion>, ReplyError> {
        let chosen = self.choose(ctx);
        let (set, chosen) = match (chosen.is_empty(), ctx.required_remedies().is_some()) {
            (true, true) => (builtin(), builtin().choose(ctx)),
            _ => (self, chosen),
        };
        let mut out: Vec<Suggestion> = Vec::new();
        for t in chosen {
            let s = set.suggestion(t, ctx)?;
            if !out.iter().any(|o| o.text == s.text) {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn choose(&self, ctx: &ReplyContext) -> Vec<&ReplyTemplate> {
        let required = ctx.required_remedies().unwrap_or_default();
        let excluded: BTreeSet<Remedy> =
            ctx.policy.exclude.iter().copied().filter(|r| !required.contains(r) && *r != Remedy::Apology).collect();
        let usable = |t: &&ReplyTemplate| {
            t.fits(ctx)
                && !t.remedies.iter().any(|r| excluded.contains(r))
                && required.iter().all(|r| t.remedies.contains(r))
        };
        let mut chosen: Vec<&ReplyTemplate> = self.templates.iter().filter(|t| !t.fallback).filter(usable).collect();
        // Prefer templates that offer something not given yet.
        let offers_new =
            |t: &&ReplyTemplate| t.remedies.iter().any(|r| *r != Remedy::Apology && !ctx.prior_remedies.contains(r));
        if chosen.iter().any(offers_new) {
            chosen.retain(offers_new);
        }
        if chosen.is_empty() {
            chosen = self.templates.iter().filter(|t| t.fallback).filter(usable).collect();
        }
        chosen.sort_by_key(|t| std::cmp::Reverse(t.specificity()));
        chosen
    }

    fn suggestion(&self, t: &ReplyTemplate, ctx: &ReplyContext) -> Result<Suggestion, ReplyError> {
        let mut remedies = vec![Remedy::Apology];
        for r in &t.remedies {
            if !remedies.contains(r) {
                remedies.push(*r);
            }
        }
        let signature = ctx.policy.signature.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let full = self.render(t, ctx, &t.name)?;
        let Some(limit) = char_limit(ctx.platform) else {
            return Ok(Suggestion {
                template: t.name.clone(),
                remedies,
                text: sign(&full, signature),
                shortened: false,
            });
        };
        let mut text = sign(&full, signature);
        let mut shortened = false;
        if count(&text) > limit {
            shortened = true;
            let body = match &t.short {
                Some(_) => self.render(t, ctx, &short_name(&t.name))?,
                None => full,
            };
            text = fit(&body, signature, limit);
        }
        Ok(Suggestion { template: t.name.clone(), remedies, text, shortened })
    }

    fn render(&self, t: &ReplyTemplate, ctx: &ReplyContext, name: &str) -> Result<String, ReplyError> {
        let render_err = |e: minijinja::Error| ReplyError::Render { template: t.name.clone(), message: e.to_string() };
        let template = self.env.get_template(name).map_err(render_err)?;
        let names = |list: &[Remedy]| Value::from_iter(list.iter().map(|r| r.as_str()));
        let optional =
            |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map_or(Value::from(()), Value::from);
        let text = template
            .render(minijinja::context! {
                customer => earshot_core::post::normalize_handle(&ctx.customer),
                brand => ctx.brand.as_str(),
                issue => ctx.issue.as_str(),
                product => optional(ctx.products.first().map(String::as_str)),
                products => Value::from_iter(ctx.products.iter().map(String::as_str)),
                out_of_stock => ctx.is_out_of_stock(),
                churn => ctx.churn_risk(),
                competitor => optional(ctx.competitor.as_deref()),
                loyal => ctx.loyal,
                prior_remedies => names(&ctx.prior_remedies),
                remedies => names(&t.remedies),
                platform => ctx.platform.as_str(),
                contact => ctx.policy.contact.as_deref().unwrap_or("Please DM us your order number and we'll take care of it."),
                contact_short => ctx.policy.contact_short.as_deref().unwrap_or("DM us your order number?"),
            })
            .map_err(render_err)?;
        Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// Suggested replies from the built-in templates (see [`ReplyTemplates::suggest`]).
pub fn suggest(ctx: &ReplyContext) -> Vec<Suggestion> {
    builtin().suggest(ctx).expect("the built-in reply templates render for any context (tested)")
}

fn parse(text: &str) -> Result<Vec<ReplyTemplate>, ReplyError> {
    let file: TemplateFile = toml::from_str(text).map_err(|e| ReplyError::Toml(e.to_string()))?;
    let mut seen = BTreeSet::new();
    for t in &file.templates {
        if !seen.insert(t.name.as_str()) {
            return Err(ReplyError::Duplicate(t.name.clone()));
        }
    }
    Ok(file.templates)
}

fn short_name(name: &str) -> String {
    format!("{name}#short")
}

fn count(s: &str) -> usize {
    s.chars().count()
}

fn sign(body: &str, signature: Option<&str>) -> String {
    match signature {
        Some(sig) => format!("{body} {sig}"),
        None => body.to_string(),
    }
}

/// Fits `body` plus the signature into `limit` characters: drops trailing sentences (never the first),
/// then cuts at a word boundary with `…`.
fn fit(body: &str, signature: Option<&str>, limit: usize) -> String {
    let signed = sign(body, signature);
    if count(&signed) <= limit {
        return signed;
    }
    let sentences = split_sentences(body);
    for keep in (1..sentences.len()).rev() {
        let candidate = sign(sentences[..keep].join(" ").trim(), signature);
        if count(&candidate) <= limit {
            return candidate;
        }
    }
    let room = limit.saturating_sub(signature.map_or(0, |s| count(s) + 1)).saturating_sub(1);
    let first = sentences.first().map_or(body, |s| s.as_str());
    let mut cut = String::new();
    for word in first.split(' ') {
        let next = if cut.is_empty() { word.to_string() } else { format!("{cut} {word}") };
        if count(&next) > room {
            break;
        }
        cut = next;
    }
    if cut.is_empty() {
        cut = first.chars().take(room).collect();
    }
    sign(&format!("{}…", cut.trim_end_matches([',', ';', ':', ' ', '—'])), signature)
}

/// Splits after `.`, `!` or `?` followed by a space.
fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek() == Some(&' ') {
            out.push(current.trim().to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(issue: IssueType) -> ReplyContext {
        let mut c = ReplyContext::new("Gilt", "@alice_w", issue, Platform::X);
        c.products = vec!["linen duvet".into()];
        c
    }

    fn has(s: &Suggestion, remedies: &[Remedy]) -> bool {
        remedies.iter().all(|r| s.remedies.contains(r))
    }

    #[test]
    fn builtin_templates_load_and_every_issue_gets_a_suggestion() {
        let set = ReplyTemplates::default();
        assert!(set.templates().len() >= 10);
        for issue in IssueType::ALL {
            for platform in Platform::ALL {
                let mut c = ctx(issue);
                c.platform = platform;
                let got = set.suggest(&c).unwrap();
                assert!(!got.is_empty(), "{issue} on {platform}");
                for s in &got {
                    assert_eq!(s.remedies[0], Remedy::Apology, "{s:?}");
                    assert!(s.text.starts_with("@alice_w "), "{s:?}");
                    if let Some(limit) = char_limit(platform) {
                        assert!(s.text.chars().count() <= limit, "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn replies_lead_with_empathy() {
        let empathy = ["sorry", "truly sorry", "really sorry", "so sorry"];
        for issue in IssueType::ALL {
            for s in suggest(&ctx(issue)) {
                let opening = s.text.trim_start_matches("@alice_w ").to_lowercase();
                let first_sentence = opening.split(['.', '!', '—']).next().unwrap_or_default().to_string();
                assert!(empathy.iter().any(|e| first_sentence.contains(e)), "{}: {}", s.template, s.text);
            }
        }
    }

    #[test]
    fn defect_out_of_stock_gets_refund_gift_card_and_waitlist() {
        let mut c = ctx(IssueType::DefectOrDamage);
        c.out_of_stock = true;
        let got = suggest(&c);
        assert!(!got.is_empty());
        for s in &got {
            assert!(has(s, &[Remedy::Apology, Remedy::Refund, Remedy::GiftCard, Remedy::Waitlist]), "{s:?}");
            assert!(
                s.text.contains("refund") && s.text.contains("gift card") && s.text.contains("waitlist"),
                "{}",
                s.text
            );
        }
    }

    #[test]
    fn churn_to_competitor_gets_refund_and_gift_card() {
        for issue in IssueType::ALL {
            let mut c = ctx(issue);
            c.competitor = Some("Acme".into());
            c.platform = Platform::Mastodon;
            let got = suggest(&c);
            assert!(!got.is_empty(), "{issue}");
            for s in &got {
                assert!(has(s, &[Remedy::Apology, Remedy::Refund, Remedy::GiftCard]), "{issue}: {s:?}");
            }
            assert!(got[0].text.contains("Acme"), "{}", got[0].text);
            let waitlist = got.iter().all(|s| s.remedies.contains(&Remedy::Waitlist));
            assert_eq!(waitlist, issue == IssueType::OutOfStock, "{issue}");
        }
        // A churn signal without a competitor counts too.
        let mut c = ctx(IssueType::LateOrMissingDelivery);
        c.churn = true;
        assert!(suggest(&c).iter().all(|s| has(s, &[Remedy::Refund, Remedy::GiftCard])));
    }

    #[test]
    fn never_a_bare_refund() {
        // Loading a template with a bare refund fails with a clear message.
        let bare = r#"
            [[template]]
            name = "refund_only"
            remedies = ["refund"]
            text = "Refunded."
        "#;
        let err = ReplyTemplates::from_toml_str(bare).unwrap_err().to_string();
        assert!(err.contains("refund_only") && err.contains("bare refund"), "{err}");
        let no_apology = bare.replace("[\"refund\"]", "[\"refund\", \"gift_card\"]");
        assert!(ReplyTemplates::from_toml_str(&no_apology).unwrap_err().to_string().contains("apology"));
        // And no context gets one from the built-in set.
        for issue in IssueType::ALL {
            for flags in 0..16u8 {
                let mut c = ctx(issue);
                c.out_of_stock = flags & 1 != 0;
                c.churn = flags & 2 != 0;
                c.loyal = flags & 4 != 0;
                if flags & 8 != 0 {
                    c.prior_remedies = vec![Remedy::Refund, Remedy::Replacement];
                }
                for s in suggest(&c) {
                    assert_ne!(s.remedies, [Remedy::Refund], "{s:?}");
                    assert!(s.remedies.len() >= 2 || s.remedies == [Remedy::Apology], "{s:?}");
                }
            }
        }
    }

    #[test]
    fn escalation_falls_back_to_builtin_and_ignores_exclusions() {
        let mine = r#"
            [[template]]
            name = "mine"
            remedies = ["apology", "replacement"]
            text = "@{{ customer }} Sorry! A replacement is on its way."
        "#;
        let set = ReplyTemplates::from_toml_str(mine).unwrap();
        let mut c = ctx(IssueType::DefectOrDamage);
        assert_eq!(set.suggest(&c).unwrap()[0].template, "mine");
        c.out_of_stock = true;
        let got = set.suggest(&c).unwrap();
        assert_eq!(got[0].template, "defect_out_of_stock");
        c.policy.exclude = vec![Remedy::GiftCard, Remedy::Waitlist, Remedy::Apology];
        assert!(suggest(&c).iter().all(|s| has(s, &[Remedy::GiftCard, Remedy::Waitlist])));
        // Without escalation, exclusions apply.
        let mut plain = ctx(IssueType::DefectOrDamage);
        plain.policy.exclude = vec![Remedy::ExpeditedShipping];
        let names: Vec<_> = suggest(&plain).into_iter().map(|s| s.template).collect();
        assert_eq!(names, ["defect_replace_or_refund"]);
    }

    #[test]
    fn overrides_replace_by_name_and_brand_templates_rank_first() {
        let mut set = ReplyTemplates::default();
        let before = set.templates().len();
        set.extend_from_toml_str(
            r#"
            [[template]]
            name = "general_apology"
            fallback = true
            remedies = ["apology"]
            text = "@{{ customer }} Sorry about that — {{ brand }} is on it."

            [[template]]
            name = "gilt_late"
            issues = ["late_or_missing_delivery"]
            brands = ["gilt"]
            remedies = ["apology", "gift_card"]
            text = "@{{ customer }} Sorry for the wait on your {{ product }}! Here's a gift card while we chase it."
            "#,
        )
        .unwrap();
        assert_eq!(set.templates().len(), before + 1);
        let got = set.suggest(&ctx(IssueType::LateOrMissingDelivery)).unwrap();
        assert_eq!(got[0].template, "gilt_late");
        assert!(got[0].text.contains("linen duvet"));
        let other = set.suggest(&ctx(IssueType::Other)).unwrap();
        assert_eq!(other[0].text, "@alice_w Sorry about that — Gilt is on it.");
    }

    #[test]
    fn template_errors_say_which_and_why() {
        let undefined = "[[template]]\nname = \"typo\"\nremedies = [\"apology\"]\ntext = \"Sorry {{ custmer }}\"";
        let err = ReplyTemplates::from_toml_str(undefined).unwrap_err().to_string();
        assert!(err.contains("typo") && err.contains("render"), "{err}");
        let syntax = "[[template]]\nname = \"broken\"\nremedies = [\"apology\"]\ntext = \"Sorry {% if %}\"";
        assert!(ReplyTemplates::from_toml_str(syntax).unwrap_err().to_string().contains("broken"));
        let twice = "[[template]]\nname = \"a\"\nremedies = [\"apology\"]\ntext = \"x\"\n[[template]]\nname = \"a\"\nremedies = [\"apology\"]\ntext = \"y\"";
        assert!(matches!(ReplyTemplates::from_toml_str(twice), Err(ReplyError::Duplicate(_))));
        let unknown = "[[template]]\nname = \"a\"\nissues = [\"defect\"]\nremedies = [\"apology\"]\ntext = \"x\"";
        let err = ReplyTemplates::from_toml_str(unknown).unwrap_err().to_string();
        assert!(err.contains("defect") && err.contains("line"), "{err}");
        assert!("broken_thing".parse::<IssueType>().unwrap_err().to_string().contains("defect_or_damage"));
    }

    #[test]
    fn prior_remedies_prefer_new_offers_and_show_in_text() {
        let mut c = ctx(IssueType::DefectOrDamage);
        c.prior_remedies = vec![Remedy::Replacement, Remedy::Refund];
        let names: Vec<_> = suggest(&c).into_iter().map(|s| s.template).collect();
        assert_eq!(names, ["defect_replace_express"]);
        let mut churn = ctx(IssueType::Other);
        churn.churn = true;
        churn.platform = Platform::Blog;
        churn.prior_remedies = vec![Remedy::Refund];
        assert!(suggest(&churn)[0].text.contains("On top of the refund"), "{:?}", suggest(&churn));
    }

    #[test]
    fn long_replies_are_fitted_to_the_platform() {
        let mut c = ctx(IssueType::DefectOrDamage);
        c.out_of_stock = true;
        c.customer = "a_rather_long_handle_name".into();
        c.products = vec!["hand-stitched organic linen duvet cover, king size".into()];
        c.policy.signature = Some("^JS".into());
        for platform in [Platform::X, Platform::Bluesky, Platform::Mastodon, Platform::Blog] {
            c.platform = platform;
            let s = &suggest(&c)[0];
            assert!(s.text.ends_with(" ^JS"), "{s:?}");
            if let Some(limit) = char_limit(platform) {
                assert!(s.text.chars().count() <= limit, "{platform}: {}", s.text.chars().count());
            }
            let tight = matches!(platform, Platform::X | Platform::Bluesky);
            assert_eq!(s.shortened, tight, "{platform}: {}", s.text);
        }
    }

    #[test]
    fn fit_drops_sentences_then_cuts_words() {
        let body = "Sorry about this. We will fix it. Here is more text.";
        assert_eq!(fit(body, None, 100), body);
        assert_eq!(fit(body, None, 34), "Sorry about this. We will fix it.");
        assert_eq!(fit(body, Some("^JS"), 25), "Sorry about this. ^JS");
        assert_eq!(fit(body, Some("^JS"), 16), "Sorry about… ^JS");
        assert_eq!(fit(body, Some("^JS"), 15), "Sorry… ^JS");
        assert_eq!(split_sentences("A. B! C? D"), ["A.", "B!", "C?", "D"]);
    }

    proptest! {
        #[test]
        fn fitted_text_never_exceeds_the_limit(body in "[a-zA-Zéü .!?]{0,400}", sig in proptest::option::of("[a-z^]{1,5}"), limit in 20usize..500) {
            let text = fit(&body, sig.as_deref(), limit);
            prop_assert!(text.chars().count() <= limit, "{} > {limit}: {text:?}", text.chars().count());
        }
    }
}
