//! Which routed views are served (`DJANGO_MCP_VIEW_INCLUDE`, `DJANGO_MCP_VIEW_EXCLUDE`,
//! `DJANGO_MCP_REQUIRE_AUTH`), asked by the host before it describes them: describing a view
//! may run the project's code (a DRF view's serializers), so an excluded one never is. A
//! step input of its own (docs/engine-protocol.md, `select_views`), answered with or without
//! a catalogue; the host keeps the order and the ids (docs/adr/0007-views-selected-first.md).

use serde::Deserialize;
use serde_json::{json, Value};

/// The settings and the views the host found, in the order of its URL walk.
#[derive(Debug, Deserialize)]
pub struct Selection {
    /// `DJANGO_MCP_VIEW_INCLUDE`: `None` admits every view.
    #[serde(default)]
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    require_auth: bool,
    candidates: Vec<Candidate>,
}

/// A view (or one DRF route) as its labels name it.
#[derive(Debug, Deserialize)]
struct Candidate {
    name: Option<String>,
    route: String,
    dotted: String,
    /// The gates the host recognised on a routed view. Absent for a DRF route (its permission
    /// classes decide) and where the host could not read them (it skips that view anyway):
    /// then only the patterns judge it.
    #[serde(default)]
    gates: Option<Vec<Value>>,
}

/// Python's logging levels, which the host logs a reason at.
const INFO: u8 = 20;
const WARNING: u8 = 30;

impl Selection {
    /// One entry per candidate, in order: `null` to describe and serve it, or
    /// `{"reason", "level"}` for why it is left out.
    pub fn answer(&self) -> Value {
        let include = self.include.as_ref().map(|patterns| compiled(patterns));
        let exclude = compiled(&self.exclude);
        let verdicts = self.candidates.iter().map(|candidate| {
            let labels: Vec<Vec<char>> = [candidate.name.as_deref().unwrap_or(""), &candidate.route, &candidate.dotted]
                .into_iter()
                .filter(|label| !label.is_empty())
                .map(|label| label.chars().collect())
                .collect();
            let (reason, level) = if include.as_ref().is_some_and(|include| first_match(&labels, include).is_none()) {
                ("no DJANGO_MCP_VIEW_INCLUDE pattern matches it".to_string(), INFO)
            } else if let Some(pattern) = first_match(&labels, &exclude) {
                (format!("DJANGO_MCP_VIEW_EXCLUDE pattern {} matches it", python_repr(pattern)), INFO)
            } else if self.require_auth && candidate.gates.as_ref().is_some_and(|gates| !gates.iter().any(guards)) {
                let why = "no authorization gate was recognised on it (DJANGO_MCP_REQUIRE_AUTH = False serves such views too)";
                (why.to_string(), WARNING)
            } else {
                return Value::Null;
            };
            json!({"reason": reason, "level": level})
        });
        Value::Array(verdicts.collect())
    }
}

/// A gate that keeps some caller out: any but `login_not_required`'s `public`.
fn guards(gate: &Value) -> bool {
    gate.get("kind").and_then(Value::as_str) != Some("public")
}

fn compiled(patterns: &[String]) -> Vec<(&str, Vec<Token>)> {
    patterns.iter().map(|pattern| (pattern.as_str(), tokens(pattern))).collect()
}

/// The first pattern (in the setting's order) that matches any of the labels.
fn first_match<'a>(labels: &[Vec<char>], patterns: &[(&'a str, Vec<Token>)]) -> Option<&'a str> {
    patterns.iter().find(|(_, tokens)| labels.iter().any(|label| matches(tokens, label))).map(|(pattern, _)| *pattern)
}

/// One piece of an `fnmatch` pattern.
#[derive(Debug, PartialEq)]
enum Token {
    Char(char),
    /// `?`: any one character, a newline too.
    Any,
    /// `*`: any run of characters (runs of `*` are one).
    Star,
    /// `[…]`: a character in (or with `negated`, not in) the ranges.
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn admits(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::Any => true,
            Token::Star => false,
            Token::Set { negated, ranges } => ranges.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated,
        }
    }
}

/// A pattern as Python's `fnmatch.fnmatchcase` reads it (`fnmatch.translate`): case-sensitive,
/// `*` and `?` cross `/` and newlines, `[!…]` negates, a `[` never closed is itself, and a
/// range written backwards is dropped with its two ends.
fn tokens(pattern: &str) -> Vec<Token> {
    let pat: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < pat.len() {
        let c = pat[i];
        i += 1;
        match c {
            '*' if tokens.last() == Some(&Token::Star) => {}
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            '[' => {
                let mut j = i;
                if pat.get(j) == Some(&'!') {
                    j += 1;
                }
                if pat.get(j) == Some(&']') {
                    j += 1;
                }
                while j < pat.len() && pat[j] != ']' {
                    j += 1;
                }
                if j >= pat.len() {
                    tokens.push(Token::Char('['));
                } else {
                    tokens.push(set(&pat[i..j]));
                    i = j + 1;
                }
            }
            c => tokens.push(Token::Char(c)),
        }
    }
    tokens
}

