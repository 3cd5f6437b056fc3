//! Django REST framework rules. A ViewSet's handlers across all its router routes become one
//! tool set: list, get (retrieve), create, update (PUT and PATCH collapsed into one partial
//! update when the ViewSet has `partial_update`), delete (destroy), and one tool per
//! `@action`; a bare APIView is one tool, with a `method` argument when it answers several.
//! List tools turn the view's paginator, SearchFilter, OrderingFilter and django-filter
//! filters into arguments; the view itself still does the paging and filtering.

use serde_json::{json, Map, Value};

use super::admin::{ordering_schema, MAX_PAGE_SIZE};
use super::views::{answer_schema, callable_methods, param_schema, query_schema, readable_route, CallMethod};
use super::{names, DrfOperation, Gate, Hints, Operation, ToolSpec};
use crate::facts::{DrfEndpointFacts, DrfListingFacts, DrfViewFacts, ToolNames};
use crate::schema::fields::{capitalise, object_schema, page_schema, ModelIndex, Paging};
use crate::schema::serializers::{self, Direction};

/// How the engine reads a DRF view's answer for a tool.
#[derive(Debug, Clone)]
pub enum DrfShape {
    /// `{results, count, page, page_size}` from a paginated or plain list answer. The listing
    /// is boxed: a catalogue keeps an `Operation` per tool, each the size of the largest.
    List { listing: Box<DrfListingFacts>, default_page_size: u64 },
    /// `{object}`.
    Object,
    /// `{deleted, pk}`, the pk being the lookup path value.
    Deleted { lookup: Option<String> },
    /// `{status, headers, body}` as the view answered.
    Response,
}

const READ: Hints = Hints { read_only: true, destructive: false, idempotent: true };
const CREATE: Hints = Hints { read_only: false, destructive: false, idempotent: false };
const UPDATE: Hints = Hints { read_only: false, destructive: false, idempotent: true };
const DELETE: Hints = Hints { read_only: false, destructive: true, idempotent: true };
const INVOKE: Hints = Hints { read_only: false, destructive: true, idempotent: false };

pub fn tools_for(
    view: &DrfViewFacts,
    models: &dyn ModelIndex,
    names_setting: ToolNames,
    page_size: u64,
) -> Vec<ToolSpec> {
    let rules = Rules { view, label: names::drf_stem(&view.label), models, names_setting, page_size };
    if !view.viewset {
        return view.endpoints.iter().map(|e| rules.invoke(e, None)).collect();
    }
    let find = |handler: &str| view.endpoints.iter().find(|e| !e.action && e.handler == handler);
    let mut tools = Vec::new();
    if let Some(e) = find("list") {
        tools.push(rules.list(e));
    }
    if let Some(e) = find("retrieve") {
        tools.push(rules.retrieve(e));
    }
    if let Some(e) = find("create") {
        tools.push(rules.create(e));
    }
    match (find("partial_update"), find("update")) {
        (Some(e), _) => tools.push(rules.update(e, "PATCH")),
        (None, Some(e)) => tools.push(rules.update(e, "PUT")),
        (None, None) => {}
    }
    if let Some(e) = find("destroy") {
        tools.push(rules.destroy(e));
    }
    tools.extend(view.endpoints.iter().filter(|e| e.action).map(|e| rules.invoke(e, Some(&e.handler))));
    tools
}

struct Rules<'a> {
    view: &'a DrfViewFacts,
    /// The stem of the view's tool names (`names::drf_stem`).
    label: String,
    models: &'a dyn ModelIndex,
    names_setting: ToolNames,
    page_size: u64,
}

