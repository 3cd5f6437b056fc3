//! Admin rules: every registered `ModelAdmin` becomes list, get, create, update and delete
//! tools and one tool per admin action, shaped by the declarations Django already has
//! (`list_display`, `search_fields`, `list_filter`, `ordering`, `list_per_page`, the admin's
//! forms, its actions).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{names, Catalogue, FilterRule, Gate, Hints, Operation, Permission, ToolSpec};
use crate::facts::{
    ActionFacts, AdminFacts, ColumnFacts, FieldFacts, FilterFacts, FilterKind, FormFieldFacts, ModelFacts,
};
use crate::schema::fields::{capitalise, field_schema, object_schema, page_schema, restrict_to_choices, Paging};
use crate::schema::forms::form_schema;

pub const MAX_PAGE_SIZE: u64 = 1000;
pub const MAX_ACTION_PKS: u64 = 1000;

const READ: Hints = Hints { read_only: true, destructive: false, idempotent: true };
const CREATE: Hints = Hints { read_only: false, destructive: false, idempotent: false };
const UPDATE: Hints = Hints { read_only: false, destructive: false, idempotent: true };
const DELETE: Hints = Hints { read_only: false, destructive: true, idempotent: true };
const ACTION: Hints = Hints { read_only: false, destructive: true, idempotent: false };

/// The tools of one ModelAdmin; `warnings` collects what had to be left out.
pub fn tools_for(
    cat: &Catalogue,
    admin_index: usize,
    admin: &AdminFacts,
    model: &ModelFacts,
    warnings: &mut Vec<String>,
) -> Vec<ToolSpec> {
    let rules = AdminRules::new(cat, admin_index, admin, model);
    let mut tools = vec![rules.list(warnings), rules.retrieve()];
    if admin.forms_deferred {
        // Registered by name; their schemas wait for the forms (`Catalogue::install_forms`).
        tools.extend([rules.create(None), rules.update(None)]);
    } else {
        tools.extend(admin.forms.add.as_deref().map(|fields| rules.create(Some(fields))));
        tools.extend(admin.forms.change().map(|fields| rules.update(Some(fields))));
    }
    tools.push(rules.delete());
    tools.extend(admin.actions.iter().map(|a| rules.action(a)));
    tools
}

/// The create and update tools of an admin whose forms came late, derived as `tools_for`
/// derives them (None where the admin has no such form).
pub fn form_tools(
    cat: &Catalogue,
    admin_index: usize,
    admin: &AdminFacts,
    model: &ModelFacts,
) -> (Option<ToolSpec>, Option<ToolSpec>) {
    let rules = AdminRules::new(cat, admin_index, admin, model);
    let create = admin.forms.add.as_deref().map(|fields| rules.create(Some(fields)));
    (create, admin.forms.change().map(|fields| rules.update(Some(fields))))
}

struct AdminRules<'a> {
    cat: &'a Catalogue,
    index: usize,
    admin: &'a AdminFacts,
    model: &'a ModelFacts,
    /// The model's field names and those masked: one list each, shared by the retrieve,
    /// create and update operations the catalogue keeps.
    fields: Arc<[String]>,
    masked: Arc<[String]>,
}

