//! Reading a case's [`Outcome`] from what the customer posted after the brand's reply.
//!
//! # The rule
//!
//! Give [`infer_outcome`] the customer's posts **published after the brand's (latest) reply**, oldest
//! first, with the signals the analysis found in them. Each post is one of:
//!
//! - **lost signal** — it has a churn signal (`churn`, e.g. "I'm done with you", "cancelling") or names
//!   a competitor (`competitor`, e.g. "ordering from Acme instead"). A lost signal wins over anything
//!   positive in the same post ("Acme is great" is good news for Acme, not for the brand);
//! - **kept signal** — otherwise, it shows loyalty (`loyalty`, e.g. "still my favourite") or clearly
//!   positive sentiment toward the brand (VADER `compound` ≥ [`KEPT_COMPOUND`]);
//! - **neutral** — neither.
//!
//! The **latest** post with a signal decides — a customer who threatened to leave and then says "you
//! won me back" is kept; one who thanked the brand and a week later names a competitor is lost — and
//! becomes the [`OutcomeEvidence`]. Without any signal the outcome is [`Outcome::Unknown`].

use serde::{Deserialize, Serialize};

use crate::case::{Outcome, OutcomeEvidence};

/// VADER compound score from which a later post counts as clearly positive.
pub const KEPT_COMPOUND: f64 = 0.5;

/// One of the customer's posts after the brand's reply, with what the analysis found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaterPost {
    /// Native id of the post.
    pub post_id: String,
    /// Its text (for the evidence; not re-analyzed).
    pub text: String,
    /// The analysis found a churn signal.
    pub churn: bool,
    /// The analysis found a loyalty signal.
    pub loyalty: bool,
    /// The competitor it names, when it names one.
    pub competitor: Option<String>,
    /// VADER compound sentiment, −1 to 1.
    pub compound: f64,
}

/// Infers the outcome from the customer's posts after the brand's reply, oldest first (see the module
/// docs for the rule). Returns the evidence post alongside, unless the outcome is unknown.
pub fn infer_outcome(later_posts: &[LaterPost]) -> (Outcome, Option<OutcomeEvidence>) {
    later_posts
        .iter()
        .rev()
        .find_map(|post| {
            let (outcome, reason) = classify(post)?;
            Some((outcome, Some(OutcomeEvidence { post_id: post.post_id.clone(), reason })))
        })
        .unwrap_or((Outcome::Unknown, None))
}

fn classify(post: &LaterPost) -> Option<(Outcome, String)> {
    let competitor = post.competitor.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let excerpt = excerpt(&post.text);
    match (post.churn, competitor) {
        (true, Some(c)) => return Some((Outcome::Lost, format!("churn signal naming competitor {c:?}: {excerpt}"))),
        (true, None) => return Some((Outcome::Lost, format!("churn signal: {excerpt}"))),
        (false, Some(c)) => return Some((Outcome::Lost, format!("names competitor {c:?}: {excerpt}"))),
        (false, None) => {}
    }
    if post.loyalty {
        return Some((Outcome::Kept, format!("loyalty signal: {excerpt}")));
    }
    if post.compound >= KEPT_COMPOUND {
        return Some((Outcome::Kept, format!("positive sentiment (compound {:.2}): {excerpt}", post.compound)));
    }
    None
}

/// The first 80 characters of the text, quoted, cut at a character boundary.
fn excerpt(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(id: &str, text: &str) -> LaterPost {
        LaterPost {
            post_id: id.into(),
            text: text.into(),
            churn: false,
            loyalty: false,
            competitor: None,
            compound: 0.0,
        }
    }

    #[test]
    fn nothing_decisive_is_unknown() {
        assert_eq!(infer_outcome(&[]), (Outcome::Unknown, None));
        let mut meh = post("1", "ok");
        meh.compound = 0.49;
        assert_eq!(infer_outcome(&[meh]), (Outcome::Unknown, None));
    }

    #[test]
    fn competitor_or_churn_is_lost() {
        let mut p = post("7", "Ordering from Acme from now on");
        p.competitor = Some("Acme".into());
        p.compound = 0.6;
        let (outcome, evidence) = infer_outcome(&[post("6", "hm"), p]);
        assert_eq!(outcome, Outcome::Lost);
        let evidence = evidence.unwrap();
        assert_eq!(evidence.post_id, "7");
        assert!(evidence.reason.contains("Acme"), "{}", evidence.reason);

        let mut churn = post("8", "cancelled my membership");
        churn.churn = true;
        assert_eq!(infer_outcome(&[churn]).0, Outcome::Lost);
    }

    #[test]
    fn loyalty_or_clearly_positive_is_kept() {
        let mut loyal = post("1", "still my favourite shop");
        loyal.loyalty = true;
        assert_eq!(infer_outcome(&[loyal]).0, Outcome::Kept);
        let mut happy = post("2", "Thank you so much, great service!");
        happy.compound = 0.5;
        let (outcome, evidence) = infer_outcome(&[happy]);
        assert_eq!(outcome, Outcome::Kept);
        assert!(evidence.unwrap().reason.contains("0.50"));
    }

    #[test]
    fn latest_signal_decides() {
        let mut threat = post("1", "switching to Acme");
        threat.competitor = Some("Acme".into());
        let mut won_back = post("2", "ok you won me back, staying");
        won_back.loyalty = true;
        let neutral = post("3", "tracking number?");
        assert_eq!(infer_outcome(&[threat.clone(), won_back.clone(), neutral]).1.unwrap().post_id, "2");
        assert_eq!(infer_outcome(&[won_back, threat]).0, Outcome::Lost);
    }

    #[test]
    fn evidence_excerpt_is_short() {
        let mut p = post("1", &"ü".repeat(500));
        p.churn = true;
        let reason = infer_outcome(&[p]).1.unwrap().reason;
        assert!(reason.chars().count() < 120 && reason.contains('…'));
    }
}
