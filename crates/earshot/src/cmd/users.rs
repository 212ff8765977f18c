//! `earshot users`: people who may use the inbox and the API.

use super::DbArg;
use anyhow::{Context as _, Result, bail};
use earshot::auth;
use earshot_store::{Accounts, UserRow};
use std::process::ExitCode;

/// Arguments of `earshot users`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UsersCommand,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Create a user; prints a one-time password (or with --token an API token) on the last line.
    Add(AddArgs),
    /// List users.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

/// Arguments of `earshot users add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Login name.
    pub name: String,
    /// admin, lead, agent or viewer.
    #[arg(long, default_value = "agent")]
    pub role: String,
    /// A brand the user may see (repeat for several; `*` for all).
    #[arg(long = "brand")]
    pub brands: Vec<String>,
    /// Create an API token instead of a password.
    #[arg(long)]
    pub token: bool,
    #[command(flatten)]
    pub db: DbArg,
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        UsersCommand::Add(a) => add(a),
        UsersCommand::List { db } => {
            let store = db.open()?;
            for u in store.users()? {
                println!("{:<20} {:<7} {}", u.name, u.role, u.brands.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(a: AddArgs) -> Result<ExitCode> {
    let role = auth::Role::parse(&a.role)?;
    if a.brands.is_empty() && role != auth::Role::Admin {
        bail!(
            "a {} needs at least one --brand\nhint: --brand NAME (repeatable), or --brand '*' for every brand",
            a.role
        );
    }
    let mut store = a.db.open()?;
    if store.user_by_name(&a.name)?.is_some() {
        bail!("user {} already exists\nhint: pick another name", a.name);
    }
    let now = chrono::Utc::now();
    let secret = auth::new_secret();
    let password_hash = if a.token { None } else { Some(auth::hash_password(&secret)?) };
    let user = UserRow { id: 0, name: a.name.clone(), role: a.role.clone(), brands: a.brands, password_hash };
    let id = store.add_user(&user, now).with_context(|| format!("cannot add user {}", a.name))?;
    if a.token {
        store.add_token(id, &auth::token_hash(&secret), now)?;
        println!("created {} ({}); API token (shown once, send as `Authorization: Bearer TOKEN`):", a.name, a.role);
    } else {
        println!("created {} ({}); one-time password (shown once):", a.name, a.role);
    }
    println!("{secret}");
    Ok(ExitCode::SUCCESS)
}
