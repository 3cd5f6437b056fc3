//! Toolsets: what a key's allowlist or an endpoint's toolset lets a caller see and use.
//!
//! An entry is an item's name (a tool's name or alias, a prompt's name, a resource's or
//! template's URI) or a pattern over apps, models and verbs:
//!
//! ```text
//! pattern := app "." verb | app "." model "." verb
//! app, model := "*" | [A-Za-z0-9_]+          (a model by its class name, any case)
//! verb := "*" | read | write | list | get | create | update | delete | action | search
//! ```
//!
//! An entry that is exactly an item's name is that name, never a pattern, so an allowlist
//! of names means what it always did. Items that belong to a model (admin and search tools,
//! model resource templates, admin action prompts, a DRF view with a queryset) have an app
//! and a model; a routed view has the app whose package holds it; the rest match a pattern
//! only through `*` there (`*.read`, `*.*.write`). A view's verb is `call`, a DRF handler's
//! its ViewSet verb (`list`, `get`, …, `action` for an `@action`).

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use crate::derive::resources::{PromptSpec, Reader, ResourceSpec, Source};
use crate::derive::{Catalogue, Operation, Tool};

/// The verbs a pattern may end with, besides `read`, `write` and `*`.
const OPERATION_VERBS: [&str; 7] = ["list", "get", "create", "update", "delete", "action", "search"];

/// One allowlist or toolset entry read as a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    app: String,
    model: String,
    verb: String,
}

impl Pattern {
    /// The pattern `entry` spells, or `None` when it is no pattern (then it is a name).
    pub fn parse(entry: &str) -> Option<Pattern> {
        let segment = |s: &str| s == "*" || (!s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let verb = |s: &str| s == "*" || s == "read" || s == "write" || OPERATION_VERBS.contains(&s);
        let parts: Vec<&str> = entry.split('.').collect();
        let (app, model, last) = match parts[..] {
            [app, last] => (app, "*", last),
            [app, model, last] => (app, model, last),
            _ => return None,
        };
        (segment(app) && segment(model) && verb(last)).then(|| Pattern {
            app: app.to_string(),
            model: model.to_ascii_lowercase(),
            verb: last.to_string(),
        })
    }

    fn matches(&self, item: &Item) -> bool {
        let model_name = item.model.and_then(|label| label.split_once('.')).map(|(_, name)| name);
        let app = self.app == "*" || item.app == Some(self.app.as_str());
        let model = self.model == "*" || model_name.is_some_and(|name| name.eq_ignore_ascii_case(&self.model));
        let place = app && model;
        let verb = match self.verb.as_str() {
            "*" => true,
            "read" => item.read_only,
            "write" => !item.read_only,
            verb => item.verb == Some(verb),
        };
        place && verb
    }
}

/// What an entry can say about a tool, prompt or resource.
pub struct Item<'a> {
    /// The names an entry may give it: a tool's name and alias, a prompt's name, a URI.
    names: Vec<&'a str>,
    /// The label of the app it belongs to.
    app: Option<&'a str>,
    /// The label (`app.Model`) of the model it belongs to.
    model: Option<&'a str>,
    verb: Option<&'static str>,
    read_only: bool,
}