impl Rules<'_> {
    /// (name, alias) for a verb; actions are named by their own name.
    fn names(&self, verb: &str, action: Option<&str>) -> (String, String) {
        // Portable names say "get" for retrieve, as the admin's and the views' do.
        let portable = match action {
            Some(action) => names::portable_of(&[&self.label, action]),
            None => names::portable_of(&[if verb == "retrieve" { "get" } else { verb }, &self.label]),
        };
        let target = format!("{}.{}", self.view.module, self.view.qualname);
        let dotted = match action {
            Some(action) => format!("view.invoke:{target}.{action}"),
            None => format!("view.{verb}:{target}"),
        };
        names::ordered(self.names_setting, portable, dotted)
    }

    #[allow(clippy::too_many_arguments)]
    fn spec(
        &self,
        endpoint: &DrfEndpointFacts,
        names: (String, String),
        title: String,
        what: String,
        input: Value,
        output: Value,
        hints: Hints,
        method: CallMethod,
        shape: DrfShape,
    ) -> ToolSpec {
        let permissions = endpoint.permissions.as_ref().unwrap_or(&self.view.permissions);
        let gates = vec![json!({"kind": "drf", "permissions": permissions})];
        let how = match &method {
            CallMethod::Fixed(only) => only.clone(),
            CallMethod::Chosen { .. } => "any of its methods".to_string(),
        };
        let description = format!("{what} (/{}; {how}) {}", readable_route(&endpoint.route), protected_by(permissions));
        ToolSpec {
            name: names.0,
            alias: names.1,
            title,
            description,
            input_schema: input,
            output_schema: output,
            hints,
            gate: Gate::Drf { view: self.view.id.clone(), handler: endpoint.handler.clone() },
            operation: Operation::DrfCall(Box::new(DrfOperation {
                view: self.view.id.clone(),
                handler: endpoint.handler.clone(),
                method,
                gates,
                shape,
                app: self.view.app_label.clone(),
                model: self.view.model.clone(),
            })),
        }
    }

    fn what(&self, endpoint: &DrfEndpointFacts, fallback: String) -> String {
        [&endpoint.description, &self.view.description].into_iter().find(|d| !d.is_empty()).cloned().unwrap_or(fallback)
    }

    fn label_words(&self) -> String {
        self.label.replace('_', " ")
    }

    /// The `path` argument: the route's parameters, the lookup named as the view names it.
    fn path_property(
        &self,
        endpoint: &DrfEndpointFacts,
        props: &mut Map<String, Value>,
        required: &mut Vec<&'static str>,
    ) {
        if endpoint.path_params.is_empty() {
            return;
        }
        let params: Map<String, Value> =
            endpoint.path_params.iter().map(|p| (p.name.clone(), param_schema(p))).collect();
        let names: Vec<&str> = endpoint.path_params.iter().map(|p| p.name.as_str()).collect();
        props.insert("path".into(), object_schema(params, &names, true));
        required.push("path");
    }

    fn object_output(&self, endpoint: &DrfEndpointFacts) -> Value {
        let object = match &endpoint.serializer {
            Some(fields) => serializers::output_schema(fields, self.models),
            None => json!({"type": "object"}),
        };
        object_schema(Map::from_iter([("object".to_string(), object)]), &["object"], false)
    }

    fn body_schema(&self, endpoint: &DrfEndpointFacts, partial: bool) -> Value {
        match &endpoint.serializer {
            Some(fields) => serializers::input_schema(fields, self.models, partial),
            None => {
                json!({"type": "object", "description": "The request data (the serializer could not be described)."})
            }
        }
    }

    fn list(&self, endpoint: &DrfEndpointFacts) -> ToolSpec {
        let listing = endpoint.listing.clone().unwrap_or_default();
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        let mut notes = Vec::new();
        if let Some(search) = &listing.search {
            props.insert("q".into(), json!({"type": "string", "description": format!("Search text (SearchFilter over {}).", search.fields.join(", "))}));
        }
        if !listing.filters.is_empty() {
            let filter_props: Map<String, Value> = listing
                .filters
                .iter()
                .map(|f| (f.name.clone(), serializers::field_schema(f, self.models, Direction::Input)))
                .collect();
            let mut schema = object_schema(filter_props, &[], true);
            schema["description"] = json!("The view's django-filter filters (the only ones accepted).");
            props.insert("filters".into(), schema);
        }
        if let Some(ordering) = listing.ordering.as_ref().filter(|o| !o.fields.is_empty()) {
            let names: Vec<&str> = ordering.fields.iter().map(String::as_str).collect();
            props.insert("ordering".into(), ordering_schema(&names, "fields"));
        }
        let default_page_size = self.paging_arguments(&listing, &mut props, &mut notes);
        let item = match &endpoint.serializer {
            Some(fields) => serializers::output_schema(fields, self.models),
            None => json!({}),
        };
        let paging = if is_cursor(&listing) { Paging::Cursor } else { Paging::Numbered };
        let output = page_schema(item, paging);
        let fallback = format!("List {} through the API.", self.label_words());
        let what = format!("{} {}", self.what(endpoint, fallback), notes.join(" ")).trim_end().to_string();
        self.spec(
            endpoint,
            self.names("list", None),
            capitalise(&format!("list {}", self.label_words())),
            what,
            object_schema(props, &required, true),
            output,
            READ,
            CallMethod::Fixed("GET".into()),
            DrfShape::List { listing: Box::new(listing), default_page_size },
        )
    }

    /// Adds `page`/`page_size` (or `cursor`) and returns the page size the view uses unasked.
    fn paging_arguments(
        &self,
        listing: &DrfListingFacts,
        props: &mut Map<String, Value>,
        notes: &mut Vec<String>,
    ) -> u64 {
        let Some(pagination) = &listing.pagination else {
            // No paginator: the view answers everything, the tool pages it.
            let per_page = self.page_size.clamp(1, MAX_PAGE_SIZE);
            props.insert("page".into(), json!({"type": "integer", "minimum": 1}));
            props.insert(
                "page_size".into(),
                json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": per_page}),
            );
            return per_page;
        };
        let per_page = pagination.page_size.unwrap_or(self.page_size).max(1);
        let max = pagination.max_page_size.unwrap_or(MAX_PAGE_SIZE).max(1);
        if pagination.style == "cursor" {
            props.insert(
                "cursor".into(),
                json!({"type": "string", "description": "next_cursor or previous_cursor of an earlier page."}),
            );
        } else {
            props.insert("page".into(), json!({"type": "integer", "minimum": 1}));
        }
        match pagination.page_size_param {
            Some(_) => {
                props.insert(
                    "page_size".into(),
                    json!({"type": "integer", "minimum": 1, "maximum": max, "default": per_page}),
                );
            }
            // Not an argument: only the description can say how many a page holds.
            None => notes.push(format!("{per_page} per page.")),
        }
        per_page
    }

    fn retrieve(&self, endpoint: &DrfEndpointFacts) -> ToolSpec {
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        let fallback = format!("Retrieve one {} through the API.", self.label_words());
        self.spec(
            endpoint,
            self.names("retrieve", None),
            capitalise(&format!("get {}", self.label_words())),
            self.what(endpoint, fallback),
            object_schema(props, &required, true),
            self.object_output(endpoint),
            READ,
            CallMethod::Fixed("GET".into()),
            DrfShape::Object,
        )
    }

    fn create(&self, endpoint: &DrfEndpointFacts) -> ToolSpec {
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        props.insert("body".into(), self.body_schema(endpoint, false));
        required.push("body");
        let fallback = format!("Create a {} through the API.", self.label_words());
        self.spec(
            endpoint,
            self.names("create", None),
            capitalise(&format!("create {}", self.label_words())),
            self.what(endpoint, fallback),
            object_schema(props, &required, true),
            self.object_output(endpoint),
            CREATE,
            CallMethod::Fixed("POST".into()),
            DrfShape::Object,
        )
    }

    fn update(&self, endpoint: &DrfEndpointFacts, method: &'static str) -> ToolSpec {
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        let partial = method == "PATCH";
        props.insert("body".into(), self.body_schema(endpoint, partial));
        required.push("body");
        let how = if partial { "only the fields sent change" } else { "every required field must be sent" };
        let fallback = format!("Update a {} through the API ({how}).", self.label_words());
        self.spec(
            endpoint,
            self.names("update", None),
            capitalise(&format!("update {}", self.label_words())),
            self.what(endpoint, fallback),
            object_schema(props, &required, true),
            self.object_output(endpoint),
            UPDATE,
            CallMethod::Fixed(method.into()),
            DrfShape::Object,
        )
    }

    fn destroy(&self, endpoint: &DrfEndpointFacts) -> ToolSpec {
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        // A ViewSet whose destroy takes data (djoser asks for the current password) has a
        // serializer of its own for it.
        if endpoint.serializer.is_some() {
            let body = self.body_schema(endpoint, false);
            if body.get("required").is_some() {
                required.push("body");
            }
            props.insert("body".into(), body);
        }
        let lookup = endpoint.path_params.last().map(|p| p.name.clone());
        let output = object_schema(
            Map::from_iter([("deleted".to_string(), json!({"type": "boolean"})), ("pk".to_string(), json!({}))]),
            &["deleted", "pk"],
            false,
        );
        let fallback = format!("Delete a {} through the API.", self.label_words());
        self.spec(
            endpoint,
            self.names("delete", None),
            capitalise(&format!("delete {}", self.label_words())),
            self.what(endpoint, fallback),
            object_schema(props, &required, true),
            output,
            DELETE,
            CallMethod::Fixed("DELETE".into()),
            DrfShape::Deleted { lookup },
        )
    }

    /// An `@action` (named) or an APIView (unnamed): the view's own answer, with a `method`
    /// argument when it takes several.
    fn invoke(&self, endpoint: &DrfEndpointFacts, action: Option<&str>) -> ToolSpec {
        let methods = callable_methods(&endpoint.methods);
        let mut props = Map::new();
        let mut required = Vec::new();
        self.path_property(endpoint, &mut props, &mut required);
        props.insert("query".into(), query_schema());
        let method = match methods.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        };
        if method.as_deref() != Some("GET") {
            let mut body = self.body_schema(endpoint, matches!(method.as_deref(), Some("PATCH") | None));
            if endpoint.serializer.is_none() {
                body = json!({"description": "The request data: a JSON value."});
            }
            props.insert("body".into(), body);
        }
        let hints = match method.as_deref() {
            Some("GET") => READ,
            Some("PUT") => UPDATE,
            _ => INVOKE,
        };
        let (names, title, fallback) = match action {
            Some(action) => (
                self.names("invoke", Some(action)),
                capitalise(&format!("{} {}", self.label_words(), action.replace('_', " "))),
                format!("DRF action '{action}' on {}.", self.view.qualname),
            ),
            None => (
                self.names("invoke", None),
                capitalise(&format!("call {}", self.label_words())),
                format!("Call {}.", self.view.qualname),
            ),
        };
        let call_method = match method {
            Some(only) => CallMethod::Fixed(only),
            None => CallMethod::Chosen { accepted: methods },
        };
        call_method.add_argument(&mut props, &mut required);
        let output = answer_schema();
        let what = self.what(endpoint, fallback);
        self.spec(
            endpoint,
            names,
            title,
            what,
            object_schema(props, &required, true),
            output,
            hints,
            call_method,
            DrfShape::Response,
        )
    }
}

