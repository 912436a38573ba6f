//! Exporters: one module per output format.

pub mod html;
pub mod markdown;
pub mod matrix_table;
pub mod plots;
pub mod table;
pub mod trend;
pub mod verdict;

/// Percent-encodes every byte of `s` except ASCII letters, digits, `-._~` and those in `keep`:
/// safe in a URL, and (having no `&<>"'`) in an HTML attribute or a Markdown link.
pub fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A relative file path as a link target: each segment encoded, the separators kept.
pub fn path_url(path: &str) -> String {
    percent_encode(path, "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_everything_but_the_path_shape() {
        assert_eq!(path_url("../run 1/<a>&\"'.json"), "../run%201/%3Ca%3E%26%22%27.json");
        assert_eq!(percent_encode("é#%", ""), "%C3%A9%23%25");
    }
}
