//! Tool names: portable by default (`^[A-Za-z0-9_-]{1,64}$`), the original's dotted grammar
//! on request. Portable names stay within 48 characters so a client's prefix
//! (`mcp__server__` and the like) still fits a 64-character limit.

use std::collections::HashSet;

use crate::facts::ToolNames;

pub const PORTABLE_MAX: usize = 48;

/// `list_library_book`; `othersite_list_library_book` for a second admin site.
pub fn portable(site: &str, verb: &str, app_label: &str, model_name: &str) -> String {
    let mut parts = Vec::with_capacity(4);
    if site != "admin" {
        parts.push(site);
    }
    parts.extend([verb, app_label, model_name]);
    portable_of(&parts)
}

/// A portable name from its parts: `["get", "library_book_detail"]` → `get_library_book_detail`.
pub fn portable_of(parts: &[&str]) -> String {
    shorten(&sanitise(&parts.join("_")))
}

/// A DRF view's stem, its router basename or URL name as the facts carry it, with the
/// namespace's `:` and the name's `-` made word separators: `api:book-stats` → `api_book_stats`.
pub fn drf_stem(raw: &str) -> String {
    raw.replace([':', '-'], "_")
}

/// `(name, alias)`: the name the setting asks for first, the other kept as its alias.
pub fn ordered(setting: ToolNames, portable: String, dotted: String) -> (String, String) {
    match setting {
        ToolNames::Portable => (portable, dotted),
        ToolNames::Dotted => (dotted, portable),
    }
}

/// `admin.list:library.Book` — the original package's names.
pub fn dotted(verb: &str, label: &str) -> String {
    format!("admin.{verb}:{label}")
}

fn sanitise(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// Long names keep a readable head and a hash of the whole, so they stay unique.
fn shorten(name: &str) -> String {
    if name.len() <= PORTABLE_MAX {
        return name.to_string();
    }
    let digest = format!("{:08x}", fnv1a(name.as_bytes()) as u32);
    format!("{}_{}", &name[..PORTABLE_MAX - 9], digest)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// Makes a name unique among those already taken by appending `_2`, `_3`, …
pub fn unique(name: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut n = 2;
    loop {
        let suffix = format!("_{n}");
        let head_len = name.len().min(PORTABLE_MAX.max(name.len()) - suffix.len());
        let candidate = format!("{}{}", &name[..head_len], suffix);
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_names_are_short_and_clean() {
        assert_eq!(portable("admin", "list", "library", "book"), "list_library_book");
        assert_eq!(portable("staff site", "get", "a", "b"), "staff_site_get_a_b");
        let long = portable("admin", "retrieve", "a_really_long_application_label", "and_an_even_longer_model_name");
        assert_eq!(long.len(), PORTABLE_MAX);
        assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }

    #[test]
    fn drf_stems_are_words_joined_by_underscores() {
        assert_eq!(drf_stem("api:book-stats"), "api_book_stats");
        assert_eq!(portable_of(&["get", &drf_stem("v2:tag-detail")]), "get_v2_tag_detail");
        assert_eq!(drf_stem("api_book"), "api_book");
    }

    #[test]
    fn collisions_get_suffixes() {
        let mut taken = HashSet::new();
        assert_eq!(unique("x".into(), &mut taken), "x");
        assert_eq!(unique("x".into(), &mut taken), "x_2");
        assert_eq!(unique("x".into(), &mut taken), "x_3");
    }
}