/// The inside of `[…]`, split at its range hyphens as `fnmatch.translate` splits it: a chunk's
/// last character and the next one's first are a range's ends.
fn set(stuff: &[char]) -> Token {
    let mut chunks: Vec<Vec<char>> = Vec::new();
    if !stuff.contains(&'-') {
        chunks.push(stuff.to_vec());
    } else {
        let (mut start, mut k) = (0, if stuff[0] == '!' { 2 } else { 1 });
        while let Some(hyphen) = stuff.get(k..).and_then(|rest| rest.iter().position(|&c| c == '-')) {
            chunks.push(stuff[start..k + hyphen].to_vec());
            start = k + hyphen + 1;
            k += hyphen + 3;
        }
        match &stuff[start..] {
            [] => chunks.last_mut().expect("a hyphen was found").push('-'),
            last => chunks.push(last.to_vec()),
        }
        for k in (1..chunks.len()).rev() {
            if chunks[k - 1].last() > chunks[k].first() {
                let next = chunks.remove(k);
                chunks[k - 1].pop();
                chunks[k - 1].extend(&next[1..]);
            }
        }
    }
    let negated = chunks[0].first() == Some(&'!');
    if negated {
        chunks[0].remove(0);
    }
    let mut ranges = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let mut chars: &[char] = chunk;
        if index > 0 {
            ranges.push((*chunks[index - 1].last().expect("chunks joined by a range have ends"), chunk[0]));
            chars = &chars[1..];
        }
        let own = if index + 1 < chunks.len() { &chars[..chars.len().saturating_sub(1)] } else { chars };
        ranges.extend(own.iter().map(|&c| (c, c)));
    }
    Token::Set { negated, ranges }
}

