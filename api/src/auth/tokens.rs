//! Access tokens (HS256 JWTs) and refresh tokens (opaque, stored as their SHA-256).

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// What an access token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The worker id.
    pub sub: Uuid,
    /// `admin` or `agent` when issued (the current role is read from the credentials).
    pub role: String,
    /// This token's id.
    pub jti: Uuid,
    /// The session (refresh token family) it belongs to.
    pub sid: Uuid,
    /// The credentials' session epoch when issued (raised by a password change).
    pub epoch: i32,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// The configured secret, else the one kept in `<data_dir>/jwt-secret` (created with mode
    /// 0600 on first use).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = configured.filter(|secret| !secret.is_empty()) {
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let path = data_dir.join("jwt-secret");
        match std::fs::read_to_string(&path) {
            Ok(secret) if secret.trim().len() >= 32 => {
                return Ok(Self::from_secret(secret.trim().as_bytes()))
            }
            Ok(_) => anyhow::bail!("{} is too short (at least 32 characters)", path.display()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()))
            }
        }
        let secret = random_token(48);
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(secret.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self::from_secret(secret.as_bytes()))
    }

    pub fn sign(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .context("signing an access token failed")
    }

    /// Checks signature (HS256 only: `none` and other algorithms are refused), expiry (no
    /// leeway) and the required claims.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

/// The stored form of a refresh token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            sub: Uuid::now_v7(),
            role: "agent".into(),
            jti: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            epoch: 0,
            iat: now,
            exp: now + exp_offset,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_same_secret_only() {
        let keys = TokenKeys::from_secret(b"one secret that is long enough!!");
        let other = TokenKeys::from_secret(b"another secret, also long enough");
        let claims = claims(60);
        let token = keys.sign(&claims).expect("signs");
        assert_eq!(keys.verify(&token), Some(claims));
        assert_eq!(other.verify(&token), None);
        assert_eq!(keys.verify("not a token"), None);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = TokenKeys::from_secret(b"one secret that is long enough!!");
        let token = keys.sign(&claims(-5)).expect("signs");
        assert_eq!(keys.verify(&token), None);
    }

    #[test]
    fn a_generated_secret_is_kept_with_mode_0600_and_reused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile_dir();
        let first = TokenKeys::load(None, &dir).expect("creates");
        let mode = std::fs::metadata(dir.join("jwt-secret"))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = TokenKeys::load(None, &dir).expect("reads");
        let token = first.sign(&claims(60)).expect("signs");
        assert!(second.verify(&token).is_some());
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("savecorp-jwt-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed_to_hex() {
        let one = random_token(32);
        assert_ne!(one, random_token(32));
        assert_eq!(token_hash(&one).len(), 64);
        assert_eq!(token_hash(&one), token_hash(&one));
    }
}
