//! Search rules: each `DJANGO_MCP_MODEL_SEARCH` entry becomes a search tool — `q` over its
//! search fields, `filters` on its filter fields only, `ordering` by its result fields, and
//! results that carry only the fields it allows (secrets masked even then).

use serde_json::{json, Map, Value};

use super::admin::{humanise_list, ordering_schema, resolve_path, MAX_PAGE_SIZE};
use super::{names, Catalogue, Gate, Hints, Operation, SearchOperation, ToolSpec};
use crate::facts::{FieldFacts, ModelFacts, SearchFacts};
use crate::schema::fields::{field_schema, object_schema, page_schema, ModelIndex, Paging};

pub fn tool_for(cat: &Catalogue, search: &SearchFacts, warnings: &mut Vec<String>) -> Option<ToolSpec> {
    let Some(model) = cat.model(&search.model) else {
        warnings.push(format!("search {}: the model was not described; skipped", search.model));
        return None;
    };
    let plural = &model.verbose_name_plural;
    let fields: Vec<&FieldFacts> = match &search.fields {
        Some(named) => named.iter().filter_map(|f| model.field(f)).collect(),
        None => default_fields(model, search),
    };
    let masked: Vec<String> =
        fields.iter().filter(|f| cat.is_redacted(model, &f.name)).map(|f| f.name.clone()).collect();
    let row: Map<String, Value> = fields
        .iter()
        .map(|f| {
            let schema = if masked.contains(&f.name) {
                json!({"type": ["string", "null"], "description": "Redacted: never sent."})
            } else {
                field_schema(f, cat)
            };
            (f.name.clone(), schema)
        })
        .collect();

    let mut props = Map::new();
    if !search.search_fields.is_empty() {
        props.insert(
            "q".into(),
            json!({"type": "string", "maxLength": 500,
            "description": format!("Search {plural} by {}.", humanise_list(&search.search_fields))}),
        );
    }
    let mut filters = Vec::new();
    let mut filter_props = Map::new();
    for name in &search.filter_fields {
        match resolve_path(cat, model, name) {
            Some(field) => {
                let one = FieldFacts { many: false, null: true, ..field.clone() };
                filter_props.insert(name.clone(), field_schema(&one, cat));
                filters.push(name.clone());
            }
            None => warnings
                .push(format!("search {}: filter field {name:?} could not be described; not offered", search.model)),
        }
    }
    if !filters.is_empty() {
        let mut schema = object_schema(filter_props, &[], true);
        schema["description"] = json!("Exact values (null for none); only these fields.");
        props.insert("filters".into(), schema);
    }
    let orderable: Vec<String> =
        fields.iter().filter(|f| !f.many && !masked.contains(&f.name)).map(|f| f.name.clone()).collect();
    if !orderable.is_empty() {
        let names: Vec<&str> = orderable.iter().map(String::as_str).collect();
        props.insert("ordering".into(), ordering_schema(&names, "fields"));
    }
    let per_page = cat.settings.page_size.clamp(1, MAX_PAGE_SIZE as usize) as u64;
    props.insert("page".into(), json!({"type": "integer", "minimum": 1}));
    props.insert(
        "page_size".into(),
        json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": per_page}),
    );

    let output = page_schema(object_schema(row, &[], false), Paging::Numbered);
    let portable = names::portable_of(&["search", &model.app_label, &model.model_name]);
    let dotted = format!("model.search:{}", model.label);
    let (name, alias) = names::ordered(cat.settings.tool_names, portable, dotted);
    // The arguments say what is searched and filtered; the output schema what results carry.
    let description = format!("Search {plural}.");
    Some(ToolSpec {
        name,
        alias,
        title: format!("Search {plural}"),
        description,
        input_schema: object_schema(props, &[], true),
        output_schema: output,
        hints: Hints { read_only: true, destructive: false, idempotent: true },
        // Whoever its effect would serve: the host judges the entry and its admin together.
        gate: Gate::Search { model: search.model.clone() },
        operation: Operation::Search(Box::new(SearchOperation {
            model: model.label.clone(),
            admin: search.admin.clone(),
            search_fields: search.search_fields.clone(),
            filters,
            fields: fields.iter().map(|f| f.name.clone()).collect(),
            masked,
            default_page_size: per_page,
        })),
    })
}

/// The result fields of an entry that names none: the pk, then its own search and filter
/// fields on the model itself (never one across a relation), each once; never every field.
fn default_fields<'a>(model: &'a ModelFacts, search: &SearchFacts) -> Vec<&'a FieldFacts> {
    let names = std::iter::once(&model.pk).chain(&search.search_fields).chain(&search.filter_fields);
    let mut fields: Vec<&FieldFacts> = Vec::new();
    for field in names.filter_map(|name| model.field(name)) {
        if !fields.iter().any(|f| f.name == field.name) {
            fields.push(field);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::derive::{Catalogue, Operation};

    #[test]
    fn an_entry_naming_no_fields_returns_the_pk_and_its_own_search_and_filter_fields() {
        let facts = json!({
            "protocol": 1,
            "models": [{"label": "library.Book", "app_label": "library", "model_name": "book", "object_name": "Book",
                        "verbose_name": "book", "verbose_name_plural": "books", "pk": "id", "fields": [
                {"name": "id", "kind": "AutoField", "primary_key": true},
                {"name": "title", "kind": "CharField"},
                {"name": "price", "kind": "DecimalField"},
                {"name": "status", "kind": "CharField"},
                {"name": "author", "kind": "ForeignKey", "related_model": "library.Author"},
                {"name": "tags", "kind": "ManyToManyField", "related_model": "library.Tag", "many": true},
            ]}],
            "searches": [
                {"model": "library.Book", "search_fields": ["title", "author__name"],
                 "filter_fields": ["status", "author", "author__name", "tags", "title"],
                 "permission": "library.view_book"},
            ],
        });
        let (cat, _warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        let Operation::Search(search) = &cat.tool("search_library_book").unwrap().spec.operation else {
            panic!("not a search")
        };
        assert_eq!(&search.fields, &["id", "title", "status", "author", "tags"]);
    }
}
