//! The secrets the configuration names by file: read and checked once by
//! validation, and again by whoever reloads them.

use std::path::Path;

/// Shorter tokens are refused: a bearer token is the only secret between
/// the network and every password hash.
const MIN_TOKEN_LEN: usize = 16;

/// Reads a token file: its content without surrounding whitespace.
pub fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let token = text.trim();
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "{} holds a token shorter than {MIN_TOKEN_LEN} characters",
            path.display()
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{} holds whitespace inside the token",
            path.display()
        ));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_spaced_tokens_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "short").unwrap();
        assert!(read_token(&path).unwrap_err().contains("shorter than 16"));
        std::fs::write(&path, "a-long-token with-space").unwrap();
        assert!(read_token(&path).unwrap_err().contains("whitespace"));
    }
}
