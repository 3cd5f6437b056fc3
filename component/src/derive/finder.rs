//! The discovery index: every tool as a bag of words (its name, title, description, model's
//! names and app label, field names and help texts), ranked against a request in everyday
//! words with BM25. Built at load when discovery is on; `find_tools` reads it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value;

use super::{Catalogue, Operation};

/// BM25's usual constants: term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// How many times a word counts where it names the tool (name, title, model) rather than
/// describing it (description, fields).
const NAMING_WEIGHT: u16 = 3;
/// The longest one-line description `find_tools` answers with.
const SUMMARY_CHARS: usize = 160;

/// What `find_tools` tells about a tool besides its name and title.
pub struct Found {
    pub summary: String,
    pub verb: &'static str,
    /// The model's place in `Catalogue::models` (admin and search tools).
    pub model: Option<usize>,
}

/// FNV-1a: an index hashes short words by the hundred thousand, and they are the project's
/// own (a client's query is only looked up), so SipHash's resistance to chosen keys buys
/// nothing here.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type ByWord<V> = HashMap<String, V, BuildHasherDefault<Fnv>>;

/// One BM25 index: per term, the documents it occurs in with its weighted count there.
#[derive(Default)]
struct Postings {
    lengths: Vec<u32>,
    average_length: f32,
    by_term: Vec<Vec<(u32, u16)>>,
}

impl Postings {
    /// Adds document `counts` (terms with weights, any order, repeats summed) as the next.
    fn add(&mut self, counts: &mut [(u32, u16)], terms: usize) {
        if self.by_term.len() < terms {
            self.by_term.resize_with(terms, Vec::new);
        }
        let document = self.lengths.len() as u32;
        counts.sort_unstable_by_key(|&(term, _)| term);
        let mut length = 0;
        for same in counts.chunk_by(|a, b| a.0 == b.0) {
            let count = same.iter().fold(0u16, |sum, &(_, weight)| sum.saturating_add(weight));
            self.by_term[same[0].0 as usize].push((document, count));
            length += u32::from(count);
        }
        self.lengths.push(length);
    }

    fn finish(&mut self) {
        let total: u64 = self.lengths.iter().map(|&l| u64::from(l)).sum();
        self.average_length = total as f32 / self.lengths.len().max(1) as f32;
    }

