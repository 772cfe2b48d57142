//! The composite key strings of database clients and service providers:
//! `compose(a, b)` = `esc(a) + "#" + b`, where only the first component is
//! escaped (`#` → `\#`; backslashes are left alone), as the plugin does.

/// `esc(first)#second`.
pub fn compose(first: &str, second: &str) -> String {
    let mut out = first.replace('#', "\\#");
    out.push('#');
    out.push_str(second);
    out
}

/// The components of a composed key: split at the first `#` not preceded
/// by `\`, unescaping the first; without a separator the whole string is
/// the first component.
pub fn split(key: &str) -> (String, String) {
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' && (i == 0 || bytes[i - 1] != b'\\') {
            return (key[..i].replace("\\#", "#"), key[i + 1..].to_string());
        }
        i += 1;
    }
    (key.replace("\\#", "#"), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_escapes_only_the_first_component_as_the_plugins_tests_pin() {
        assert_eq!(compose("profile#foo", "tag#bar"), "profile\\#foo#tag#bar");
        assert_eq!(compose("foo#", "tag#bar"), "foo\\##tag#bar");
        assert_eq!(
            compose("profile\\#foo", "tag#bar"),
            "profile\\\\#foo#tag#bar"
        );
        assert_eq!(compose("p", ""), "p#");
    }

    #[test]
    fn split_undoes_compose_for_first_components_without_backslashes() {
        for (a, b) in [
            ("profile#foo", "tag#bar"),
            ("foo#", "x"),
            ("p", ""),
            ("a", "b#c"),
        ] {
            assert_eq!(
                split(&compose(a, b)),
                (a.to_string(), b.to_string()),
                "{a} {b}"
            );
        }
        assert_eq!(split("plain"), ("plain".to_string(), String::new()));
    }
}
