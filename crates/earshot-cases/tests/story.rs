//! The product story end to end through the public API: a damaged, out-of-stock product and a
//! customer naming a competitor, threaded into one case, timed against the brand's SLA in business
//! hours, answered with the escalation remedies, and kept.

use chrono::{DateTime, TimeZone, Utc};
use earshot_cases::{
    Case, CaseStatus, IssueType, LaterPost, Outcome, Remedy, ReplyContext, Role, SlaClock, SlaEvent, SlaPolicies,
    SlaState, ThreadInput, Threader, infer_outcome, suggest,
};
use earshot_core::post::Platform;

const POLICIES: &str = r#"
[default]
first_response = "1h"
next_response = "2h"
resolution = "1d"

[default.calendar]
timezone = "America/New_York"
hours = { mon-fri = "09:00-17:00" }
"#;

/// 2025-01-13 is a Monday; New York is UTC-5 in January.
fn ny(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, day, h + 5, m, 0).unwrap()
}

fn post(id: &str, author: &str, brand_side: bool, reply_to: Option<&str>, at: DateTime<Utc>) -> ThreadInput {
    let mut input = ThreadInput::new(Platform::X, id, author, at);
    input.author_is_brand = brand_side;
    input.brand = Some("Gilt".into());
    input.reply_to = reply_to.map(str::to_string);
    input.reply_to_author = brand_side.then(|| "alice".to_string());
    input
}

#[test]
fn damaged_out_of_stock_duvet_customer_kept() {
    let policies = SlaPolicies::from_toml_str(POLICIES).unwrap();
    let mut threader = Threader::default();
    let mut clock = SlaClock::new(policies.for_brand("Gilt").unwrap().clone());

    // Friday 16:40: the complaint. Earshot only sees it on Monday morning.
    let mut complaint = post("100", "@Alice", false, None, ny(17, 16, 40));
    complaint.priority = Some(85);
    complaint.is_complaint = Some(true);
    let a = threader.assign(&complaint).unwrap();
    assert!(a.opened);
    let mut case = Case::open(a.case_id, &complaint);
    clock.record(SlaEvent::CustomerPosted { at: complaint.published_at });

    // Monday 09:10: 20 business minutes before the weekend + 10 after = 30 of 60.
    let monday = clock.evaluate(ny(20, 9, 10));
    assert_eq!(monday.first_response.state, SlaState::Running);
    assert_eq!(monday.first_response.due_at, Some(ny(20, 9, 40)));

    // The suggested reply follows the escalation policy.
    let mut ctx = ReplyContext::new("Gilt", "alice", IssueType::DefectOrDamage, Platform::X);
    ctx.products = vec!["linen duvet".into()];
    ctx.out_of_stock = true;
    ctx.competitor = Some("Acme".into());
    let suggestion = suggest(&ctx).into_iter().next().unwrap();
    for remedy in [Remedy::Apology, Remedy::Refund, Remedy::GiftCard, Remedy::Waitlist] {
        assert!(suggestion.remedies.contains(&remedy), "{suggestion:?}");
    }
    assert!(suggestion.text.chars().count() <= 280);

    // Monday 09:35: the brand replies in time.
    let reply = post("101", "GiltCare", true, Some("100"), ny(20, 9, 35));
    let b = threader.assign(&reply).unwrap();
    assert_eq!((b.case_id, b.role, b.first_response), (case.id, Role::Brand, true));
    case.record(&reply, &b);
    for remedy in &suggestion.remedies {
        case.add_remedy(*remedy);
    }
    clock.record(SlaEvent::BrandReplied { at: reply.published_at });
    case.set_status(CaseStatus::WaitingOnCustomer, ny(20, 9, 36)).unwrap();
    threader.set_status(case.id, CaseStatus::WaitingOnCustomer).unwrap();
    clock.record(SlaEvent::StatusChanged { at: ny(20, 9, 36), status: CaseStatus::WaitingOnCustomer });

    // Tuesday: alice answers the brand's reply; the case is open again and the clocks run.
    let thanks = post("102", "alice", false, Some("101"), ny(21, 11, 0));
    let c = threader.assign(&thanks).unwrap();
    assert_eq!((c.case_id, c.role), (case.id, Role::Customer));
    case.record(&thanks, &c);
    assert_eq!(case.status, CaseStatus::Open);
    clock.record(SlaEvent::CustomerPosted { at: thanks.published_at });

    let tuesday = clock.evaluate(ny(21, 12, 0));
    assert_eq!(tuesday.first_response.state, SlaState::Met);
    assert_eq!(tuesday.next_response.state, SlaState::Running);
    assert_eq!(tuesday.next_response.due_at, Some(ny(21, 13, 0)));
    // Resolution: 20 min Friday + 36 min Monday before the pause, 60 min Tuesday.
    assert_eq!(tuesday.resolution.elapsed.as_secs(), (20 + 36 + 60) * 60);

    case.set_status(CaseStatus::Resolved, ny(21, 12, 30)).unwrap();
    clock.record(SlaEvent::Resolved { at: ny(21, 12, 30) });
    let done = clock.evaluate(ny(22, 9, 0));
    assert_eq!(done.resolution.state, SlaState::Met);
    assert_eq!(done.next_response.state, SlaState::Met);
    assert!(done.history.iter().all(|t| t.to_state != SlaState::Breached));

    // What alice said after the reply decides the outcome.
    let later = [LaterPost {
        post_id: thanks.native_id.clone(),
        text: "That's really kind, thank you — staying with Gilt!".into(),
        churn: false,
        loyalty: true,
        competitor: None,
        compound: 0.82,
    }];
    let (outcome, evidence) = infer_outcome(&later);
    case.set_outcome(outcome, evidence);
    assert_eq!(case.outcome, Outcome::Kept);
    assert_eq!(case.outcome_evidence.as_ref().unwrap().post_id, "102");
    assert_eq!(case.post_ids, ["100", "101", "102"]);
    assert_eq!(case.opened_at, ny(17, 16, 40));
    assert_eq!(case.first_response_at, Some(ny(20, 9, 35)));
    assert_eq!(case.priority, 85);
}
