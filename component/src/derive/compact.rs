//! A descriptor is context a client pays for on every `tools/list`: each rule here keeps a
//! tool's schemas from saying a thing twice, or at length where a pointer will do.
//!
//! - A choice list longer than `MAX_INLINE_CHOICES` leaves the schema: the argument becomes a
//!   plain value whose description names a prompt whose argument `value` completes to the
//!   list (`completion/complete`), and the engine still validates against the whole list.
//! - A property's title goes when it only humanises the name, or beside a description (which
//!   says more: a label is for forms, an agent reads the name and the description); a tool's
//!   title goes when it only humanises its name (`describe`).
//! - The output schema explains its objects' fields only for a tool that reads, and only
//!   those its input does not take (a tool that writes answers with the object its read
//!   tool explains); it states no bounds or lengths: it says the result's shape (a pattern stays: it tells a decimal
//!   or a duration from any string).
//! - What is published (`publish`) leaves to the engine what a model would not send anyway:
//!   `additionalProperties: false` (every derived object is closed) and the type of the
//!   members of a map's list values; an output schema lists no
//!   `required` (it says the result's shape, not a contract to check). Calls are validated
//!   against the whole schema, kept beside the descriptor. A custom tool's schemas are
//!   published as their author wrote them.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::resources::{PromptSpec, Renderer};
use super::{Catalogue, Gate, Operation, ToolSpec};
use crate::facts::{PromptArgumentFacts, ToolNames};
use crate::schema::validate::type_name;

/// Longer choice lists are completed, not listed in the descriptor.
pub const MAX_INLINE_CHOICES: usize = 50;

/// The prompts that complete the long choice lists, by the list and the gate of the tools
/// using it: one prompt per list a set of callers may see.
#[derive(Default)]
pub struct ChoicePrompts(HashMap<(String, Gate), usize>);

/// Apply the rules to `spec`'s schemas; the prompts for its long choice lists join `cat`.
pub fn compact(spec: &mut ToolSpec, cat: &mut Catalogue, prompts: &mut ChoicePrompts) {
    // Without prompts (DJANGO_MCP_RESOURCES off) nothing could list the values: they stay.
    if !cat.settings.resources_disabled {
        let mut mover = ChoiceMover { spec_name: &spec.name, spec_alias: &spec.alias, gate: &spec.gate, cat, prompts };
        mover.walk(&mut spec.input_schema, "");
        mover.walk(&mut spec.output_schema, "");
    }
    drop_redundant_titles(&mut spec.input_schema);
    drop_redundant_titles(&mut spec.output_schema);
    let mut taken = HashSet::new();
    property_names(&spec.input_schema, &mut taken);
    let explained_elsewhere = |name: &str| !spec.hints.read_only || taken.contains(name);
    drop_explained(&mut spec.output_schema, &explained_elsewhere, 0);
    drop_constraints(&mut spec.output_schema);
}

struct ChoiceMover<'a> {
    spec_name: &'a str,
    spec_alias: &'a str,
    gate: &'a Gate,
    cat: &'a mut Catalogue,
    prompts: &'a mut ChoicePrompts,
}