impl<'a> AdminRules<'a> {
    fn new(cat: &'a Catalogue, index: usize, admin: &'a AdminFacts, model: &'a ModelFacts) -> AdminRules<'a> {
        let fields: Arc<[String]> = model.fields.iter().map(|f| f.name.clone()).collect();
        let masked = fields.iter().filter(|f| cat.is_redacted(model, f)).cloned().collect();
        AdminRules { cat, index, admin, model, fields, masked }
    }

    fn gate(&self, permission: Permission) -> Gate {
        Gate::Admin { admin: self.admin.id.clone(), permission }
    }

    /// `(name, alias)` for a tool verb: portable `list_library_book`, dotted `admin.list:library.Book`.
    fn names(&self, verb: &str, dotted_verb: &str) -> (String, String) {
        let portable = names::portable(&self.admin.site, verb, &self.model.app_label, &self.model.model_name);
        let dotted = names::dotted(dotted_verb, &self.model.label);
        names::ordered(self.cat.settings.tool_names, portable, dotted)
    }

    #[allow(clippy::too_many_arguments)]
    fn spec(
        &self,
        (name, alias): (String, String),
        title: String,
        description: String,
        input: Value,
        output: Value,
        hints: Hints,
        gate: Gate,
        operation: Operation,
    ) -> ToolSpec {
        ToolSpec { name, alias, title, description, input_schema: input, output_schema: output, hints, gate, operation }
    }

    fn pk_schema(&self) -> Value {
        let mut s = self
            .model
            .pk_field()
            .map(|f| field_schema(f, self.cat))
            .unwrap_or_else(|| json!({"type": ["integer", "string"]}));
        // Named `pk` (or listed as `pks`), it needs no title or description.
        if let Some(obj) = s.as_object_mut() {
            obj.remove("title");
            obj.remove("description");
        }
        s
    }

    fn pk_argument(&self) -> Value {
        object_schema(Map::from_iter([("pk".to_string(), self.pk_schema())]), &["pk"], true)
    }

    fn all_fields(&self) -> (Arc<[String]>, Arc<[String]>) {
        (Arc::clone(&self.fields), Arc::clone(&self.masked))
    }

    /// `{"object": …}` with every model field the admin may show.
    fn object_output(&self) -> Value {
        let mut props = Map::new();
        for field in &self.model.fields {
            props.insert(field.name.clone(), self.field_column_schema(field));
        }
        let object = object_schema(props, &[self.model.pk.as_str()], false);
        object_schema(Map::from_iter([("object".to_string(), object)]), &["object"], false)
    }

    fn field_column_schema(&self, field: &FieldFacts) -> Value {
        if self.cat.is_redacted(self.model, &field.name) {
            return redacted_schema();
        }
        field_schema(field, self.cat)
    }

    fn column_facts(&self, name: &str) -> Option<&ColumnFacts> {
        self.admin.list_display.iter().find(|c| c.name == name)
    }

    /// Whether a column's values are masked: its model field is redacted, or its path
    /// (`author__user__password`) crosses a secret.
    fn column_redacted(&self, name: &str, field: Option<&str>) -> bool {
        field.is_some_and(|f| self.cat.is_redacted(self.model, f))
            || (self.column_facts(name).is_some() && self.crosses_secret(name))
    }

    /// Whether a field path the facts name crosses a secret: a field of the model, or a path
    /// the host resolved (`author__user__password`, a lookup, a reverse relation).
    fn crosses_secret(&self, path: &str) -> bool {
        let path = path.trim_start_matches(['^', '=', '@', '-']);
        match self.admin.paths.get(path) {
            Some(crossed) => self.cat.secret_crossed(crossed).is_some(),
            None => self.model.field(path).is_some() && self.cat.is_redacted(self.model, path),
        }
    }

    /// `search_fields` less those that cross a secret: a search on a secret is an oracle for
    /// it, so the tool neither names nor searches them.
    fn search_fields(&self) -> Vec<String> {
        self.admin.search_fields.iter().filter(|f| !self.crosses_secret(f)).cloned().collect()
    }

    fn list(&self, warnings: &mut Vec<String>) -> ToolSpec {
        let plural = &self.model.verbose_name_plural;
        let mut columns = self.columns();
        let mut row = Map::new();
        for (name, field) in &columns {
            row.insert(name.clone(), self.column_schema(name, field.as_deref()));
        }
        let row_schema = object_schema(row, &[self.model.pk.as_str()], false);

        let mut props = Map::new();
        let search_fields = self.search_fields();
        if !search_fields.is_empty() {
            props.insert(
                "q".into(),
                json!({"type": "string", "maxLength": 500,
                "description": format!("Search {plural} by {}.", humanise_list(&search_fields))}),
            );
        }
        let mut filter_props = Map::new();
        let mut filters = Vec::new();
        for facts in &self.admin.list_filter {
            let path = facts.path.as_deref().unwrap_or(&facts.name);
            if facts.kind == FilterKind::Field && self.crosses_secret(path) {
                warnings.push(format!(
                    "{}: list_filter entry '{}' left out: it filters on a redacted field",
                    self.admin.id, facts.name
                ));
                continue;
            }
            match self.filter(facts) {
                Some((schema, rule)) => {
                    filter_props.insert(facts.name.clone(), schema);
                    filters.push((facts.name.clone(), rule));
                }
                None => warnings.push(format!(
                    "{}: list_filter entry {:?} could not be described; not offered as a filter",
                    self.admin.id, facts.name
                )),
            }
        }
        if !filters.is_empty() {
            let mut schema = object_schema(filter_props, &[], true);
            schema["description"] = json!("Filters from the admin's list_filter (the only ones accepted).");
            props.insert("filters".into(), schema);
        }
        let mut order_by = self.orderable(&columns);
        let mut cleared = cleared(self.cleared_columns(&columns), &search_fields, &order_by, &filters);
        let sortable: Vec<&str> = order_by.iter().map(|(c, _)| c.as_str()).collect();
        props.insert("ordering".into(), ordering_schema(&sortable, "columns"));
        props.insert("page".into(), json!({"type": "integer", "minimum": 1}));
        let per_page = self.admin.list_per_page.clamp(1, MAX_PAGE_SIZE);
        props.insert(
            "page_size".into(),
            json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": per_page}),
        );

        let output = page_schema(row_schema, Paging::Numbered);
        // Search, filters and the page size are the arguments' to say.
        let description = format!("List {plural} from the Django admin.");
        // Built by pushing, and kept by the catalogue for the instance's life.
        columns.shrink_to_fit();
        cleared.shrink_to_fit();
        filters.shrink_to_fit();
        order_by.shrink_to_fit();
        let operation = Operation::AdminList {
            admin: self.index,
            columns,
            cleared,
            filters,
            order_by,
            default_page_size: per_page,
        };
        self.spec(
            self.names("list", "list"),
            format!("List {plural}"),
            description,
            object_schema(props, &[], true),
            output,
            READ,
            self.gate(Permission::View),
            operation,
        )
    }

    /// The names of the columns whose values are sent in clear.
    fn cleared_columns(&self, columns: &[(String, Option<String>)]) -> Vec<String> {
        columns.iter().filter(|(n, f)| !self.column_redacted(n, f.as_deref())).map(|(n, _)| n.clone()).collect()
    }

    /// The changelist's columns, led by the pk; model fields by name, the rest computed.
    fn columns(&self) -> Vec<(String, Option<String>)> {
        let mut columns = vec![(self.model.pk.clone(), Some(self.model.pk.clone()))];
        for ColumnFacts { name, field, .. } in &self.admin.list_display {
            if columns.iter().any(|(n, _)| n == name) {
                continue;
            }
            let field = field.as_ref().filter(|f| self.model.field(f).is_some_and(|f| !f.many)).cloned();
            columns.push((name.clone(), field));
        }
        columns
    }

    fn column_schema(&self, name: &str, field: Option<&str>) -> Value {
        if let Some(field) = field.and_then(|f| self.model.field(f)) {
            return self.field_column_schema(field);
        }
        if self.column_redacted(name, None) {
            return redacted_schema();
        }
        let facts = self.column_facts(name);
        let title = facts.and_then(|c| c.title.clone()).unwrap_or_else(|| capitalise(&name.replace('_', " ")));
        if facts.is_some_and(|c| c.boolean) {
            json!({"type": ["boolean", "null"], "title": title})
        } else {
            json!({"title": title})
        }
    }

    /// Sortable columns and what they sort by: model-field columns, computed columns with an
    /// `admin_order_field`, the admin's ordering fields, and the pk; never a masked column or
    /// a redacted field, whose order would tell their values apart.
    fn orderable(&self, columns: &[(String, Option<String>)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, expr: &str| {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.to_string(), expr.to_string()));
            }
        };
        for (name, field) in columns {
            let facts = self.column_facts(name);
            if facts.is_some_and(|c| !c.sortable) || self.column_redacted(name, field.as_deref()) {
                continue;
            }
            // A column sorted through a secret is not sortable: its order would tell the values apart.
            let order = facts.and_then(|c| c.order_field.as_deref()).filter(|o| !o.is_empty());
            if order.is_some_and(|o| self.crosses_secret(o)) {
                continue;
            }
            match (field, order) {
                (_, Some(order)) => add(name, order),
                (Some(f), None) => add(name, f),
                (None, None) => {}
            }
        }
        for entry in &self.admin.ordering {
            let name = entry.trim_start_matches('-');
            if self.model.field(name).is_some_and(|f| !f.many) && !self.cat.is_redacted(self.model, name) {
                add(name, name);
            }
        }
        out
    }

    fn filter(&self, facts: &FilterFacts) -> Option<(Value, FilterRule)> {
        match facts.kind {
            FilterKind::Choices => {
                if facts.choices.is_empty() {
                    return None;
                }
                let mut schema = json!({});
                restrict_to_choices(&mut schema, &facts.choices);
                if let Some(title) = &facts.title {
                    schema["title"] = json!(capitalise(title));
                }
                Some((schema, FilterRule::Choices))
            }
            FilterKind::Field => {
                let path = facts.path.clone().unwrap_or_else(|| facts.name.clone());
                let field = resolve_path(self.cat, self.model, &path)?;
                if matches!(field.kind.as_str(), "DateField" | "DateTimeField") {
                    let bound = field_schema(&FieldFacts { null: false, ..field.clone() }, self.cat);
                    let mut range = object_schema(
                        Map::from_iter([("gte".to_string(), bound.clone()), ("lte".to_string(), bound)]),
                        &[],
                        true,
                    );
                    range["minProperties"] = json!(1);
                    range["description"] = json!(format!("A range of {}: gte and/or lte.", field.verbose_name));
                    if field.null {
                        // As the admin's date filter offers "No date".
                        range = json!({"anyOf": [range, {"type": "null"}], "description": "A range (gte and/or lte), or null for none."});
                    }
                    return Some((range, FilterRule::Range { path }));
                }
                // The admin filters a many-to-many by one related object, so the value is one pk.
                let one = FieldFacts { many: false, ..field.clone() };
                Some((field_schema(&one, self.cat), FilterRule::Exact { path }))
            }
        }
    }

    fn retrieve(&self) -> ToolSpec {
        let (fields, masked) = self.all_fields();
        let verbose = &self.model.verbose_name;
        self.spec(
            self.names("get", "retrieve"),
            format!("Get {verbose}"),
            format!("Retrieve one {verbose} by primary key, with the fields the Django admin shows you."),
            self.pk_argument(),
            self.object_output(),
            READ,
            self.gate(Permission::View),
            Operation::AdminRetrieve { admin: self.index, fields, masked },
        )
    }

    /// The schemas of a tool whose form is `None` are left `Value::Null`: it waits for it.
    fn form_schemas(
        &self,
        form: Option<&[FormFieldFacts]>,
        input: impl FnOnce(&[FormFieldFacts]) -> Value,
    ) -> (Value, Value) {
        form.map_or((Value::Null, Value::Null), |form| (input(form), self.object_output()))
    }

    fn create(&self, form: Option<&[FormFieldFacts]>) -> ToolSpec {
        let (fields, masked) = self.all_fields();
        let verbose = &self.model.verbose_name;
        let (input, output) = self.form_schemas(form, |form| form_schema(form, self.cat, true));
        self.spec(
            self.names("create", "create"),
            format!("Create {verbose}"),
            format!("Create one {verbose} through the Django admin's add form."),
            input,
            output,
            CREATE,
            self.gate(Permission::Add),
            Operation::AdminCreate { admin: self.index, fields, masked },
        )
    }

    fn update(&self, form: Option<&[FormFieldFacts]>) -> ToolSpec {
        let (fields, masked) = self.all_fields();
        let verbose = &self.model.verbose_name;
        let (input, output) = self.form_schemas(form, |form| {
            let mut changes = form_schema(form, self.cat, false);
            changes["minProperties"] = json!(1);
            object_schema(
                Map::from_iter([("pk".to_string(), self.pk_schema()), ("fields".to_string(), changes)]),
                &["pk", "fields"],
                true,
            )
        });
        self.spec(
            self.names("update", "update"),
            format!("Update {verbose}"),
            format!("Change one {verbose} through the Django admin's change form; only the fields sent change."),
            input,
            output,
            UPDATE,
            self.gate(Permission::Change),
            Operation::AdminUpdate { admin: self.index, fields, masked },
        )
    }

    fn delete(&self) -> ToolSpec {
        let verbose = &self.model.verbose_name;
        let output = object_schema(
            Map::from_iter([("deleted".to_string(), json!({"type": "boolean"})), ("pk".to_string(), self.pk_schema())]),
            &["deleted", "pk"],
            false,
        );
        self.spec(
            self.names("delete", "delete"),
            format!("Delete {verbose}"),
            format!("Delete one {verbose} as the Django admin's delete view does: related objects cascade, protected ones stop it."),
            self.pk_argument(),
            output,
            DELETE,
            self.gate(Permission::Delete),
            Operation::AdminDelete { admin: self.index },
        )
    }

    fn action(&self, action: &ActionFacts) -> ToolSpec {
        let plural = &self.model.verbose_name_plural;
        let portable = names::portable(&self.admin.site, &action.name, &self.model.app_label, &self.model.model_name);
        let dotted = format!("admin.action:{}.{}", self.model.label, action.name);
        let pks = json!({"type": "array", "items": self.pk_schema(), "minItems": 1, "maxItems": MAX_ACTION_PKS, "uniqueItems": true,
                         "description": format!("Primary keys of the {plural} to act on.")});
        let output = object_schema(
            Map::from_iter([
                (
                    "updated".to_string(),
                    json!({"type": "integer", "minimum": 0, "description": "How many objects the action was applied to."}),
                ),
                ("message".to_string(), json!({"type": ["string", "null"]})),
            ]),
            &["updated"],
            false,
        );
        let what = if action.description.is_empty() {
            capitalise(&action.name.replace('_', " "))
        } else {
            action.description.clone()
        };
        self.spec(
            names::ordered(self.cat.settings.tool_names, portable, dotted),
            what.clone(),
            format!("{what}: the Django admin action '{}', applied to the {plural} whose pks you give.", action.name),
            object_schema(Map::from_iter([("pks".to_string(), pks)]), &["pks"], true),
            output,
            ACTION,
            Gate::Action { admin: self.admin.id.clone(), action: action.name.clone() },
            Operation::AdminAction { admin: self.index, action: action.name.clone() },
        )
    }
}

