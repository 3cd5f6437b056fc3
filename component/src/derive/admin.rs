//! Admin rules: every registered `ModelAdmin` becomes a list and a retrieve tool, shaped by
//! the declarations Django already has (`list_display`, `search_fields`, `list_filter`,
//! `ordering`, `list_per_page`).

use serde_json::{json, Map, Value};

use super::{names, Catalogue, Gate, Operation, ToolSpec};
use crate::facts::{AdminFacts, FieldFacts, ModelFacts, ToolNames};
use crate::schema::fields::{capitalise, field_schema, object_schema};

pub const MAX_PAGE_SIZE: u64 = 1000;
const STR_COLUMN: &str = "__str__";

/// The tools of one ModelAdmin; `warnings` collects what had to be left out.
pub fn tools_for(
    cat: &Catalogue,
    admin_index: usize,
    admin: &AdminFacts,
    model: &ModelFacts,
    warnings: &mut Vec<String>,
) -> Vec<ToolSpec> {
    let gate = Gate::AdminView { admin: admin.id.clone() };
    vec![list_tool(cat, admin_index, admin, model, gate.clone(), warnings), retrieve_tool(cat, admin_index, admin, model, gate)]
}

fn names_for(cat: &Catalogue, admin: &AdminFacts, model: &ModelFacts, verb: &str) -> (String, String) {
    let portable = names::portable(&admin.site, verb, &model.app_label, &model.model_name);
    let dotted_verb = if verb == "get" { "retrieve" } else { verb };
    let dotted = names::dotted(dotted_verb, &model.label);
    match cat.settings.tool_names {
        ToolNames::Portable => (portable, dotted),
        ToolNames::Dotted => (dotted, portable),
    }
}