impl ChoiceMover<'_> {
    fn walk(&mut self, schema: &mut Value, path: &str) {
        let Some(obj) = schema.as_object_mut() else { return };
        let long = obj.get("enum").and_then(Value::as_array).is_some_and(|values| values.len() > MAX_INLINE_CHOICES);
        if long {
            self.move_out(obj, path);
        }
        for (key, child) in obj.iter_mut() {
            match key.as_str() {
                "properties" => {
                    if let Some(props) = child.as_object_mut() {
                        for (name, property) in props.iter_mut() {
                            let at = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                            self.walk(property, &at);
                        }
                    }
                }
                "items" | "additionalProperties" => self.walk(child, path),
                "anyOf" => child.as_array_mut().into_iter().flatten().for_each(|option| self.walk(option, path)),
                _ => {}
            }
        }
    }

    /// Replace the enum of `obj` with the type of its values and a description naming the
    /// prompt that completes them; the validator keeps the list under that description.
    fn move_out(&mut self, obj: &mut Map<String, Value>, path: &str) {
        let Some(Value::Array(values)) = obj.remove("enum") else { return };
        if !obj.contains_key("type") {
            obj.insert("type".into(), type_of(&values));
        }
        let prompt = self.prompt_for(&values, path);
        let place = format!("completed for the argument `value` of the prompt `{prompt}`");
        let pointer = format!("One of the values {place}.");
        let description = match obj.get("description").and_then(Value::as_str) {
            Some(help) => format!("{help} {pointer}"),
            None => pointer,
        };
        self.cat.patterns.keep_choices(&description, values, place);
        obj.insert("description".into(), Value::String(description));
    }

    /// The name of the prompt completing `values` for this tool's callers, derived once.
    fn prompt_for(&mut self, values: &[Value], path: &str) -> String {
        let key = (Value::Array(values.to_vec()).to_string(), self.gate.clone());
        if let Some(&place) = self.prompts.0.get(&key) {
            let prompt = &mut self.cat.prompts[place];
            if !prompt.serves.iter().any(|tool| tool == self.spec_name) {
                prompt.serves.extend([self.spec_name.to_string(), self.spec_alias.to_string()]);
            }
            return prompt.name.clone();
        }
        let name = match self.cat.settings.tool_names {
            ToolNames::Portable => format!("{}_{}_choices", self.spec_name, path.replace('.', "_")),
            ToolNames::Dotted => format!("prompt.choices.{}.{path}", self.spec_name),
        };
        let choices: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        self.cat.prompts.push(PromptSpec {
            name: name.clone(),
            title: Some(format!("Values of {path} for {}", self.spec_name)),
            description: Some(format!("Completes the values `{path}` of the tool `{}` accepts.", self.spec_name)),
            arguments: vec![PromptArgumentFacts { name: "value".into(), description: None, required: true, choices }],
            gate: self.gate.clone(),
            renderer: Renderer::Body(format!("Call the tool `{}` with {path} = {{value}}.", self.spec_name)),
            objects: None,
            serves: vec![self.spec_name.to_string(), self.spec_alias.to_string()],
        });
        self.prompts.0.insert(key, self.cat.prompts.len() - 1);
        name
    }
}

/// The JSON type of a list of values: a form's choice field has none of its own.
fn type_of(values: &[Value]) -> Value {
    let mut types: Vec<&str> = Vec::new();
    for v in values {
        let t = type_name(v);
        if !types.contains(&t) {
            types.push(t);
        }
    }
    match types.as_slice() {
        [one] => json!(one),
        _ => json!(types),
    }
}

/// Remove each property title that only repeats its name (`created_at`: "Created at") or
/// stands beside a description.
fn drop_redundant_titles(schema: &mut Value) {
    each_schema(schema, &mut |obj| {
        let Some(Value::Object(props)) = obj.get_mut("properties") else { return };
        for (name, property) in props.iter_mut() {
            let Some(p) = property.as_object_mut() else { continue };
            let Some(title) = p.get("title").and_then(Value::as_str) else { continue };
            if p.contains_key("description") || names_only(title, name) {
                p.remove("title");
            }
        }
    });
}

/// Whether `title` says no more than `name` humanised (`created_at`: "Created at").
pub fn names_only(title: &str, name: &str) -> bool {
    title.eq_ignore_ascii_case(&name.replace('_', " "))
}

/// The names of the properties `schema` takes, at any depth.
fn property_names(schema: &Value, names: &mut HashSet<String>) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get("properties") {
                names.extend(props.keys().cloned());
            }
            obj.values().for_each(|v| property_names(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, names)),
        _ => {}
    }
}