/// A list's verdict for the host, an allowlist so that whatever the host meets beyond it (a
/// caller's own `list_display` or `get_search_fields`) is masked or left out: the columns sent
/// in clear, the search fields as written, and the field paths it sorts and filters by.
fn cleared(
    columns: Vec<String>,
    search_fields: &[String],
    order_by: &[(String, String)],
    filters: &[(String, FilterRule)],
) -> Vec<String> {
    let mut cleared = columns;
    let paths = order_by.iter().map(|(_, expr)| expr.trim_start_matches('-'));
    let paths = paths.chain(filters.iter().filter_map(|(_, rule)| match rule {
        FilterRule::Exact { path } | FilterRule::Range { path } => Some(path.as_str()),
        FilterRule::Choices => None,
    }));
    for name in search_fields.iter().map(String::as_str).chain(paths) {
        if !cleared.iter().any(|c| c == name) {
            cleared.push(name.to_string());
        }
    }
    cleared
}

fn redacted_schema() -> Value {
    json!({"type": ["string", "null"], "description": "Redacted: never sent."})
}

/// The field a `list_filter` path (`author__name`) ends at, following relations.
pub(crate) fn resolve_path<'a>(cat: &'a Catalogue, model: &'a ModelFacts, path: &str) -> Option<&'a FieldFacts> {
    use crate::schema::fields::ModelIndex;
    let mut current = model;
    let mut parts = path.split("__").peekable();
    while let Some(part) = parts.next() {
        let field = current.field(part)?;
        if parts.peek().is_none() {
            return Some(field);
        }
        current = cat.model(field.related_model.as_deref()?)?;
    }
    None
}

