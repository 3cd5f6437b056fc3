//! Resources and prompts: every admin-registered model (and `DJANGO_MCP_RESOURCE_MODELS`)
//! becomes a resource template for its objects and one per file field; every admin action a
//! prompt parallel to its tool; `DJANGO_MCP_PROMPTS` entries user prompts; custom items join
//! them as declared.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::{Catalogue, Gate, Operation, Permission};
use crate::facts::{
    CustomPromptFacts, CustomResourceFacts, ModelFacts, PromptArgumentFacts, ToolNames, UserPromptFacts,
};
use crate::schema::fields::ModelIndex;

/// Where a model resource's objects come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A ModelAdmin: `get_queryset`, `has_view_permission`, the fields it shows.
    Admin(String),
    /// A `DJANGO_MCP_RESOURCE_MODELS` model: its default manager.
    Model(String),
}

impl Source {
    pub fn to_json(&self) -> Value {
        match self {
            Source::Admin(id) => json!({"admin": id}),
            Source::Model(label) => json!({"model": label}),
        }
    }
}

/// How the host reads a resource.
#[derive(Debug, Clone)]
pub enum Reader {
    Custom {
        completions: BTreeMap<String, Vec<String>>,
    },
    /// One object as JSON (`{pk}` in the URI).
    Object {
        source: Source,
        label: String,
        /// Shared with its admin's retrieve tool, when it reads through one.
        fields: Arc<[String]>,
        masked: Arc<[String]>,
    },
    /// One file field of one object.
    File {
        source: Source,
        field: String,
    },
}

/// A concrete resource (`uri`) or a template (`uri` holds `{variables}`).
#[derive(Debug, Clone)]
pub struct ResourceSpec {
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub gate: Gate,
    pub reader: Reader,
}

impl ResourceSpec {
    pub fn custom(facts: &CustomResourceFacts) -> ResourceSpec {
        ResourceSpec {
            uri: facts.uri.clone(),
            name: facts.name.clone(),
            title: facts.title.clone(),
            description: facts.description.clone(),
            mime_type: facts.mime_type.clone(),
            gate: Gate::User { permission: facts.permission.clone() },
            reader: Reader::Custom { completions: facts.completions.clone() },
        }
    }

