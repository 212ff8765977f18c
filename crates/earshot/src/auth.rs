//! Who is asking and what they may see: password hashing (argon2), random secrets, token hashing, roles and
//! brand scopes. Secrets never reach the store in clear: passwords as argon2 PHC strings, session ids and API
//! tokens as SHA-256 hex (they are long random values, so a fast hash is enough for them).

use anyhow::{Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use earshot_store::UserRow;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads cases and posts.
    Viewer,
    /// Also replies, records remedies and notes, changes status.
    Agent,
    /// Also assigns and merges cases.
    Lead,
    /// Everything, every brand.
    Admin,
}

impl Role {
    /// Parses a role name.
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "agent" => Ok(Role::Agent),
            "lead" => Ok(Role::Lead),
            "admin" => Ok(Role::Admin),
            other => Err(anyhow!("unknown role {other:?}\nhint: use admin, lead, agent or viewer")),
        }
    }

    /// The role of a stored user (unknown names get the least power).
    pub fn of(user: &UserRow) -> Role {
        Role::parse(&user.role).unwrap_or(Role::Viewer)
    }
}

/// True when `user` may see `brand`'s cases and posts.
pub fn may_see(user: &UserRow, brand: &str) -> bool {
    Role::of(user) == Role::Admin || user.brands.iter().any(|b| b == "*" || b.eq_ignore_ascii_case(brand))
}

/// The brands a user's queries are limited to (`None` = all).
pub fn scope(user: &UserRow) -> Option<Vec<String>> {
    if Role::of(user) == Role::Admin || user.brands.iter().any(|b| b == "*") { None } else { Some(user.brands.clone()) }
}

/// A fresh random secret (256 bits, hex).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 hex of a token or session id, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("cannot encode a salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow!("cannot hash the password: {e}"))?
        .to_string())
}

/// True when `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Constant-time string comparison (for CSRF tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: &str, brands: &[&str]) -> UserRow {
        UserRow {
            id: 1,
            name: "u".into(),
            role: role.into(),
            brands: brands.iter().map(|b| b.to_string()).collect(),
            password_hash: None,
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(hash_password("correct horse").unwrap(), h, "salted");
    }

    #[test]
    fn scopes() {
        assert!(may_see(&user("agent", &["Gilt"]), "gilt"));
        assert!(!may_see(&user("agent", &["Gilt"]), "Brooks"));
        assert!(may_see(&user("admin", &[]), "Brooks"));
        assert!(may_see(&user("viewer", &["*"]), "Brooks"));
        assert_eq!(scope(&user("agent", &["Gilt"])), Some(vec!["Gilt".to_string()]));
        assert_eq!(scope(&user("admin", &[])), None);
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(same_secret(&a, &a.clone()) && !same_secret(&a, &b));
    }
}