fn is_cursor(listing: &DrfListingFacts) -> bool {
    listing.pagination.as_ref().is_some_and(|p| p.style == "cursor")
}

fn protected_by(permissions: &[String]) -> String {
    if permissions.is_empty() {
        "Protected by: your MCP credential only.".to_string()
    } else {
        format!("Protected by: DRF permissions {}.", permissions.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::fields::NoModels;

    fn viewset() -> DrfViewFacts {
        let detail = json!([{"name": "pk", "converter": "regex", "pattern": "[^/.]+"}]);
        let serializer = json!([
            {"name": "id", "kind": "integer", "read_only": true},
            {"name": "title", "kind": "char", "required": true, "max_length": 200},
        ]);
        serde_json::from_value(json!({
            "id": "api.BookViewSet", "label": "api_book", "module": "library.api", "qualname": "BookViewSet",
            "viewset": true, "permissions": ["IsAuthenticated"],
            "endpoints": [
                {"handler": "list", "route": "api/books/", "methods": ["get"], "serializer": serializer,
                 "listing": {"pagination": {"style": "page_number", "page_size": 10, "page_param": "page", "page_size_param": "size", "max_page_size": 50},
                             "search": {"param": "search", "fields": ["title"]}, "ordering": {"param": "ordering", "fields": ["title", "pages"]},
                             "filters": [{"name": "status", "kind": "choice", "choices": [["draft", "Draft"]]}]}},
                {"handler": "create", "route": "api/books/", "methods": ["post"], "serializer": serializer},
                {"handler": "retrieve", "route": "api/books/<pk>/", "methods": ["get"], "path_params": detail, "serializer": serializer},
                {"handler": "update", "route": "api/books/<pk>/", "methods": ["put"], "path_params": detail, "serializer": serializer},
                {"handler": "partial_update", "route": "api/books/<pk>/", "methods": ["patch"], "path_params": detail, "serializer": serializer},
                {"handler": "destroy", "route": "api/books/<pk>/", "methods": ["delete"], "path_params": detail},
                {"handler": "set_flag", "action": true, "url_path": "set-flag", "route": "api/books/<pk>/set-flag/", "methods": ["post", "delete"], "path_params": detail},
            ],
        }))
        .unwrap()
    }

    #[test]
    fn a_viewset_is_one_tool_set_with_put_and_patch_collapsed() {
        let tools = tools_for(&viewset(), &NoModels, ToolNames::Portable, 100);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "list_api_book",
                "get_api_book",
                "create_api_book",
                "update_api_book",
                "delete_api_book",
                "api_book_set_flag"
            ]
        );
        let update = &tools[3];
        assert!(
            matches!(&update.operation, Operation::DrfCall(call) if matches!(&call.method, CallMethod::Fixed(m) if m == "PATCH"))
        );
        assert!(update.input_schema["properties"]["body"].get("required").is_none());
        assert_eq!(tools[2].input_schema["properties"]["body"]["required"], json!(["title"]));
        assert_eq!(tools[5].alias, "view.invoke:library.api.BookViewSet.set_flag");
        assert_eq!(tools[5].input_schema["properties"]["method"]["enum"], json!(["POST", "DELETE"]));
        assert_eq!(tools[5].input_schema["required"], json!(["path"])); // without it: POST with a body, else GET
    }

    #[test]
    fn a_stem_as_written_is_named_in_words() {
        let mut view = viewset();
        view.label = "api:book-shelf".into();
        let tools = tools_for(&view, &NoModels, ToolNames::Portable, 100);
        assert_eq!(tools[0].name, "list_api_book_shelf");
        assert_eq!(tools[5].name, "api_book_shelf_set_flag");
        assert_eq!(tools[0].title, "List api book shelf");
    }

    #[test]
    fn list_arguments_come_from_the_paginator_and_filter_backends() {
        let tools = tools_for(&viewset(), &NoModels, ToolNames::Portable, 100);
        let list = &tools[0].input_schema["properties"];
        assert_eq!(list["page_size"]["maximum"], 50);
        assert_eq!(list["page_size"]["default"], 10);
        assert_eq!(list["ordering"]["pattern"], "^-?(title|pages)(,-?(title|pages))*$");
        assert_eq!(list["filters"]["properties"]["status"]["enum"], json!(["draft"]));
        assert!(list.get("q").is_some());
        assert!(tools[0].description.ends_with("Protected by: DRF permissions IsAuthenticated."));
    }
}