impl<'a> Item<'a> {
    pub fn tool(cat: &'a Catalogue, tool: &'a Tool) -> Item<'a> {
        let operation = &tool.spec.operation;
        let (app, model) = match operation {
            Operation::ViewCall { app, .. } => (app.as_deref(), None),
            // A DRF view of a model belongs with it, as an admin does, wherever its module is.
            Operation::DrfCall(call) => (app_of(call.model.as_deref()).or(call.app.as_deref()), call.model.as_deref()),
            Operation::Search(search) => (app_of(Some(&search.model)), Some(search.model.as_str())),
            Operation::Custom { .. } => (None, None),
            _ => {
                let label = operation.admin().map(|admin| cat.admin_model(admin).label.as_str());
                (app_of(label), label)
            }
        };
        let names = vec![tool.spec.name.as_str(), tool.spec.alias.as_str()];
        Item { names, app, model, verb: Some(operation.verb()), read_only: tool.spec.hints.read_only }
    }

    /// A resource or template: a read, of its model's objects when it has one.
    pub fn resource(cat: &'a Catalogue, resource: &'a ResourceSpec) -> Item<'a> {
        let model = match &resource.reader {
            Reader::Object { source, .. } | Reader::File { source, .. } => Some(source_label(cat, source)),
            Reader::Custom { .. } => None,
        };
        Item { names: vec![&resource.uri], app: app_of(model), model, verb: Some("get"), read_only: true }
    }

    /// An admin action's prompt is that action's (a write); other prompts only render text.
    pub fn prompt(cat: &'a Catalogue, prompt: &'a PromptSpec) -> Item<'a> {
        let model = prompt.objects.as_ref().map(|source| source_label(cat, source));
        let mut names = vec![prompt.name.as_str()];
        names.extend(prompt.serves.iter().map(String::as_str));
        Item { names, app: app_of(model), model, verb: model.map(|_| "action"), read_only: model.is_none() }
    }
}

/// The app label of a model label (`library.Book`: `library`).
fn app_of(label: Option<&str>) -> Option<&str> {
    label.and_then(|label| label.split_once('.')).map(|(app, _)| app)
}

fn source_label<'a>(cat: &'a Catalogue, source: &'a Source) -> &'a str {
    match source {
        Source::Admin(id) => match cat.admin_ids.iter().position(|a| a == id) {
            Some(admin) => cat.admin_model(admin).label.as_str(),
            None => id,
        },
        Source::Model(label) => label,
    }
}

/// An allowlist or toolset and its read-only switch, as the host states them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scope {
    /// Names and patterns; empty means every item.
    #[serde(default)]
    pub toolset: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
}

/// A scope's entries split into names and patterns against one catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    names: Vec<String>,
    patterns: Vec<Pattern>,
    everything: bool,
    read_only: bool,
}

impl Compiled {
    pub(crate) fn of(cat: &Catalogue, entries: &[String], read_only: bool) -> Compiled {
        let (mut names, mut patterns) = (Vec::new(), Vec::new());
        for entry in entries {
            match Pattern::parse(entry) {
                Some(pattern) if !names_an_item(cat, entry) => patterns.push(pattern),
                _ => names.push(entry.clone()),
            }
        }
        Compiled { names, patterns, everything: entries.is_empty(), read_only }
    }

    /// Whether the scope's entries name or match `item`, and its switch lets it through.
    pub(crate) fn lets_through(&self, item: &Item) -> Result<(), Narrowed> {
        if self.read_only && !item.read_only {
            return Err(Narrowed::ReadOnly);
        }
        let listed = self.everything
            || item.names.iter().any(|n| self.names.iter().any(|a| a == n))
            || self.patterns.iter().any(|p| p.matches(item));
        if listed {
            Ok(())
        } else {
            Err(Narrowed::Unlisted)
        }
    }
}

/// Why a scope keeps an item out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Narrowed {
    Unlisted,
    ReadOnly,
}

/// Which scope narrowed: the credential's (a key's allowlist and read-only switch, an OAuth
/// token's scopes) or the endpoint's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NarrowedBy {
    Key,
    Endpoint,
}

/// Why an item is out of a caller's reach: said in words after `out_of_scope: `, and in the
/// error's `data` as `reason` and `by`, which clients and the host read (an OAuth token held
/// to reads asks for `mcp:write` on a `read_only` refusal `by` its `key`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    pub narrowed: Narrowed,
    pub by: NarrowedBy,
}