fn list_tool(
    cat: &Catalogue,
    admin_index: usize,
    admin: &AdminFacts,
    model: &ModelFacts,
    gate: Gate,
    warnings: &mut Vec<String>,
) -> ToolSpec {
    let plural = &model.verbose_name_plural;
    let columns = list_columns(admin, model);
    let masked: Vec<String> = columns.iter().filter(|c| cat.is_redacted(model, c)).cloned().collect();

    let mut row = Map::new();
    for column in &columns {
        row.insert(column.clone(), column_schema(cat, model, column));
    }
    let row_schema = object_schema(row, &[model.pk.as_str()], false);

    let mut props = Map::new();
    let searchable = !admin.search_fields.is_empty();
    if searchable {
        props.insert("q".into(), json!({"type": "string", "maxLength": 500,
            "description": format!("Search {plural} by {}.", humanise_list(&admin.search_fields))}));
    }
    let filterable = filter_fields(admin, model, warnings);
    if !filterable.is_empty() {
        let mut filter_props = Map::new();
        for field in &filterable {
            // The admin filters a many-to-many by one related object (`groups__id__exact`),
            // and so does the host (`filter(groups=pk)`): the value is one pk, not a list.
            let one = FieldFacts { many: false, ..field.clone() };
            filter_props.insert(field.name.clone(), field_schema(&one, cat));
        }
        let mut filters = object_schema(filter_props, &[], true);
        filters["description"] = json!("Exact-match filters, from the admin's list_filter.");
        props.insert("filters".into(), filters);
    }
    let orderable = orderable_fields(admin, model);
    let alternatives = orderable.iter().map(|f| regex_escape(f)).collect::<Vec<_>>().join("|");
    props.insert("ordering".into(), json!({
        "type": "string",
        "pattern": format!("^-?({alternatives})(,-?({alternatives}))*$"),
        "description": format!("Comma-separated fields, '-' for descending: {}.", orderable.join(", ")),
    }));
    props.insert("page".into(), json!({"type": "integer", "minimum": 1, "default": 1}));
    let per_page = admin.list_per_page.clamp(1, MAX_PAGE_SIZE);
    props.insert("page_size".into(), json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": per_page}));

    let output = object_schema(
        Map::from_iter([
            ("results".to_string(), json!({"type": "array", "items": row_schema})),
            ("count".to_string(), json!({"type": "integer", "minimum": 0})),
            ("page".to_string(), json!({"type": "integer", "minimum": 1})),
            ("page_size".to_string(), json!({"type": "integer", "minimum": 1})),
        ]),
        &["results", "count", "page", "page_size"],
        false,
    );

    let mut description = format!("List {plural} from the Django admin, {per_page} per page by default.");
    if searchable {
        description.push_str(&format!(" Search with q ({}).", humanise_list(&admin.search_fields)));
    }
    if !filterable.is_empty() {
        let names: Vec<String> = filterable.iter().map(|f| f.name.clone()).collect();
        description.push_str(&format!(" Filter by {}.", names.join(", ")));
    }
    let (name, alias) = names_for(cat, admin, model, "list");
    ToolSpec {
        name,
        alias,
        title: format!("List {plural}"),
        description,
        input_schema: object_schema(props, &[], true),
        output_schema: output,
        read_only: true,
        gate,
        operation: Operation::AdminList {
            admin: admin_index,
            columns,
            masked,
            filterable: filterable.into_iter().map(|f| f.name).collect(),
            default_page_size: per_page,
        },
    }
}

fn retrieve_tool(cat: &Catalogue, admin_index: usize, admin: &AdminFacts, model: &ModelFacts, gate: Gate) -> ToolSpec {
    let fields: Vec<String> = model.fields.iter().map(|f| f.name.clone()).collect();
    let masked: Vec<String> = fields.iter().filter(|f| cat.is_redacted(model, f)).cloned().collect();
    let mut props = Map::new();
    for name in &fields {
        props.insert(name.clone(), column_schema(cat, model, name));
    }
    let object = object_schema(props, &[model.pk.as_str()], false);
    let pk_schema = model.pk_field().map(|f| pk_argument_schema(f, cat)).unwrap_or_else(|| json!({"type": ["integer", "string"]}));
    let (name, alias) = names_for(cat, admin, model, "get");
    ToolSpec {
        name,
        alias,
        title: format!("Get {}", model.verbose_name),
        description: format!(
            "Retrieve one {} by primary key, with the fields the Django admin shows you.",
            model.verbose_name
        ),
        input_schema: object_schema(Map::from_iter([("pk".to_string(), pk_schema)]), &["pk"], true),
        output_schema: object_schema(Map::from_iter([("object".to_string(), object)]), &["object"], false),
        read_only: true,
        gate,
        operation: Operation::AdminRetrieve { admin: admin_index, fields, masked },
    }
}

fn pk_argument_schema(pk: &FieldFacts, cat: &Catalogue) -> Value {
    let mut s = field_schema(pk, cat);
    if let Some(obj) = s.as_object_mut() {
        obj.insert("description".into(), json!("Primary key."));
        obj.remove("title");
    }
    s
}

/// `list_display` entries that name model fields (or `__str__`), always led by the pk.
/// Callables and admin methods need the host to evaluate them: left for the admin surface.
fn list_columns(admin: &AdminFacts, model: &ModelFacts) -> Vec<String> {
    let mut columns = vec![model.pk.clone()];
    for entry in &admin.list_display {
        let known = entry == STR_COLUMN || model.field(entry).is_some_and(|f| !f.many);
        if known && !columns.contains(entry) {
            columns.push(entry.clone());
        }
    }
    columns
}

fn column_schema(cat: &Catalogue, model: &ModelFacts, column: &str) -> Value {
    if column == STR_COLUMN {
        return json!({"type": "string", "title": capitalise(&model.verbose_name)});
    }
    let Some(field) = model.field(column) else { return json!({}) };
    if cat.is_redacted(model, column) {
        return json!({"type": ["string", "null"], "description": "Redacted: never sent."});
    }
    field_schema(field, cat)
}

fn filter_fields(admin: &AdminFacts, model: &ModelFacts, warnings: &mut Vec<String>) -> Vec<FieldFacts> {
    let mut out = Vec::new();
    for entry in &admin.list_filter {
        match model.field(entry) {
            Some(field) => out.push(field.clone()),
            None => warnings.push(format!(
                "{}: list_filter entry {entry:?} is not a field of {}; not offered as a filter",
                admin.id, model.label
            )),
        }
    }
    out
}

/// What the admin changelist can sort by: its field columns, its ordering, and the pk.
fn orderable_fields(admin: &AdminFacts, model: &ModelFacts) -> Vec<String> {
    let mut out = vec![model.pk.clone()];
    let from_ordering = admin.ordering.iter().map(|o| o.trim_start_matches('-').to_string());
    for name in admin.list_display.iter().cloned().chain(from_ordering) {
        if model.field(&name).is_some_and(|f| !f.many) && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn humanise_list(items: &[String]) -> String {
    items.iter().map(|s| s.trim_start_matches(['^', '=', '@']).replace("__", " ")).collect::<Vec<_>>().join(", ")
}

fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_ascii_alphanumeric() || c == '_' { vec![c] } else { vec!['\\', c] }).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::derive::Catalogue;

    #[test]
    fn a_many_to_many_filter_takes_one_pk() {
        let facts = json!({
            "protocol": 1,
            "models": [
                {"label": "auth.User", "app_label": "auth", "model_name": "user", "object_name": "User",
                 "verbose_name": "user", "verbose_name_plural": "users", "pk": "id", "fields": [
                    {"name": "id", "kind": "AutoField", "primary_key": true},
                    {"name": "groups", "kind": "ManyToManyField", "related_model": "auth.Group", "many": true},
                ]},
                {"label": "auth.Group", "app_label": "auth", "model_name": "group", "object_name": "Group",
                 "verbose_name": "group", "verbose_name_plural": "groups", "pk": "id", "fields": [
                    {"name": "id", "kind": "AutoField", "primary_key": true},
                ]},
            ],
            "admins": [{"id": "admin/auth.user", "site": "admin", "model": "auth.User", "list_filter": ["groups"]}],
        });
        let (cat, warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let list = cat.tool("list_auth_user").unwrap();
        let groups = &list.spec.input_schema["properties"]["filters"]["properties"]["groups"];
        assert_eq!(groups["type"], json!("integer"));
    }
}
