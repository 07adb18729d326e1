//! Passwords: the rules (10..128 printable characters) and Argon2id hashing (19 MiB, t=2, p=1).
//! Hashing is slow on purpose, so it runs on a few dedicated threads (see `hashing_queue`).

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

/// A job for the hashing threads.
type HashJob = Box<dyn FnOnce() + Send>;

/// The hashing threads: one per core (at most 8), started on first use, fed by one queue.
///
/// Each hash takes 19 MiB and a core for a while. On the blocking pool, a flood of logins
/// spread those buffers over many threads, and the allocator kept a 19 MiB arena per thread
/// (RSS grew to hundreds of MiB in the fuzz campaign, RELIABILITY.md). A fixed set of threads
/// bounds both the memory (≈ threads × 19 MiB, reused from hash to hash) and the CPU taken;
/// further requests wait in the queue.
fn hashing_queue() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<HashJob>> {
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<HashJob>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let threads = std::thread::available_parallelism()
            .map_or(2, |cores| cores.get())
            .clamp(1, 8);
        for index in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "starting a password hashing thread failed");
            }
        }
        std::sync::Mutex::new(sender)
    })
}

/// Runs `work` on a hashing thread and waits for its result (`None`: no thread took it).
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = done.send(work());
    });
    hashing_queue().lock().ok()?.send(job).ok()?;
    result.await.ok()
}

/// Hashes a password (PHC string), on a hashing thread.
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.clone();
    on_hashing_thread(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))
    })
    .await
    .unwrap_or_else(|| Err(anyhow::anyhow!("no password hashing thread is running")))
}

/// Whether `candidate` matches `phc_hash`, on a hashing thread. A malformed hash never
/// matches. With `phc_hash: None` a dummy hash is verified, so an unknown account takes as
/// long as a known one.
pub async fn verify(candidate: &str, phc_hash: Option<String>) -> bool {
    let candidate = candidate.to_owned();
    on_hashing_thread(move || {
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
    .await
    .unwrap_or(false)
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
