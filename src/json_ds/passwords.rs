//! Password verification for `backend_verifies_password = true`, for every
//! stored format Curity's credential managers write, each by a well-kept
//! crate: BCrypt (`$2a$` / `$2b$` / `$2y$`, `bcrypt`), SHA-crypt (`$5$`,
//! `$6$`, `sha-crypt`), PBKDF2 and Argon2 in PHC form (`$pbkdf2-sha256$`,
//! `$pbkdf2-sha512$`, `$argon2id$` ..., `pbkdf2` and `argon2` through
//! `password-hash`). Unknown formats never match.
//!
//! Verification is slow on purpose (BCrypt cost 10 is tens of
//! milliseconds): callers run it on the blocking pool, a bounded number at
//! a time. An unknown user is "verified" against a dummy hash of the same
//! kind, so a wrong password and an unknown user take as long.

use std::sync::LazyLock;

use password_hash::{PasswordHash, PasswordVerifier};

/// A BCrypt hash (cost 10, Curity's default) of a random string, made once:
/// what an unknown user's password is checked against.
static DUMMY_BCRYPT: LazyLock<String> =
    LazyLock::new(|| bcrypt::hash(uuid::Uuid::new_v4().to_string(), 10).unwrap_or_default());

/// Whether `password` matches `stored`.
pub fn verify(stored: &str, password: &str) -> bool {
    if ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if stored.starts_with("$6$") {
        return sha_crypt::sha512_check(password, stored).is_ok();
    }
    if stored.starts_with("$5$") {
        return sha_crypt::sha256_check(password, stored).is_ok();
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let algorithm = parsed.algorithm.as_str();
    if algorithm.starts_with("argon2") {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    } else if algorithm.starts_with("pbkdf2") {
        pbkdf2::Pbkdf2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    } else {
        false
    }
}

/// The work of a verification that cannot succeed, for unknown users.
pub fn verify_dummy(password: &str) -> bool {
    let _ = bcrypt::verify(password, &DUMMY_BCRYPT);
    false
}

/// A new BCrypt hash (`$2b$`), for a password received in clear.
pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(password, cost)
}

#[cfg(test)]
mod tests {
    use password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

    use super::*;

    #[test]
    fn every_supported_format_verifies_its_password_and_refuses_another() {
        let salt = SaltString::generate(&mut OsRng);
        let argon = argon2::Argon2::default()
            .hash_password(b"s3cret", &salt)
            .expect("argon2")
            .to_string();
        let pbkdf = pbkdf2::Pbkdf2
            .hash_password_customized(
                b"s3cret",
                Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
                None,
                pbkdf2::Params {
                    rounds: 1_000,
                    output_length: 32,
                },
                &salt,
            )
            .expect("pbkdf2")
            .to_string();
        let sha512 = sha_crypt::sha512_simple(
            "s3cret",
            &sha_crypt::Sha512Params::new(5_000).expect("params"),
        )
        .expect("sha512");
        let sha256 = sha_crypt::sha256_simple(
            "s3cret",
            &sha_crypt::Sha256Params::new(5_000).expect("params"),
        )
        .expect("sha256");
        let bcrypt = hash("s3cret", 4).expect("bcrypt");
        for stored in [&argon, &pbkdf, &sha512, &sha256, &bcrypt] {
            assert!(verify(stored, "s3cret"), "{stored}");
            assert!(!verify(stored, "s3cret "), "{stored}");
        }
        assert!(argon.starts_with("$argon2id$") && pbkdf.starts_with("$pbkdf2-sha256$"));
        assert!(sha512.starts_with("$6$") && sha256.starts_with("$5$"));
    }

    #[test]
    fn unknown_formats_and_plain_text_never_match() {
        for stored in ["s3cret", "", "$1$abc$def", "$unknown$x"] {
            assert!(!verify(stored, "s3cret"), "{stored}");
        }
    }

    #[test]
    fn the_dummy_hash_is_a_valid_bcrypt_hash_so_it_costs_a_real_verification() {
        assert!(DUMMY_BCRYPT.starts_with("$2b$10$"));
        assert!(bcrypt::verify("x", &DUMMY_BCRYPT).is_ok());
        assert!(!verify_dummy("x"));
    }
}
