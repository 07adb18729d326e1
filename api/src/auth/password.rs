//! Passwords: the rules (10..128 printable characters) and Argon2id hashing (19 MiB, t=2, p=1).
//! Hashing is slow on purpose, so it runs on the blocking pool.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// A password that satisfies the rules. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Why a password was refused (the message never contains it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordRule {
    Length,
    Printable,
}

impl PasswordRule {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Length => "must be 10 to 128 characters",
            Self::Printable => "must contain only printable characters",
        }
    }
}

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// Any printable characters (spaces included, no control characters), 10 to 128 of them.
    pub fn parse(input: &str) -> Result<Self, PasswordRule> {
        let chars = input.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(PasswordRule::Length);
        }
        if input.chars().any(char::is_control) {
            return Err(PasswordRule::Printable);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // 19 MiB, 2 passes, 1 lane: the OWASP minimum for Argon2id.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes at once at most: each takes 19 MiB and a core for a while, so a flood of logins
/// must queue instead of taking the process's memory (RELIABILITY.md, fuzzing).
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        tokio::sync::Semaphore::new(cores.clamp(1, 8))
    })
}

/// Hashes a password (PHC string), on the blocking pool.
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.clone();
    let _slot = hashing_slots().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))
    })
    .await?
}

/// Whether `candidate` matches `phc_hash`, on the blocking pool. A malformed hash never matches.
/// With `phc_hash: None` a dummy hash is verified, so an unknown account takes as long as a
/// known one.
pub async fn verify(candidate: &str, phc_hash: Option<String>) -> bool {
    let candidate = candidate.to_owned();
    let Ok(_slot) = hashing_slots().acquire().await else {
        return false;
    };
    let result = tokio::task::spawn_blocking(move || {
        let (hash, real) = match phc_hash {
            Some(hash) => (hash, true),
            None => (dummy_hash().to_owned(), false),
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let matches = hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        matches && real
    })
    .await;
    result.unwrap_or(false)
}

/// A valid Argon2id hash of a random password, computed once.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_must_be_10_to_128_printable_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ten chars!").is_ok());
        assert!(Password::parse("pässwörd with spaces ✓").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).err(),
            Some(PasswordRule::Length)
        );
        assert_eq!(
            Password::parse("tab\there-long").err(),
            Some(PasswordRule::Printable)
        );
    }

    #[tokio::test]
    async fn a_hashed_password_verifies_and_another_does_not() {
        let password = Password::parse("correct horse battery").expect("valid");
        let hash = hash(&password).await.expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify("correct horse battery", Some(hash.clone())).await);
        assert!(!verify("wrong horse battery", Some(hash)).await);
        assert!(!verify("correct horse battery", None).await);
        assert!(!format!("{password:?}").contains("horse"));
    }
}