    /// Where the objects behind a model template come from, for listing and completion.
    pub fn objects(&self) -> Option<&Source> {
        match &self.reader {
            Reader::Object { source, .. } | Reader::File { source, .. } => Some(source),
            Reader::Custom { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Renderer {
    Custom,
    /// A message asking for the parallel admin action tool.
    Action {
        tool: String,
        what: String,
        plural: String,
    },
    /// `DJANGO_MCP_PROMPTS`: `{argument}` placeholders filled in.
    Body(String),
}

#[derive(Debug, Clone)]
pub struct PromptSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArgumentFacts>,
    pub gate: Gate,
    pub renderer: Renderer,
    /// The admin whose objects complete a `pks` argument.
    pub objects: Option<Source>,
    /// The tools whose long choice lists this prompt completes: their schemas point here, so
    /// an allowlist naming one of them lets it through.
    pub serves: Vec<String>,
}

impl PromptSpec {
    pub fn custom(facts: &CustomPromptFacts) -> PromptSpec {
        PromptSpec {
            name: facts.name.clone(),
            title: facts.title.clone(),
            description: facts.description.clone(),
            arguments: facts.arguments.clone(),
            gate: Gate::User { permission: facts.permission.clone() },
            renderer: Renderer::Custom,
            objects: None,
            serves: Vec::new(),
        }
    }

    pub fn user(facts: &UserPromptFacts, names: ToolNames) -> PromptSpec {
        let name = match names {
            ToolNames::Portable => facts.name.clone(),
            ToolNames::Dotted => format!("prompt.user.{}", facts.name),
        };
        PromptSpec {
            name,
            title: None,
            description: Some(facts.description.clone()),
            arguments: facts.arguments.clone(),
            gate: Gate::User { permission: facts.permission.clone() },
            renderer: Renderer::Body(facts.body.clone()),
            objects: None,
            serves: Vec::new(),
        }
    }
}

/// Templates for one model's objects and its file fields.
pub fn model_templates(
    model: &ModelFacts,
    source: Source,
    gate: Gate,
    fields: Arc<[String]>,
    masked: Arc<[String]>,
) -> Vec<ResourceSpec> {
    let label = &model.label;
    let mut templates = vec![ResourceSpec {
        uri: format!("django-mcp://model/{label}/{{pk}}"),
        name: label.clone(),
        title: Some(crate::schema::fields::capitalise(&model.verbose_name)),
        description: Some(format!("One {} by primary key, as JSON: the fields you may see.", model.verbose_name)),
        mime_type: Some("application/json".into()),
        gate: gate.clone(),
        reader: Reader::Object { source: source.clone(), label: label.clone(), fields: Arc::clone(&fields), masked },
    }];
    for field in model.fields.iter().filter(|f| matches!(f.kind.as_str(), "FileField" | "ImageField")) {
        if !fields.contains(&field.name) {
            continue;
        }
        templates.push(ResourceSpec {
            uri: format!("django-mcp://field/{label}/{{pk}}/{}", field.name),
            name: format!("{label}.{}", field.name),
            title: Some(format!(
                "{} of a {}",
                crate::schema::fields::capitalise(&field.verbose_name),
                model.verbose_name
            )),
            description: Some(format!(
                "The file in {}'s {} field, with its real MIME type.",
                model.verbose_name, field.name
            )),
            mime_type: None,
            gate: gate.clone(),
            reader: Reader::File { source: source.clone(), field: field.name.clone() },
        });
    }
    templates
}

/// The resources, templates and prompts derived from the catalogue's admins and the facts.
pub fn derive(
    cat: &mut Catalogue,
    resource_models: &[crate::facts::ResourceModelFacts],
    user_prompts: &[UserPromptFacts],
    warnings: &mut Vec<String>,
) {
    // A model with a ModelAdmin is served through it (get_queryset, has_view_permission),
    // never through its default manager: the admin wins, whether or not it could be described.
    let (administered, resource_models): (Vec<_>, Vec<_>) = resource_models.iter().partition(|e| e.administered);
    warnings.extend(administered.iter().map(|e| {
        format!(
            "DJANGO_MCP_RESOURCE_MODELS: {} is registered with the admin, whose ModelAdmin serves its resources; left out",
            e.model
        )
    }));
    if cat.settings.resources_disabled {
        return;
    }
    let mut templates = Vec::new();
    let mut prompts = Vec::new();
    // A model served by two admins gets its templates from the first.
    let mut templated = HashSet::new();
    for tool in &cat.tools {
        match &tool.spec.operation {
            Operation::AdminRetrieve { admin, fields, masked } => {
                let model = cat.admin_model(*admin);
                if templated.insert(model.label.as_str()) {
                    let id = cat.admin_ids[*admin].clone();
                    let gate = Gate::Admin { admin: id.clone(), permission: Permission::View };
                    templates.extend(model_templates(
                        model,
                        Source::Admin(id),
                        gate,
                        Arc::clone(fields),
                        Arc::clone(masked),
                    ));
                }
            }
            Operation::AdminAction { admin, action } => {
                let model = cat.admin_model(*admin);
                let name = match cat.settings.tool_names {
                    ToolNames::Portable => tool.spec.name.clone(),
                    ToolNames::Dotted => format!("prompt.admin.{}.{action}", model.label),
                };
                prompts.push(PromptSpec {
                    name,
                    title: Some(tool.spec.title.clone()),
                    description: Some(tool.spec.title.clone()),
                    arguments: vec![PromptArgumentFacts {
                        name: "pks".into(),
                        description: Some(format!(
                            "Primary keys of the {} to act on, comma-separated.",
                            model.verbose_name_plural
                        )),
                        required: true,
                        choices: Vec::new(),
                    }],
                    gate: tool.spec.gate.clone(),
                    renderer: Renderer::Action {
                        tool: tool.spec.name.clone(),
                        what: tool.spec.title.clone(),
                        plural: model.verbose_name_plural.clone(),
                    },
                    objects: Some(Source::Admin(cat.admin_ids[*admin].clone())),
                    serves: Vec::new(),
                });
            }
            _ => {}
        }
    }
    for entry in resource_models {
        let Some(model) = cat.model(&entry.model) else { continue };
        let fields: Arc<[String]> = model.fields.iter().map(|f| f.name.clone()).collect();
        let masked = fields.iter().filter(|f| cat.is_redacted(model, f)).cloned().collect();
        let gate = Gate::User { permission: Some(entry.permission.clone()) };
        templates.extend(model_templates(model, Source::Model(model.label.clone()), gate, fields, masked));
    }
    prompts.extend(user_prompts.iter().map(|p| PromptSpec::user(p, cat.settings.tool_names)));
    cat.resource_templates.extend(templates);
    cat.prompts.extend(prompts);
}

/// `body` with each `{name}` replaced by that argument; unknown names stay as written, and
/// `{{` / `}}` stand for braces (Python's `str.format_map` with a forgiving mapping).
pub fn render_body(body: &str, arguments: &serde_json::Map<String, Value>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{') {
            if let Some(end) = tail.find('}') {
                let name = &tail[1..end];
                match arguments.get(name).and_then(Value::as_str) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&tail[..=end]),
                }
                rest = &tail[end + 1..];
                continue;
            }
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_fill_known_arguments_and_keep_the_rest() {
        let args = serde_json::Map::from_iter([("topic".to_string(), json!("owls"))]);
        assert_eq!(
            render_body("Write about {topic} in {style}; {{literal}} }", &args),
            "Write about owls in {style}; {literal} }"
        );
        assert_eq!(render_body("{", &args), "{");
    }

    #[test]
    fn a_resource_model_registered_with_the_admin_is_left_to_the_admin() {
        let model = |label: &str, name: &str| {
            json!({"label": label, "app_label": "shop", "model_name": name, "object_name": name,
                   "verbose_name": name, "verbose_name_plural": name, "pk": "id",
                   "fields": [{"name": "id", "kind": "AutoField", "primary_key": true}]})
        };
        let facts = json!({"protocol": 1, "models": [model("shop.Order", "order"), model("shop.Note", "note")],
        "resource_models": [
            {"model": "shop.Order", "permission": "shop.view_order", "administered": true},
            {"model": "shop.Note", "permission": "shop.view_note"},
        ]});
        let (cat, warnings) = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap();
        assert_eq!(
            warnings,
            ["DJANGO_MCP_RESOURCE_MODELS: shop.Order is registered with the admin, whose ModelAdmin serves its resources; left out"]
        );
        let sources: Vec<_> = cat.resource_templates.iter().filter_map(|t| t.objects()).collect();
        assert!(!sources.is_empty());
        assert!(sources.iter().all(|s| matches!(s, Source::Model(label) if label == "shop.Note")), "{sources:?}");
    }
}