/// Drop the title and description of each field of the result's objects (below the top
/// level, where the answer's own envelope is) explained elsewhere.
fn drop_explained(schema: &mut Value, explained: &dyn Fn(&str) -> bool, depth: usize) {
    let Some(obj) = schema.as_object_mut() else { return };
    for (key, child) in obj.iter_mut() {
        match key.as_str() {
            "properties" => {
                for (name, property) in child.as_object_mut().into_iter().flatten() {
                    if depth > 0 && explained(name) {
                        if let Some(p) = property.as_object_mut() {
                            p.remove("title");
                            p.remove("description");
                        }
                    }
                    drop_explained(property, explained, depth + 1);
                }
            }
            "items" | "additionalProperties" => drop_explained(child, explained, depth),
            "anyOf" => child.as_array_mut().into_iter().flatten().for_each(|o| drop_explained(o, explained, depth)),
            _ => {}
        }
    }
}

/// The input schema a tool's calls are validated against: the published one, or the whole
/// one where publishing left constraints to the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Validation {
    /// The published schema says all.
    Published,
    /// The published schema with each object that lists properties closed again
    /// (`additionalProperties: false`): all that publishing takes out of most tools, so most
    /// keep no second copy of their schema.
    PublishedClosed,
    /// The whole schema, as JSON text: publishing took out more than that.
    Whole(Box<str>),
}

impl Validation {
    /// The schema itself, given the published one's JSON text.
    pub fn schema(&self, published: &str) -> Value {
        let text = match self {
            Validation::Published | Validation::PublishedClosed => published,
            Validation::Whole(whole) => whole,
        };
        let mut schema = serde_json::from_str(text).expect("the catalogue rendered it");
        if *self == Validation::PublishedClosed {
            close(&mut schema);
        }
        schema
    }
}

/// Trim `spec`'s schemas to what is published; what calls are validated against when the
/// whole input schema says more.
pub fn publish(spec: &mut ToolSpec) -> Validation {
    if let Operation::Custom { .. } = spec.operation {
        return Validation::Published;
    }
    // Whether the published schema, closed again, is the whole one: publishing takes out only
    // `additionalProperties: false`, and only from objects that list properties, and every
    // such object had it. Asked before trimming, so that only a tool that keeps its whole
    // schema renders it.
    let mut closes_back = true;
    each_schema(&mut spec.input_schema, &mut |schema| {
        closes_back &= match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => schema.contains_key("properties"),
            Some(Value::Object(values)) => !values.contains_key("items"),
            Some(_) => true,
            None => !schema.contains_key("properties"),
        };
    });
    let whole = (!closes_back).then(|| serde_json::to_string(&spec.input_schema).expect("schemas serialise"));
    let mut trimmed = false;
    each_schema(&mut spec.input_schema, &mut |schema| {
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            trimmed |= schema.remove("additionalProperties").is_some();
        }
        if let Some(Value::Object(values)) = schema.get_mut("additionalProperties") {
            trimmed |= values.remove("items").is_some();
        }
    });
    each_schema(&mut spec.output_schema, &mut |schema| {
        schema.remove("required");
    });
    match whole {
        _ if !trimmed => Validation::Published,
        None => Validation::PublishedClosed,
        Some(whole) => Validation::Whole(whole.into_boxed_str()),
    }
}

/// Close each object schema in `schema` that lists properties and says nothing of others.
fn close(schema: &mut Value) {
    each_schema(schema, &mut |obj| {
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
            obj.insert("additionalProperties".into(), Value::Bool(false));
        }
    });
}

/// Call `f` on every schema in `schema` (itself, its properties, items, map values and
/// options), innermost first: keywords only, never a property that has a keyword's name.
fn each_schema(schema: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Some(obj) = schema.as_object_mut() else { return };
    for (key, child) in obj.iter_mut() {
        match key.as_str() {
            "properties" => child.as_object_mut().into_iter().flatten().for_each(|(_, p)| each_schema(p, f)),
            "items" | "additionalProperties" => each_schema(child, f),
            "anyOf" | "oneOf" | "allOf" => child.as_array_mut().into_iter().flatten().for_each(|o| each_schema(o, f)),
            _ => {}
        }
    }
    f(obj);
}

/// The keywords that only bound values: a result's reader needs its shape, not them.
const CONSTRAINTS: [&str; 7] = ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems"];

