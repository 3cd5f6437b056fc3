//! `tools/list`, `prompts/list` and `resources/templates/list`: pages of the items a caller
//! may use, asking the host only about the gates of the items a page walks.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::host_error;
use super::gated::permissions;
use super::paging::{encode_cursor, page_offset};
use super::prompts::describe_prompt;
use super::resources::describe_resource;
use super::toolset::Item;
use super::{Exchange, Output, Pending, Principal, Work};
use crate::derive::{Catalogue, Readiness};

/// Which of the catalogue's gated lists a page is of.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Listed {
    Tools,
    Prompts,
    Templates,
}

impl Listed {
    pub(crate) fn of_method(method: &str) -> Option<Listed> {
        [Listed::Tools, Listed::Prompts, Listed::Templates].into_iter().find(|listed| listed.method() == method)
    }

    fn method(self) -> &'static str {
        match self {
            Listed::Tools => "tools/list",
            Listed::Prompts => "prompts/list",
            Listed::Templates => "resources/templates/list",
        }
    }

    fn len(self, cat: &Catalogue) -> usize {
        match self {
            Listed::Tools => cat.tools.len(),
            Listed::Prompts => cat.prompts.len(),
            Listed::Templates => cat.resource_templates.len(),
        }
    }

    /// Whether the key and the endpoint let the caller reach item `i` (protocol/toolset.rs).
    fn key_allows(self, cat: &Catalogue, principal: &Principal, i: usize) -> bool {
        let item = match self {
            Listed::Tools => Item::tool(cat, &cat.tools[i]),
            Listed::Prompts => Item::prompt(cat, &cat.prompts[i]),
            Listed::Templates => Item::resource(cat, &cat.resource_templates[i]),
        };
        principal.may_use(cat, &item)
    }

    /// The item's gate's place in `Catalogue::gate_checks`.
    fn gate(self, cat: &Catalogue, i: usize) -> usize {
        match self {
            Listed::Tools => cat.tools[i].gate_index,
            Listed::Prompts => cat.prompt_gates[i],
            Listed::Templates => cat.template_gates[i],
        }
    }

    /// The item's entry in a page, as JSON text.
    fn entry(self, cat: &Catalogue, i: usize) -> Cow<'_, str> {
        match self {
            Listed::Tools => Cow::Borrowed(&cat.tools[i].descriptor),
            Listed::Prompts => Cow::Owned(describe_prompt(&cat.prompts[i]).to_string()),
            Listed::Templates => Cow::Owned(describe_resource(&cat.resource_templates[i], "uriTemplate").to_string()),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Listed::Tools => "tools",
            Listed::Prompts => "prompts",
            Listed::Templates => "resourceTemplates",
        }
    }
}

/// A page being filled: the items shown so far (places in their list) and where the
/// window of items whose gates the host is asked about in this round starts.
#[derive(Serialize, Deserialize)]
pub(crate) struct ListPage {
    listed: Listed,
    from: usize,
    round: u8,
    shown: Vec<usize>,
}

pub(crate) fn begin(
    cat: &Catalogue,
    ex: Exchange,
    params: &Map<String, Value>,
    principal: Principal,
    listed: Listed,
) -> Output {
    match page_offset(&ex, params) {
        Ok(from) => list_round(cat, ex, principal, ListPage { listed, from, round: 0, shown: Vec::new() }),
        Err(e) => e,
    }
}

/// The places one round of a page asks the gates of: a page's worth of the key's items and
/// one more (the next page's first, so that a cursor is only given when an item follows),
/// then four pages' worth, then the rest. A caller who may use most items pays the gates of
/// about one page, however long the list; one who may use few still has their page within
/// three rounds.
fn window(cat: &Catalogue, principal: &Principal, list: &ListPage) -> Range<usize> {
    let page = cat.settings.page_size.max(1);
    let wanted = match list.round {
        0 => page.saturating_add(1),
        1 => page.saturating_mul(4),
        _ => usize::MAX,
    };
    let len = list.listed.len(cat);
    let start = list.from.min(len);
    let mut end = start;
    let mut usable = 0;
    while end < len && usable < wanted {
        usable += usize::from(list.listed.key_allows(cat, principal, end));
        end += 1;
    }
    start..end
}

/// The distinct gates of the window's items the key allows, in the order they first occur:
/// the order of the permissions effect and of its answers.
fn window_gates(cat: &Catalogue, principal: &Principal, listed: Listed, window: Range<usize>) -> Vec<usize> {
    let mut seen = HashSet::new();
    window
        .filter(|&i| listed.key_allows(cat, principal, i))
        .map(|i| listed.gate(cat, i))
        .filter(|&g| seen.insert(g))
        .collect()
}