    /// Each document's BM25 score for the weighted query terms.
    fn scores(&self, terms: &[(u32, f32)]) -> Vec<f32> {
        let count = self.lengths.len() as f32;
        let mut scores = vec![0f32; self.lengths.len()];
        for &(term, weight) in terms {
            let Some(posting) = self.by_term.get(term as usize) else { continue };
            let df = posting.len() as f32;
            let idf = ((count - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(document, tf) in posting {
                let tf = f32::from(tf);
                let norm = K1 * (1.0 - B + B * self.lengths[document as usize] as f32 / self.average_length);
                scores[document as usize] += weight * idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        scores
    }
}

/// The index: a tool's own words (name, title, description, verb, its model's names), and,
/// apart, each model's field names, verbose names and help texts, which count for every tool
/// of the model (kept once per model, not once per tool).
#[derive(Default)]
pub struct Finder {
    /// Per tool (catalogue order).
    pub found: Vec<Found>,
    terms: ByWord<u32>,
    /// Each word as read (lower case, before stemming) → its term, or none for a stop word.
    read: ByWord<Option<u32>>,
    tools: Postings,
    /// Documents are models, in the order `models` gives.
    fields: Postings,
    /// Each model's place in `fields`, by its place in `Catalogue::models`.
    field_documents: HashMap<usize, u32>,
}

/// Words that carry nothing about which tool is meant, sorted (looked up by binary search).
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "by", "called", "can", "do", "does", "each", "for",
    "from", "her", "his", "how", "i", "in", "into", "is", "it", "its", "my", "named", "now", "of", "on", "one", "or",
    "our", "please", "some", "still", "that", "the", "their", "there", "these", "this", "those", "to", "want", "we",
    "what", "which", "with", "you",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Everyday verbs and the tool verbs they ask for, first the likeliest.
const VERB_WORDS: &[(&str, &[&str])] = &[
    ("add", &["create"]),
    ("new", &["create"]),
    ("create", &["create"]),
    ("register", &["create"]),
    ("save", &["create"]),
    ("make", &["update", "create"]),
    ("edit", &["update"]),
    ("change", &["update"]),
    ("update", &["update"]),
    ("modify", &["update"]),
    ("rename", &["update"]),
    ("give", &["update"]),
    ("deactivate", &["update"]),
    ("fix", &["update"]),
    ("remove", &["delete"]),
    ("delete", &["delete"]),
    ("drop", &["delete"]),
    ("erase", &["delete"]),
    ("find", &["search", "list"]),
    ("search", &["search", "list"]),
    ("look", &["search", "list"]),
    ("list", &["list"]),
    ("browse", &["list"]),
    ("show", &["get", "list"]),
    ("see", &["get", "list"]),
    ("get", &["get"]),
    ("open", &["get"]),
    ("read", &["get"]),
    ("detail", &["get"]),
    ("details", &["get"]),
    ("view", &["get", "list"]),
    ("fetch", &["get"]),
];

/// Everyday words and the words tools are described with.
const SYNONYMS: &[(&str, &str)] = &[
    ("several", "selected"),
    ("multiple", "selected"),
    ("bulk", "selected"),
    ("statistics", "stat"),
    ("deactivate", "activ"),
    ("am", "me"),
];

/// A verb in the query weighs more than a noun: what is done to a model tells its tools
/// apart, the model's words are shared by all of them.
const VERB_WEIGHT: f32 = 1.5;

/// The words of `text`: lower-case runs of letters and digits, camelCase split, lightly
/// stemmed so `books`, `book`, `published` and `publish` meet.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(text, |word| words.push(stem(word)));
    words
}

/// The words of `text` as read, before stemming, each handed to `each`: none is allocated.
fn for_each_word(text: &str, mut each: impl FnMut(&str)) {
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
                each(&word);
                word.clear();
            }
            previous_lower = c.is_ascii_lowercase();
            word.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !word.is_empty() {
                each(&word);
                word.clear();
            }
            previous_lower = c.is_lowercase();
            word.extend(c.to_lowercase());
        } else {
            previous_lower = false;
            if !word.is_empty() {
                each(&word);
                word.clear();
            }
        }
    }
    if !word.is_empty() {
        each(&word);
    }
}

fn stem(word: &str) -> String {
    let n = word.len();
    let cut = |suffix: &str, keep: usize| n > suffix.len() + keep && word.ends_with(suffix);
    if cut("ation", 2) {
        word[..n - 3].to_string()
    } else if cut("ies", 1) {
        format!("{}y", &word[..n - 3])
    } else if ["sses", "ches", "shes", "xes"].iter().any(|suffix| cut(suffix, 1)) {
        word[..n - 2].to_string()
    } else if cut("ing", 2) {
        word[..n - 3].to_string()
    } else if cut("ed", 2) {
        word[..n - 2].trim_end_matches('e').to_string()
    } else if cut("s", 2) && !word.ends_with("ss") && !word.ends_with("us") {
        word[..n - 1].to_string()
    } else if n > 3 {
        word.trim_end_matches('e').to_string()
    } else {
        word.to_string()
    }
}

/// The term a tool's verb is indexed under (kept apart from the words it is described with:
/// no word has a colon).
fn verb_term(verb: &str) -> String {
    format!("verb:{verb}")
}

/// The property names and descriptions of a schema, one level into objects (a view's
/// `body`, a DRF `query`).
fn schema_words(schema: &Value, into: &mut String) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
    for (name, property) in properties {
        into.push(' ');
        into.push_str(name);
        for key in ["title", "description"] {
            if let Some(text) = property.get(key).and_then(Value::as_str) {
                into.push(' ');
                into.push_str(text);
            }
        }
        if let Some(nested) = property.get("properties") {
            schema_words(&Value::Object([("properties".to_string(), nested.clone())].into_iter().collect()), into);
        }
    }
}

/// The first sentence or line of a description, at most `SUMMARY_CHARS` characters.
fn summary(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default();
    let sentence = line.find(". ").map_or(line, |end| &line[..=end]);
    match sentence.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", &sentence[..cut]),
        None => sentence.to_string(),
    }
}