impl Refusal {
    pub(crate) fn words(self) -> &'static str {
        match (self.narrowed, self.by) {
            (Narrowed::Unlisted, NarrowedBy::Key) => "not in this key's allowlist",
            (Narrowed::ReadOnly, NarrowedBy::Key) => "not read-only, and this key is read-only",
            (Narrowed::Unlisted, NarrowedBy::Endpoint) => "not in this endpoint's toolset",
            (Narrowed::ReadOnly, NarrowedBy::Endpoint) => "not read-only, and this endpoint is read-only",
        }
    }

    /// `{"reason", "by"}` for the error's data.
    pub(crate) fn data(self) -> (&'static str, &'static str) {
        let reason = match self.narrowed {
            Narrowed::Unlisted => "unlisted",
            Narrowed::ReadOnly => "read_only",
        };
        let by = match self.by {
            NarrowedBy::Key => "key",
            NarrowedBy::Endpoint => "endpoint",
        };
        (reason, by)
    }
}

fn names_an_item(cat: &Catalogue, entry: &str) -> bool {
    cat.tool(entry).is_some()
        || cat.prompt(entry).is_some()
        || cat.resources.iter().chain(&cat.resource_templates).any(|r| r.uri == entry)
}

/// A principal's scopes compiled once per request (they are consulted per listed item).
pub(crate) type CompiledScopes = OnceCell<(Compiled, Option<Compiled>)>;

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::protocol::testing::reply_to;

    fn library() -> Catalogue {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts["settings"]["page_size"] = json!(1000);
        Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0
    }

    /// What `method` answers a caller whose gates all pass, in `principal`'s scopes.
    fn ask(cat: &Catalogue, principal: Value, method: &str, params: Value) -> Value {
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let context = json!({"principal": principal});
        reply_to(cat, message, &context, |effect| match effect["checks"].as_array() {
            Some(checks) => json!(vec![true; checks.len()]),
            None => json!({"content": []}),
        })
    }

    fn item(model: Option<&'static str>, verb: Option<&'static str>, read_only: bool) -> Item<'static> {
        Item { names: vec!["some_tool"], app: app_of(model), model, verb, read_only }
    }

    #[test]
    fn the_grammar_takes_two_or_three_segments_ending_in_a_verb() {
        let p = |app: &str, model: &str, verb: &str| {
            Some(Pattern { app: app.into(), model: model.into(), verb: verb.into() })
        };
        assert_eq!(Pattern::parse("library.*"), p("library", "*", "*"));
        assert_eq!(Pattern::parse("*.read"), p("*", "*", "read"));
        assert_eq!(Pattern::parse("library.Book.update"), p("library", "book", "update"));
        assert_eq!(Pattern::parse("*.Book.*"), p("*", "book", "*"));
        for name in [
            "library.Book",
            "list_library_book",
            "admin.list:library.Book",
            "*",
            "a.b.c.read",
            "library..read",
            "lib-rary.*",
        ] {
            assert_eq!(Pattern::parse(name), None, "{name}");
        }
    }

    #[test]
    fn patterns_match_by_app_model_and_verb() {
        let book_update = item(Some("library.Book"), Some("update"), false);
        let book_list = item(Some("library.Book"), Some("list"), true);
        let view = item(None, Some("call"), true);
        let library_view = Item { app: Some("library"), ..item(None, Some("call"), false) };
        let matches = |entry: &str, item: &Item| Pattern::parse(entry).unwrap().matches(item);
        assert!(matches("library.*", &book_update) && matches("library.book.*", &book_update));
        assert!(matches("library.Book.update", &book_update) && !matches("library.Book.update", &book_list));
        assert!(matches("*.read", &book_list) && !matches("*.read", &book_update) && matches("*.write", &book_update));
        assert!(
            matches("library.read", &book_list)
                && !matches("shop.*", &book_list)
                && !matches("library.Author.*", &book_list)
        );
        assert!(
            matches("*.read", &view)
                && matches("*.*.read", &view)
                && !matches("library.*", &view)
                && !matches("*.list", &view)
        );
        // A view of an app's package is the app's, of no model.
        assert!(matches("library.*", &library_view) && matches("library.write", &library_view));
        assert!(!matches("library.Book.*", &library_view) && !matches("shop.*", &library_view));
    }

    #[test]
    fn key_and_endpoint_narrow_listing_and_calls_as_an_intersection() {
        let cat = library();
        let principal =
            json!({"user_id": 1, "allowed_tools": ["library.*"], "endpoint": {"toolset": [], "read_only": true}});
        let tools =
            ask(&cat, principal.clone(), "tools/list", json!({}))["result"]["tools"].as_array().unwrap().clone();
        assert!(!tools.is_empty());
        for tool in &tools {
            let name = tool["name"].as_str().unwrap();
            // The library's admin tools, and its views and API (`api_…`), read-only.
            let library = name.contains("library") || name.contains("api");
            assert!(library && tool["annotations"]["readOnlyHint"] == json!(true), "{name}");
        }
        let refused = ask(&cat, principal, "tools/call", json!({"name": "create_library_book", "arguments": {}}));
        assert_eq!(refused["error"]["code"], json!(-32003), "{refused}");
        assert_eq!(
            refused["error"]["message"],
            json!("out_of_scope: tool not read-only, and this endpoint is read-only")
        );
        let elsewhere = json!({"user_id": 1, "allowed_tools": ["library.*"], "endpoint": {"toolset": ["auth.*"]}});
        assert!(ask(&cat, elsewhere.clone(), "tools/list", json!({}))["result"]["tools"]
            .as_array()
            .unwrap()
            .is_empty());
        let refused = ask(&cat, elsewhere, "tools/call", json!({"name": "list_library_book", "arguments": {}}));
        assert_eq!(refused["error"]["message"], json!("out_of_scope: tool not in this endpoint's toolset"));
    }

    #[test]
    fn patterns_reach_templates_prompts_and_completions_by_model() {
        let cat = library();
        let books = json!({"user_id": 1, "allowed_tools": ["library.Book.*"]});
        let templates = ask(&cat, books.clone(), "resources/templates/list", json!({}));
        let uris: Vec<&str> = templates["result"]["resourceTemplates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["uriTemplate"].as_str().unwrap())
            .collect();
        assert!(!uris.is_empty() && uris.iter().all(|u| u.contains("library.Book/")), "{uris:?}");
        let author = ask(&cat, books.clone(), "resources/read", json!({"uri": "django-mcp://model/library.Author/1"}));
        assert_eq!(author["error"]["code"], json!(-32003), "{author}");
        let prompts = ask(&cat, json!({"user_id": 1, "allowed_tools": ["*.read"]}), "prompts/list", json!({}));
        let action_prompts =
            cat.prompts.iter().filter(|p| p.objects.is_some()).map(|p| p.name.as_str()).collect::<Vec<_>>();
        let listed = prompts["result"]["prompts"].as_array().unwrap();
        assert!(listed.iter().all(|p| !action_prompts.contains(&p["name"].as_str().unwrap())), "{prompts}");
        let completion = json!({"ref": {"type": "ref/resource", "uri": "django-mcp://model/library.Author/{pk}"}, "argument": {"name": "pk", "value": ""}});
        assert_eq!(ask(&cat, books, "completion/complete", completion)["error"]["code"], json!(-32003));
    }

    #[test]
    fn an_entry_naming_an_item_stays_a_name() {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts["user_prompts"] = json!([{"name": "library.list", "body": "Which books?"}]);
        let cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
        let scope = Compiled::of(&cat, &["library.list".to_string()], false);
        let prompt = cat.prompt("library.list").unwrap();
        assert!(scope.lets_through(&Item::prompt(&cat, prompt)).is_ok());
        let list_books = cat.tool("list_library_book").unwrap();
        assert!(matches!(scope.lets_through(&Item::tool(&cat, list_books)), Err(Narrowed::Unlisted)));
    }
}