/// Ask for the gates of the next window, or, when no item is left to ask about, answer with
/// the page as it stands (the list's last).
fn list_round(cat: &Catalogue, ex: Exchange, principal: Principal, list: ListPage) -> Output {
    let gates = window_gates(cat, &principal, list.listed, window(cat, &principal, &list));
    if gates.is_empty() {
        return page(cat, &ex, &list, None);
    }
    let state = Pending { exchange: ex, principal, work: Work::List(list) };
    Output::Effects { effects: vec![permissions(cat, gates)], state, notify: None }
}

/// The window's answers: its visible items fill the page; the first visible item past a
/// full page is where the next page starts. Short of either, the walk goes on to the next
/// window; at the list's end the page is the last.
pub(crate) fn answered(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    mut list: ListPage,
    answer: &Value,
) -> Output {
    let Some(answers) = answer.get("ok").and_then(Value::as_array) else {
        return host_error(&ex, answer);
    };
    let listed = list.listed;
    let window = window(cat, &principal, &list);
    let mut passes = vec![false; cat.gate_checks.len()];
    for (gate, passed) in window_gates(cat, &principal, listed, window.clone()).into_iter().zip(answers) {
        passes[gate] = passed.as_bool() == Some(true);
    }
    let size = cat.settings.page_size.max(1);
    // The state came back through the host: never more than a page, never past the list.
    let len = listed.len(cat);
    list.shown.retain(|&i| i < len);
    list.shown.truncate(size);
    for i in window.clone() {
        // A tool whose form could not be built is shown to nobody. (Not in `key_allows`: the
        // window, and so the gates this round asked, must not change once forms came.)
        let unavailable = listed == Listed::Tools && cat.tools[i].readiness == Readiness::Unavailable;
        if unavailable || !(passes[listed.gate(cat, i)] && listed.key_allows(cat, &principal, i)) {
            continue;
        }
        if list.shown.len() == size {
            return page(cat, &ex, &list, Some(i));
        }
        list.shown.push(i);
    }
    list.from = window.end;
    list.round = list.round.saturating_add(1);
    list_round(cat, ex, principal, list)
}

/// The page's reply, once the forms of the tools it shows (and of the next page's first) are in.
fn page(cat: &Catalogue, ex: &Exchange, list: &ListPage, next: Option<usize>) -> Output {
    if list.listed == Listed::Tools {
        let waited = cat.waited_for(list.shown.iter().copied().chain(next));
        if !waited.is_empty() {
            return Output::NeedForms(waited);
        }
    }
    Output::reply_text(cat, ex, &page_text(cat, list, next))
}