fn drop_constraints(schema: &mut Value) {
    each_schema(schema, &mut |obj| {
        for key in CONSTRAINTS {
            obj.remove(key);
        }
        // `anyOf: [{"format": "uri"}, {"maxLength": 0}]` is left with an option that admits anything.
        if obj.get("anyOf").and_then(Value::as_array).is_some_and(|options| options.iter().any(|o| o == &json!({}))) {
            obj.remove("anyOf");
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::derive::Catalogue;
    use crate::protocol::testing::reply_to;
    use crate::schema::validate::validate;

    /// A group admin whose `zone` filter and change form field choose among `zones` time zones.
    fn catalogue(zones: usize) -> Catalogue {
        let choices: Vec<Value> = (0..zones).map(|i| json!([format!("Zone/{i:03}"), format!("Zone/{i:03}")])).collect();
        let facts = json!({
            "protocol": 1,
            "models": [{"label": "auth.Group", "app_label": "auth", "model_name": "group", "object_name": "Group",
                        "verbose_name": "group", "verbose_name_plural": "groups", "pk": "id", "fields": [
                {"name": "id", "kind": "AutoField", "primary_key": true},
                {"name": "created_at", "kind": "DateTimeField", "verbose_name": "created at"},
                {"name": "size", "kind": "PositiveIntegerField", "verbose_name": "member count"},
                {"name": "zone", "kind": "CharField", "max_length": 40, "verbose_name": "time zone",
                 "help_text": "Where the group meets.", "choices": choices},
            ]}],
            "admins": [{"id": "a/g", "model": "auth.Group",
                "list_display": [{"name": "zone", "field": "zone"}, {"name": "created_at", "field": "created_at"},
                                 {"name": "size", "field": "size"}],
                "list_filter": [{"name": "zone", "kind": "choices", "choices": choices}],
                "forms": {"add": [{"name": "zone", "kind": "TypedChoiceField", "label": "Zone", "required": true,
                                   "help_text": "Where the group meets.", "choices": choices}], "change": "add"}}],
        });
        let (cat, warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        cat
    }

    fn descriptor(cat: &Catalogue, tool: &str) -> Value {
        serde_json::from_str(&cat.tool(tool).unwrap().descriptor).unwrap()
    }

    fn check(cat: &Catalogue, tool: &str, arguments: Value) -> Result<(), String> {
        let schema = cat.tool(tool).unwrap().validation_schema();
        validate(&schema, &arguments, &cat.patterns).map_err(|v| v.to_string())
    }

    #[test]
    fn a_long_choice_list_becomes_a_validated_string_completed_by_a_prompt() {
        let cat = catalogue(60);
        let zone = &descriptor(&cat, "create_auth_group")["inputSchema"]["properties"]["zone"];
        let prompt = "create_auth_group_zone_choices";
        let pointer = format!(
            "Where the group meets. One of the values completed for the argument `value` of the prompt `{prompt}`."
        );
        assert_eq!(zone, &json!({"type": "string", "description": pointer}));
        assert!(check(&cat, "create_auth_group", json!({"zone": "Zone/059"})).is_ok());
        assert_eq!(
            check(&cat, "create_auth_group", json!({"zone": "Europe/Paris"})).unwrap_err(),
            format!("zone: must be one of the values completed for the argument `value` of the prompt `{prompt}`")
        );
        // The filter is checked too, against its own prompt's list.
        assert!(check(&cat, "list_auth_group", json!({"filters": {"zone": "Mars/Olympus"}}))
            .unwrap_err()
            .contains("list_auth_group_filters_zone_choices"));

        let context = json!({"principal": {"user_id": 1}});
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete",
                             "params": {"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": "value", "value": "Zone/05"}}});
        let reply = reply_to(&cat, message, &context, |_| json!(true));
        let completion = &reply["result"]["completion"];
        assert_eq!(completion["values"][0], json!("Zone/050"), "{reply}");
        assert_eq!(completion["total"], json!(10));
    }

    #[test]
    fn a_key_allowed_a_tool_may_complete_the_choices_its_schema_points_to() {
        let cat = catalogue(60);
        let prompt = "create_auth_group_zone_choices";
        let complete = |allowed: Value| {
            let context = json!({"principal": {"user_id": 1, "allowed_tools": allowed}});
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete",
                                 "params": {"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": "value", "value": "Zone/05"}}});
            reply_to(&cat, message, &context, |_| json!(true))
        };
        assert_eq!(complete(json!(["create_auth_group"]))["result"]["completion"]["values"][0], json!("Zone/050"));
        let alias = cat.tool("create_auth_group").unwrap().spec.alias.clone();
        assert!(complete(json!([alias])).get("result").is_some(), "the tool's other name lets it through too");
        // Another tool's allowlist does not reach this tool's choices.
        let refused = complete(json!(["list_auth_group"]));
        assert_eq!(refused["error"]["code"], json!(-32003), "{refused}");
    }

    #[test]
    fn a_short_choice_list_stays_an_enum() {
        let cat = catalogue(50);
        let zone = &descriptor(&cat, "create_auth_group")["inputSchema"]["properties"]["zone"];
        assert_eq!(zone["enum"].as_array().map(Vec::len), Some(50));
        assert!(cat.prompt("create_auth_group_zone_choices").is_none());
    }

    #[test]
    fn titles_say_more_than_the_name_and_outputs_explain_only_what_is_read() {
        let cat = catalogue(3);
        let update = descriptor(&cat, "update_auth_group");
        // A form label beside the help text goes; the help text stays.
        let input = &update["inputSchema"]["properties"]["fields"]["properties"]["zone"];
        assert_eq!(
            input,
            &json!({"enum": ["Zone/000", "Zone/001", "Zone/002"], "description": "Where the group meets."})
        );
        // A tool that writes answers with the object `get` explains: shape only.
        let written = &update["outputSchema"]["properties"]["object"]["properties"];
        assert_eq!(written["size"], json!({"type": "integer"}));
        let read = &descriptor(&cat, "get_auth_group")["outputSchema"]["properties"]["object"]["properties"];
        assert!(read["created_at"].get("title").is_none(), "{read}");
        assert_eq!(read["size"], json!({"type": "integer", "title": "Member count"}));
        assert_eq!(read["zone"]["description"], json!("Where the group meets."));
        assert!(read["zone"].get("title").is_none() && read["zone"].get("maxLength").is_none(), "{read}");
        // A list's filter explains its field; the rows do not again.
        let rows = &descriptor(&cat, "list_auth_group")["outputSchema"]["properties"]["results"]["items"]["properties"];
        assert!(rows["zone"].get("description").is_none(), "{rows}");
    }

    #[test]
    fn what_is_published_leaves_closed_objects_to_the_engine() {
        let cat = catalogue(3);
        let list = descriptor(&cat, "list_auth_group");
        let published = &list["inputSchema"];
        assert!(published.get("additionalProperties").is_none(), "{published}");
        assert!(list["outputSchema"].get("required").is_none(), "{list}");
        // The engine still refuses what the published schema no longer spells out.
        let refused = check(&cat, "list_auth_group", json!({"colour": "red"})).unwrap_err();
        assert!(refused.contains("colour"), "{refused}");
        let update = descriptor(&cat, "update_auth_group");
        assert!(update["inputSchema"]["properties"]["fields"].get("additionalProperties").is_none(), "{update}");
        assert!(check(&cat, "update_auth_group", json!({"pk": 1, "fields": {"colour": "red"}})).is_err());
        assert!(check(&cat, "update_auth_group", json!({"pk": 1, "fields": {"zone": "Zone/001"}})).is_ok());
    }

    #[test]
    fn a_tool_whose_objects_publishing_opened_keeps_no_copy_of_its_whole_schema() {
        let cat = catalogue(3);
        for name in ["list_auth_group", "update_auth_group"] {
            assert_eq!(cat.tool(name).unwrap().validation, super::Validation::PublishedClosed, "{name}");
        }
    }
}