pub(crate) fn humanise_list(items: &[String]) -> String {
    items.iter().map(|s| s.trim_start_matches(['^', '=', '@']).replace("__", " ")).collect::<Vec<_>>().join(", ")
}

/// The `ordering` argument: comma-separated names, `-` for descending. Bounded in length
/// (each name once), so matching its pattern stays cheap.
pub(crate) fn ordering_schema(names: &[&str], noun: &str) -> Value {
    let alternatives = names.iter().map(|n| regex_escape(n)).collect::<Vec<_>>().join("|");
    let longest: usize = names.iter().map(|n| n.chars().count() + 2).sum();
    json!({
        "type": "string",
        "maxLength": longest.max(1),
        "pattern": format!("^-?({alternatives})(,-?({alternatives}))*$"),
        // The pattern names them; listing them again would say it twice.
        "description": format!("Comma-separated {noun}, '-' for descending."),
    })
}

pub(crate) fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_ascii_alphanumeric() || c == '_' { vec![c] } else { vec!['\\', c] }).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::derive::Catalogue;

    fn catalogue(admin: serde_json::Value) -> Catalogue {
        let facts = json!({
            "protocol": 1,
            "models": [
                {"label": "auth.User", "app_label": "auth", "model_name": "user", "object_name": "User",
                 "verbose_name": "user", "verbose_name_plural": "users", "pk": "id", "fields": [
                    {"name": "id", "kind": "AutoField", "primary_key": true},
                    {"name": "joined", "kind": "DateTimeField"},
                    {"name": "groups", "kind": "ManyToManyField", "related_model": "auth.Group", "many": true},
                ]},
                {"label": "auth.Group", "app_label": "auth", "model_name": "group", "object_name": "Group",
                 "verbose_name": "group", "verbose_name_plural": "groups", "pk": "id", "fields": [
                    {"name": "id", "kind": "AutoField", "primary_key": true},
                    {"name": "name", "kind": "CharField", "max_length": 150},
                ]},
            ],
            "admins": [admin],
        });
        let (cat, warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        cat
    }

    fn input_schema(cat: &Catalogue, tool: &str) -> serde_json::Value {
        serde_json::from_str(cat.tool(tool).unwrap().input_schema()).unwrap()
    }

    #[test]
    fn filters_take_one_pk_for_many_to_many_a_range_for_dates_and_follow_paths() {
        let cat = catalogue(json!({"id": "a/u", "model": "auth.User", "list_filter": [
            {"name": "groups", "kind": "field", "path": "groups"},
            {"name": "joined", "kind": "field", "path": "joined"},
            {"name": "groups__name", "kind": "field", "path": "groups__name"},
            {"name": "era", "kind": "choices", "choices": [["old", "Old-timers"]]},
        ]}));
        let filters = &input_schema(&cat, "list_auth_user")["properties"]["filters"]["properties"];
        assert_eq!(filters["groups"]["type"], json!("integer"));
        assert_eq!(filters["joined"]["properties"]["gte"]["format"], json!("date-time"));
        assert_eq!(filters["groups__name"]["maxLength"], json!(150));
        assert_eq!(filters["era"]["enum"], json!(["old"]));
    }

    #[test]
    fn every_verb_and_action_becomes_a_tool_with_honest_hints() {
        let cat = catalogue(json!({"id": "a/g", "model": "auth.Group",
            "list_display": [{"name": "name", "field": "name"}, {"name": "size", "boolean": false, "order_field": "name"}],
            "forms": {"add": [{"name": "name", "kind": "CharField", "required": true}], "change": [{"name": "name", "kind": "CharField", "required": true}]},
            "actions": [{"name": "delete_selected", "description": "Delete selected groups"}]}));
        let names: Vec<&str> = cat.tools.iter().map(|t| t.spec.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "list_auth_group",
                "get_auth_group",
                "create_auth_group",
                "update_auth_group",
                "delete_auth_group",
                "delete_selected_auth_group"
            ]
        );
        let hints = |n: &str| {
            serde_json::from_str::<serde_json::Value>(&cat.tool(n).unwrap().descriptor).unwrap()["annotations"].clone()
        };
        assert_eq!(hints("delete_auth_group")["destructiveHint"], json!(true));
        assert_eq!(hints("update_auth_group")["idempotentHint"], json!(true));
        // Hints at the MCP defaults go unsaid: a create tool is not read-only.
        assert!(hints("create_auth_group").get("readOnlyHint").is_none());
        assert_eq!(hints("create_auth_group")["destructiveHint"], json!(false));
        let list = input_schema(&cat, "list_auth_group");
        assert_eq!(list["properties"]["ordering"]["pattern"], json!("^-?(id|name|size)(,-?(id|name|size))*$"));
        let update = input_schema(&cat, "update_auth_group");
        assert_eq!(update["required"], json!(["pk", "fields"]));
        assert!(update["properties"]["fields"].get("required").is_none());
        assert!(cat.tool("admin.action:auth.Group.delete_selected").is_some());
    }

    #[test]
    fn masked_columns_are_redacted_in_the_row_schema_and_never_sortable() {
        let facts = json!({
            "protocol": 1,
            "models": [{"label": "auth.User", "app_label": "auth", "model_name": "user", "object_name": "User",
                        "verbose_name": "user", "verbose_name_plural": "users", "pk": "id", "is_user_model": true, "fields": [
                {"name": "id", "kind": "AutoField", "primary_key": true},
                {"name": "username", "kind": "CharField", "max_length": 150},
                {"name": "password", "kind": "CharField", "max_length": 128},
            ]}],
            "admins": [{"id": "a/u", "model": "auth.User", "ordering": ["password", "username"], "list_display": [
                {"name": "username", "field": "username"},
                {"name": "password", "field": "password"},
                // Sortable as declared, so that only the path's secret keeps it out of the ordering.
                {"name": "manager__password", "order_field": "manager__password"},
                {"name": "manager__username", "order_field": "manager__username"},
            ], "paths": {
                "manager__password": ["auth.User.manager", "auth.User.password"],
                "manager__username": ["auth.User.manager", "auth.User.username"],
            }}],
        });
        let (cat, _warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        let tool = cat.tool("list_auth_user").unwrap();
        let output: serde_json::Value = serde_json::from_str(&tool.descriptor).unwrap();
        let row = &output["outputSchema"]["properties"]["results"]["items"]["properties"];
        for masked in ["password", "manager__password"] {
            assert_eq!(row[masked]["description"], json!("Redacted: never sent."), "{masked}");
        }
        assert!(row["manager__username"].get("description").is_none());
        let ordering = &input_schema(&cat, "list_auth_user")["properties"]["ordering"]["pattern"];
        assert_eq!(ordering, &json!("^-?(id|username|manager__username)(,-?(id|username|manager__username))*$"));
        let crate::derive::Operation::AdminList { cleared, .. } = &tool.spec.operation else { panic!("not a list") };
        assert_eq!(cleared, &["id", "username", "manager__username"]);
    }

    #[test]
    fn paths_that_cross_a_secret_are_never_searched_sorted_or_filtered_on() {
        let facts = json!({
            "protocol": 1,
            "settings": {"redact_fields": ["token"], "user_model": "accounts.Person"},
            "models": [{"label": "shop.Order", "app_label": "shop", "model_name": "order", "object_name": "Order",
                        "verbose_name": "order", "verbose_name_plural": "orders", "pk": "id", "fields": [
                {"name": "id", "kind": "AutoField", "primary_key": true},
                {"name": "buyer", "kind": "ForeignKey", "related_model": "accounts.Person"},
                {"name": "note", "kind": "CharField"},
            ]}],
            "admins": [{"id": "admin/shop.order", "model": "shop.Order",
                "search_fields": ["note", "^buyer__password", "=buyer__token", "buyer__name"],
                "list_display": [{"name": "who", "order_field": "-buyer__password"}, {"name": "buyer__key"}],
                "list_filter": [{"name": "buyer__password", "kind": "field", "path": "buyer__password"},
                                {"name": "note", "kind": "field", "path": "note"}],
                "paths": {
                    "note": ["shop.Order.note"],
                    "buyer__password": ["shop.Order.buyer", "accounts.Person.password"],
                    "buyer__token": ["shop.Order.buyer", "accounts.Person.token"],
                    "buyer__name": ["shop.Order.buyer", "accounts.Person.name"],
                    // Our own keys' hashes are secret whatever the settings say.
                    "buyer__key": ["shop.Order.buyer", "accounts.Person.key", "django_mcp.MCPAPIKey.secret_hash"],
                }}],
        });
        let (cat, warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        assert_eq!(
            warnings,
            ["admin/shop.order: list_filter entry 'buyer__password' left out: it filters on a redacted field"]
        );
        let input = input_schema(&cat, "list_shop_order");
        assert_eq!(input["properties"]["q"]["description"], json!("Search orders by note, buyer name."));
        assert_eq!(input["properties"]["ordering"]["pattern"], json!("^-?(id)(,-?(id))*$"));
        assert_eq!(input["properties"]["filters"]["required"], json!(null));
        let filters: Vec<&String> = input["properties"]["filters"]["properties"].as_object().unwrap().keys().collect();
        assert_eq!(filters, ["note"]);
        let tool = cat.tool("list_shop_order").unwrap();
        let crate::derive::Operation::AdminList { cleared, .. } = &tool.spec.operation else { panic!("not a list") };
        assert_eq!(cleared, &["id", "who", "note", "buyer__name"]);
    }

    #[test]
    fn a_change_form_given_as_the_add_form_takes_its_fields() {
        let add = json!([{"name": "name", "kind": "CharField", "required": true, "max_length": 150}]);
        let same = catalogue(json!({"id": "a/g", "model": "auth.Group", "forms": {"add": add, "change": "add"}}));
        let spelled = catalogue(json!({"id": "a/g", "model": "auth.Group", "forms": {"add": add, "change": add}}));
        assert_eq!(
            same.tool("update_auth_group").unwrap().descriptor,
            spelled.tool("update_auth_group").unwrap().descriptor
        );
        assert_eq!(
            input_schema(&same, "update_auth_group")["properties"]["fields"]["properties"]["name"]["maxLength"],
            json!(150)
        );
        // Without an add form there is nothing to take: no update tool, as with no change form.
        let neither = catalogue(json!({"id": "a/g", "model": "auth.Group", "forms": {"add": null, "change": "add"}}));
        assert!(neither.tool("update_auth_group").is_none() && neither.tool("create_auth_group").is_none());
        let facts =
            json!({"protocol": 1, "admins": [{"id": "a/g", "model": "auth.Group", "forms": {"change": "edit"}}]});
        let refused = serde_json::from_value::<crate::facts::Facts>(facts).unwrap_err().to_string();
        assert!(refused.contains("\"add\""), "{refused}");
    }
}