impl Finder {
    pub fn build(cat: &Catalogue) -> Finder {
        let mut finder = Finder::default();
        // A model's names are the same for each of its tools: read once per model.
        let mut model_naming: HashMap<usize, Vec<(u32, u16)>> = HashMap::new();
        let mut counts: Vec<(u32, u16)> = Vec::new();
        for tool in &cat.tools {
            counts.clear();
            let description = tool.description();
            let model = match &tool.spec.operation {
                Operation::Search(search) => cat.model_index.get(&search.model).copied(),
                operation => operation.admin().map(|admin| cat.admin_models[admin]),
            };
            let verb = tool.spec.operation.verb();
            finder.count(&tool.spec.name, NAMING_WEIGHT, &mut counts);
            finder.count(&tool.spec.title, NAMING_WEIGHT, &mut counts);
            finder.count(&description, 1, &mut counts);
            counts.push((finder.term(&verb_term(verb)), NAMING_WEIGHT));
            if let Some(m) = model {
                let naming = model_naming.entry(m).or_insert_with(|| {
                    let model = &cat.models[m];
                    let mut naming = Vec::new();
                    let text = format!(
                        "{} {} {} {}",
                        model.app_label, model.object_name, model.verbose_name, model.verbose_name_plural
                    );
                    finder.count(&text, NAMING_WEIGHT, &mut naming);
                    finder.index_fields(m, model);
                    naming
                });
                counts.extend_from_slice(naming);
            } else if let Ok(schema) = serde_json::from_str::<Value>(tool.input_schema()) {
                let mut text = String::new();
                schema_words(&schema, &mut text);
                finder.count(&text, 1, &mut counts);
            }
            finder.tools.add(&mut counts, finder.terms.len());
            finder.found.push(Found { summary: summary(&description), verb, model });
        }
        finder.tools.finish();
        finder.fields.finish();
        finder
    }

    /// The words of model `m`'s fields as its document in `fields`.
    fn index_fields(&mut self, m: usize, model: &crate::facts::ModelFacts) {
        let mut counts = Vec::new();
        for field in &model.fields {
            for part in [&field.name, &field.verbose_name, &field.help_text] {
                self.count(part, 1, &mut counts);
            }
        }
        self.field_documents.insert(m, self.fields.lengths.len() as u32);
        self.fields.add(&mut counts, self.terms.len());
    }

    /// The words of `text` but stop words, as terms with `weight`, into `counts`. A word is
    /// stemmed once, the first time it is read.
    fn count(&mut self, text: &str, weight: u16, counts: &mut Vec<(u32, u16)>) {
        for_each_word(text, |word| {
            let term = match self.read.get(word) {
                Some(&term) => term,
                None => {
                    let stemmed = stem(word);
                    let term = (!is_stop_word(&stemmed)).then(|| self.term(&stemmed));
                    self.read.insert(word.to_string(), term);
                    term
                }
            };
            if let Some(term) = term {
                counts.push((term, weight));
            }
        });
    }

    /// The term `word` is, added when new.
    fn term(&mut self, word: &str) -> u32 {
        if let Some(&term) = self.terms.get(word) {
            return term;
        }
        let term = self.terms.len() as u32;
        self.terms.insert(word.to_string(), term);
        term
    }

    /// The query's terms with their weights: its words, and the tool verbs its everyday
    /// verbs ask for.
    fn query_terms(query: &str) -> Vec<(String, f32)> {
        let mut terms: Vec<(String, f32)> = Vec::new();
        let mut add = |term: String, weight: f32| match terms.iter_mut().find(|(t, _)| *t == term) {
            Some((_, w)) => *w = w.max(weight),
            None => terms.push((term, weight)),
        };
        let lower: Vec<String> =
            query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        // "add a tag to this book": adding something *to* an object changes that object.
        let adds_to = lower.iter().position(|w| w == "add").is_some_and(|at| lower[at..].iter().any(|w| w == "to"));
        // "all books": the whole list.
        if lower.iter().any(|w| w == "all") {
            add(verb_term("list"), 2.0 * VERB_WEIGHT);
        }
        for word in &lower {
            if let Some((_, synonym)) = SYNONYMS.iter().find(|(everyday, _)| everyday == word) {
                add(stem(synonym), 1.0);
            }
            if word.len() == 4
                && (word.starts_with("19") || word.starts_with("20"))
                && word.chars().all(|c| c.is_ascii_digit())
            {
                add("year".to_string(), 1.0);
            }
            // A verb asks for what tools do, not for the word: `edit` means update tools,
            // not a view whose route says edit.
            if let Some((_, verbs)) = VERB_WORDS.iter().find(|(everyday, _)| everyday == word) {
                let verbs: &[&str] = if adds_to && word == "add" { &["update", "create"] } else { verbs };
                for (rank, verb) in verbs.iter().enumerate() {
                    add(verb_term(verb), if rank == 0 { VERB_WEIGHT } else { VERB_WEIGHT / 3.0 });
                }
                continue;
            }
            for stemmed in words(word) {
                if !is_stop_word(&stemmed) {
                    add(stemmed, 1.0);
                }
            }
        }
        terms
    }