/// `{"nextCursor"?, "<key>": […]}` as text (keys in the order serde_json sorts them). A
/// tools page is the descriptors rendered at load joined: it costs its length in bytes
/// copied, whatever the tools' schemas hold.
fn page_text(cat: &Catalogue, list: &ListPage, next: Option<usize>) -> String {
    let entries: Vec<Cow<'_, str>> = list.shown.iter().map(|&i| list.listed.entry(cat, i)).collect();
    let mut text = String::with_capacity(entries.iter().map(|e| e.len() + 1).sum::<usize>() + 48);
    text.push('{');
    if let Some(next) = next {
        text.push_str(&format!("\"nextCursor\":{},", Value::String(encode_cursor(next))));
    }
    text.push_str(&format!("\"{}\":[", list.listed.key()));
    text.push_str(&entries.join(","));
    text.push_str("]}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::testing::reply_to;
    use serde_json::json;

    fn library(page_size: usize) -> Catalogue {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts["settings"]["page_size"] = json!(page_size);
        facts["settings"]["discovery"] = json!("off"); // the pages of the catalogue itself
        Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0
    }

    fn principal(allowed: &[&str]) -> Principal {
        Principal {
            user_id: json!(1),
            allowed_tools: allowed.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }
    }

    /// An item's name in a page: a tool's or prompt's name, a template's URI.
    fn name_of(listed: Listed, entry: &Value) -> String {
        let key = if listed == Listed::Templates { "uriTemplate" } else { "name" };
        entry[key].as_str().unwrap().to_string()
    }

    /// Every page of `listed` (the items' names) for a caller whose gates pass by `passes`
    /// and whose key allows `allowed`, with each round's number of checks.
    fn walk(
        cat: &Catalogue,
        listed: Listed,
        allowed: &[&str],
        passes: impl Fn(&Value) -> bool,
    ) -> (Vec<Vec<String>>, Vec<usize>) {
        let context = json!({"principal": {"user_id": 1, "allowed_tools": allowed}});
        let (mut pages, mut rounds, mut cursor) = (Vec::new(), Vec::new(), Value::Null);
        loop {
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": listed.method(), "params": {"cursor": cursor}});
            let reply = reply_to(cat, message, &context, |effect| {
                let checks = effect["checks"].as_array().unwrap();
                rounds.push(checks.len());
                json!(checks.iter().map(&passes).collect::<Vec<bool>>())
            });
            let items = reply["result"][listed.key()].as_array().unwrap();
            assert!(items.len() <= cat.settings.page_size, "{reply}");
            pages.push(items.iter().map(|e| name_of(listed, e)).collect());
            cursor = reply["result"].get("nextCursor").cloned().unwrap_or(Value::Null);
            if cursor.is_null() {
                return (pages, rounds);
            }
            assert!(!items.is_empty(), "only the last page may be empty: {reply}");
        }
    }

    /// The names of the items a caller sees, in order, found the slow way: every item's own gate.
    fn expected(cat: &Catalogue, listed: Listed, allowed: &[&str], passes: impl Fn(&Value) -> bool) -> Vec<String> {
        let principal = principal(allowed);
        (0..listed.len(cat))
            .filter(|&i| listed.key_allows(cat, &principal, i))
            .filter(|&i| {
                let gate = match listed {
                    Listed::Tools => &cat.tools[i].spec.gate,
                    Listed::Prompts => &cat.prompts[i].gate,
                    Listed::Templates => &cat.resource_templates[i].gate,
                };
                passes(&gate.to_json())
            })
            .map(|i| name_of(listed, &serde_json::from_str(&listed.entry(cat, i)).unwrap()))
            .collect()
    }

    #[test]
    fn pages_show_every_visible_item_once_asking_only_a_window_of_gates() {
        let cat = library(3);
        let no_deletes = |check: &Value| check["gate"] != "admin.delete";
        let no_books = |check: &Value| check["admin"] != "admin/library.book";
        for listed in [Listed::Tools, Listed::Prompts, Listed::Templates] {
            assert!(listed.len(&cat) > 3, "{listed:?}: the library lists more than a page");
            let (pages, _) = walk(&cat, listed, &[], no_deletes);
            assert_eq!(pages.concat(), expected(&cat, listed, &[], no_deletes), "{listed:?}");
            let (pages, _) = walk(&cat, listed, &[], no_books);
            let shown = expected(&cat, listed, &[], no_books);
            assert!(!shown.is_empty() && shown.len() < listed.len(&cat), "{listed:?}: some are books, some not");
            assert_eq!(pages.concat(), shown, "{listed:?}");
            // Who may use every item is asked, per page, about that page's gates only.
            let (everything, rounds) = walk(&cat, listed, &[], |_| true);
            assert_eq!(everything.concat().len(), listed.len(&cat), "{listed:?}");
            assert_eq!(rounds.len(), listed.len(&cat).div_ceil(3), "{listed:?}");
            assert!(rounds.iter().all(|&checks| checks <= 4), "{listed:?}: {rounds:?}");
        }
    }

    #[test]
    fn a_caller_who_sees_few_items_still_gets_them_within_three_rounds_a_page() {
        let cat = library(3);
        let only_views = |check: &Value| check["gate"] == "admin.view";
        for listed in [Listed::Tools, Listed::Prompts, Listed::Templates] {
            let (pages, _) = walk(&cat, listed, &[], only_views);
            assert_eq!(pages.concat(), expected(&cat, listed, &[], only_views), "{listed:?}");
        }
        let allowed = ["list_auth_user", "get_library_book"];
        let (listed, rounds) = walk(&cat, Listed::Tools, &allowed, |_| true);
        assert_eq!(listed, vec![allowed.to_vec()]);
        assert!(rounds.iter().all(|&checks| checks <= 2), "{rounds:?}");
    }

    #[test]
    fn a_full_page_has_a_cursor_only_when_a_visible_item_follows() {
        let cat = library(3);
        let allowed = ["list_auth_group", "get_auth_group", "list_auth_user", "list_library_book"];
        let (pages, _) = walk(&cat, Listed::Tools, &allowed, |check| check["admin"] != "admin/library.book");
        assert_eq!(pages, vec![allowed[..3].to_vec()]);
        let (pages, _) = walk(&cat, Listed::Tools, &allowed, |_| true);
        assert_eq!(pages, vec![allowed[..3].to_vec(), allowed[3..].to_vec()]);
    }

    #[test]
    fn a_key_allowlist_names_prompts_and_template_uris() {
        let cat = library(3);
        for listed in [Listed::Prompts, Listed::Templates] {
            let everything = expected(&cat, listed, &[], |_| true);
            let allowed: Vec<&str> =
                [everything.first(), everything.last()].into_iter().flatten().map(String::as_str).collect();
            let (pages, _) = walk(&cat, listed, &allowed, |_| true);
            assert_eq!(pages.concat(), allowed, "{listed:?}");
        }
    }
}