/// Whether `tokens` match the whole of `text`: each token but `*` takes one character; on a
/// mismatch the last `*` takes one more.
fn matches(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < text.len() {
        match tokens.get(t) {
            Some(Token::Star) => {
                star = Some((t, s));
                t += 1;
                continue;
            }
            Some(token) if token.admits(text[s]) => {
                t += 1;
                s += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((star_at, taken_from)) => {
                (t, s) = (star_at + 1, taken_from + 1);
                star = Some((star_at, taken_from + 1));
            }
            None => return false,
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Star)
}

/// Non-ASCII characters Python's `str.isprintable` refuses (Unicode 14's other and separator
/// categories; unassigned code points, which its own Unicode version decides, are shown).
const UNPRINTABLE: [(u32, u32); 27] = [
    (0x80, 0xA0),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x3000, 0x3000),
    (0xD800, 0xF8FF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
];

/// `repr(text)` as Python writes a string: the host's log lines quote with it.
fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in text.chars() {
        let code = u32::from(c);
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => out.extend(['\\', c]),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{code:02x}")),
            c if !c.is_ascii() && UNPRINTABLE.iter().any(|(low, high)| (*low..=*high).contains(&code)) => {
                out.push_str(&match code {
                    0..=0xFF => format!("\\x{code:02x}"),
                    0x100..=0xFFFF => format!("\\u{code:04x}"),
                    _ => format!("\\U{code:08x}"),
                })
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, label, `fnmatch.fnmatchcase(label, pattern)`) as CPython 3.11 answers.
    const FNMATCHCASE: &[(&str, &str, bool)] = &[
        ("library:book-*", "library:book-list", true),
        ("library:book-*", "library:books", false),
        ("library:book-*", "library:book-", true),
        ("library/books/*", "library/books/", true),
        ("library/books/*", "library/books/<int:pk>/", true),
        ("library/books/*", "library/book", false),
        ("*", "", true),
        ("*", "x", true),
        ("*", "a\nb", true),
        ("**a", "a", true),
        ("**a", "ba", true),
        ("**a", "b", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "acb", false),
        ("a*b*c", "abcc", true),
        ("a*b*c", "abcb", false),
        ("?", "", false),
        ("?", "a", true),
        ("?", "ab", false),
        ("?", "\n", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a?c", "a\nc", true),
        ("[abc]", "a", true),
        ("[abc]", "d", false),
        ("[abc]", "ab", false),
        ("[!abc]", "a", false),
        ("[!abc]", "d", true),
        ("[!abc]", "\n", true),
        ("[a-c]x", "bx", true),
        ("[a-c]x", "dx", false),
        ("[a-c]x", "-x", false),
        ("[z-a]", "z", false),
        ("[z-a]", "a", false),
        ("[z-a]", "m", false),
        ("[z-a]", "-", false),
        ("[!z-a]", "z", true),
        ("[!z-a]", "a", true),
        ("[!z-a]", "-", true),
        ("[!z-a]", "q", true),
        ("[az-ab]", "a", true),
        ("[az-ab]", "b", true),
        ("[az-ab]", "z", false),
        ("[az-ab]", "m", false),
        ("[az-ab]", "-", false),
        ("[a-zz-a]", "a", true),
        ("[a-zz-a]", "z", true),
        ("[a-zz-a]", "m", true),
        ("[a-zz-a]", "-", false),
        ("[a-]", "a", true),
        ("[a-]", "-", true),
        ("[a-]", "b", false),
        ("[-a]", "a", true),
        ("[-a]", "-", true),
        ("[-a]", "b", false),
        ("[!-a]", "a", false),
        ("[!-a]", "-", false),
        ("[!-a]", "b", true),
        ("[a--]", "a", false),
        ("[a--]", "-", false),
        ("[a--]", ",", false),
        ("[--a]", "-", true),
        ("[--a]", "0", true),
        ("[--a]", "a", true),
        ("[--a]", "b", false),
        ("[a-c-e]", "b", true),
        ("[a-c-e]", "d", false),
        ("[a-c-e]", "-", true),
        ("[a-c-e]", "e", true),
        ("[]]", "]", true),
        ("[]]", "a", false),
        ("[]a]", "]", true),
        ("[]a]", "a", true),
        ("[]a]", "b", false),
        ("[!]]", "]", false),
        ("[!]]", "a", true),
        ("[!]a]", "]", false),
        ("[!]a]", "a", false),
        ("[!]a]", "b", true),
        ("[]", "[]", true),
        ("[]", "]", false),
        ("[]", "", false),
        ("[!]", "[!]", true),
        ("[!]", "!", false),
        ("[", "[", true),
        ("[", "a", false),
        ("a[", "a[", true),
        ("a[", "a", false),
        ("[a", "[a", true),
        ("[a", "a", false),
        ("[!", "[!", true),
        ("[!", "!", false),
        ("[*", "[", true),
        ("[*", "[abc", true),
        ("[*", "abc", false),
        ("[a*]", "a", true),
        ("[a*]", "*", true),
        ("[a*]", "[a*]", false),
        ("[\\]", "\\", true),
        ("[\\]", "]", false),
        ("[\\-a]", "\\", true),
        ("[\\-a]", "-", false),
        ("[\\-a]", "a", true),
        ("[\\-a]", "]", true),
        ("[\\-a]", "^", true),
        ("[^a]", "^", true),
        ("[^a]", "a", true),
        ("[^a]", "b", false),
        ("[[]", "[", true),
        ("[[]", "]", false),
        ("[[:alpha:]]", "a]", true),
        ("[[:alpha:]]", ":]", true),
        ("[[:alpha:]]", "[]", true),
        ("[[:alpha:]]", "l]", true),
        ("[[:alpha:]]", "b]", false),
        ("[a&&b]", "a", true),
        ("[a&&b]", "&", true),
        ("[a&&b]", "b", true),
        ("[a&&b]", "c", false),
        ("[a~~b]", "~", true),
        ("[a~~b]", "c", false),
        ("[a||b]", "|", true),
        ("[a||b]", "c", false),
        ("[!!]", "!", false),
        ("[!!]", "a", true),
        ("[!a-c]", "b", false),
        ("[!a-c]", "d", true),
        ("\\*", "\\x", true),
        ("\\*", "*", false),
        ("\\*", "\\*", true),
        ("a.b", "a.b", true),
        ("a.b", "axb", false),
        ("(?P<pk>\\d+)", "(?P<pk>\\d+)", true),
        ("(?P<pk>\\d+)", "12", false),
        ("^legacy/$", "^legacy/$", true),
        ("Library:*", "library:x", false),
        ("é*", "été", true),
        ("é*", "ete", false),
        ("[é-ü]", "ö", true),
        ("[é-ü]", "e", false),
        ("*edit*", "library:book-edit", true),
        ("*edit*", "edit", true),
        ("*edit*", "library/books/", false),
        ("a*", "a", true),
        ("a*", "ab\nc", true),
        ("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ("*a*a*a*a*b", "aaaab", true),
        ("[0-9][0-9]", "12", true),
        ("[0-9][0-9]", "1a", false),
        ("[!0-9-]", "-", false),
        ("[!0-9-]", "5", false),
        ("[!0-9-]", "x", true),
        ("[a-b-]", "-", true),
        ("[a-b-]", "a", true),
        ("[a-b-]", "c", false),
        ("[b-a-]", "-", true),
        ("[b-a-]", "a", false),
        ("[b-a-]", "b", false),
        ("[-]", "-", true),
        ("[-]", "a", false),
        ("[!-]", "-", false),
        ("[!-]", "a", true),
    ];

    #[test]
    fn patterns_match_as_python_fnmatchcase() {
        for (pattern, label, expected) in FNMATCHCASE {
            let label: Vec<char> = label.chars().collect();
            assert_eq!(matches(&tokens(pattern), &label), *expected, "{pattern:?} against {label:?}");
        }
    }

    /// (text, `repr(text)`) as CPython 3.11 writes them.
    const REPR: &[(&str, &str)] = &[
        ("library:stats", "'library:stats'"),
        ("it's", "\"it's\""),
        ("say \"hi\"", "'say \"hi\"'"),
        ("it's \"x\"", "'it\\'s \"x\"'"),
        ("a\\b", "'a\\\\b'"),
        ("tab\u{9}here", "'tab\\there'"),
        ("nl\nx\u{d}", "'nl\\nx\\r'"),
        ("\u{0}\u{1f}\u{7f}", "'\\x00\\x1f\\x7f'"),
        ("café", "'café'"),
        ("\u{a0}nbsp", "'\\xa0nbsp'"),
        ("\u{200b}zw", "'\\u200bzw'"),
        ("\u{2028}ls", "'\\u2028ls'"),
        ("😀", "'😀'"),
        ("\u{e000}pua", "'\\ue000pua'"),
        ("\u{f0000}", "'\\U000f0000'"),
        ("\u{ad}", "'\\xad'"),
        ("api:tag-*", "'api:tag-*'"),
    ];

    #[test]
    fn quotes_as_python_repr() {
        for (text, expected) in REPR {
            assert_eq!(python_repr(text), *expected, "{text:?}");
        }
    }

    fn answer(selection: Value) -> Value {
        serde_json::from_value::<Selection>(selection).unwrap().answer()
    }

    fn view(name: Option<&str>, route: &str, dotted: &str, gates: Value) -> Value {
        json!({"name": name, "route": route, "dotted": dotted, "gates": gates})
    }

    #[test]
    fn include_then_exclude_then_require_auth() {
        let candidates = json!([
            view(Some("library:book-list"), "library/books/", "library.views.BookList", json!([{"kind": "login"}])),
            view(Some("library:book-edit"), "library/books/<int:pk>/edit/", "library.views.edit", json!([])),
            view(None, "legacy/", "legacy.views.old", json!([{"kind": "login"}])),
            view(Some("library:about"), "library/about/", "library.views.about", json!([{"kind": "public"}])),
            view(Some("library:stats"), "library/stats/", "library.views.stats", json!([{"kind": "staff"}])),
            {"name": "api:book-list", "route": "api/books/", "dotted": "library.api.BookViewSet"},
            view(Some("library:broken"), "library/broken/", "library.views.broken", Value::Null),
        ]);
        let verdicts = answer(json!({
            "include": ["library*"], "exclude": ["*edit*", "library:s?ats"], "require_auth": true,
            "candidates": candidates,
        }));
        let include = json!({"reason": "no DJANGO_MCP_VIEW_INCLUDE pattern matches it", "level": 20});
        let ungated =
            "no authorization gate was recognised on it (DJANGO_MCP_REQUIRE_AUTH = False serves such views too)";
        assert_eq!(
            verdicts,
            json!([
                null,
                {"reason": "DJANGO_MCP_VIEW_EXCLUDE pattern '*edit*' matches it", "level": 20},
                include,
                {"reason": ungated, "level": 30},
                {"reason": "DJANGO_MCP_VIEW_EXCLUDE pattern 'library:s?ats' matches it", "level": 20},
                null, // DRF: its permission classes decide; `library.api…` is included by its dotted path
                null, // gates unread: the patterns alone judge it
            ])
        );
        let everything =
            answer(json!({"include": null, "exclude": [], "require_auth": false, "candidates": candidates}));
        assert_eq!(everything, json!([null, null, null, null, null, null, null]));
    }

    #[test]
    fn the_first_exclude_pattern_in_order_is_named_and_an_empty_route_is_no_label() {
        let candidates = json!([view(None, "", "home.views.index", json!([{"kind": "login"}]))]);
        let verdicts = answer(json!({"exclude": ["", "home.*", "*"], "candidates": candidates}));
        assert_eq!(verdicts[0]["reason"], "DJANGO_MCP_VIEW_EXCLUDE pattern 'home.*' matches it");
        assert_eq!(answer(json!({"include": [], "candidates": candidates}))[0]["level"], 20);
    }
}