    /// The tools `query` matches, best first (ties in catalogue order), among those `keep`
    /// lets through; with `unmatched`, the rest of those follow in catalogue order (a
    /// narrowed search lists the whole of what it narrowed to).
    pub fn rank(&self, query: &str, unmatched: bool, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let terms: Vec<(u32, f32)> = Self::query_terms(query)
            .into_iter()
            .filter_map(|(term, weight)| self.terms.get(&term).map(|&t| (t, weight)))
            .collect();
        let mut scores = self.tools.scores(&terms);
        let field_scores = self.fields.scores(&terms);
        for (score, found) in scores.iter_mut().zip(&self.found) {
            if let Some(document) = found.model.and_then(|m| self.field_documents.get(&m)) {
                *score += field_scores[*document as usize];
            }
        }
        let mut ranked: Vec<(usize, f32)> =
            scores.iter().enumerate().filter(|&(t, &s)| s > 0.0 && keep(t)).map(|(t, &s)| (t, s)).collect();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut ranked: Vec<usize> = ranked.into_iter().map(|(t, _)| t).collect();
        if unmatched {
            ranked.extend((0..self.found.len()).filter(|&t| scores[t] == 0.0 && keep(t)));
        }
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Catalogue {
        let mut facts: crate::facts::Facts =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts.settings.discovery = crate::facts::Discovery::Auto;
        Catalogue::derive(facts).unwrap().0
    }

    #[test]
    fn stop_words_are_sorted_for_their_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn words_are_lower_case_split_and_lightly_stemmed() {
        assert_eq!(words("list_library_book"), ["list", "library", "book"]);
        assert_eq!(
            words("BookViewSet books published categories"),
            ["book", "view", "set", "book", "publish", "category"]
        );
        assert_eq!(words("boxes status"), ["box", "status"]);
    }

    #[test]
    fn everyday_verbs_ask_for_tool_verbs() {
        let terms = Finder::query_terms("Add a new book");
        assert!(terms.contains(&("verb:create".to_string(), VERB_WEIGHT)), "{terms:?}");
        assert!(terms.contains(&("book".to_string(), 1.0)) && !terms.iter().any(|(t, _)| t == "a"), "{terms:?}");
    }

    #[test]
    fn ranking_finds_the_tool_a_person_means() {
        let cat = library();
        let finder = cat.finder.as_ref().expect("built when discovery is on");
        let top = |query: &str| cat.tools[finder.rank(query, false, |_| true)[0]].spec.name.clone();
        assert!(["create_library_book", "create_api_book"].contains(&top("add a new book").as_str()));
        assert_eq!(top("remove an author"), "delete_library_author");
        assert_eq!(top("edit an author"), "update_library_author");
        let author = cat.models.iter().position(|m| m.label == "library.Author");
        let only_authors = finder.rank("edit a name", false, |t| finder.found[t].model == author);
        assert!(!only_authors.is_empty() && only_authors.iter().all(|&t| finder.found[t].model == author));
        assert_eq!(
            finder.rank("add a new book", false, |_| true),
            finder.rank("add a new book", false, |_| true),
            "deterministic"
        );
        assert!(finder.rank("zzzz qqqq", false, |_| true).is_empty());
    }

    #[test]
    fn summaries_are_one_short_sentence() {
        assert_eq!(summary("List books. Filters: status."), "List books.");
        assert_eq!(summary("One line\nsecond"), "One line");
        assert_eq!(summary(&"x".repeat(200)).chars().count(), SUMMARY_CHARS + 1);
    }
}
