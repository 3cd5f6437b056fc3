//! Facts → catalogue: every tool with its name, schemas, annotations, gate and operation.
//! Built once per `load`; every request reads it.

pub mod admin;
pub mod compact;
pub mod custom;
pub mod drf;
pub mod finder;
pub mod names;
pub mod resources;
pub mod search;
pub mod secrets;
pub mod selection;
pub mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::facts::{AdminFacts, Discovery, Facts, FormsFacts, ModelFacts, ServerFacts, SettingsFacts, PROTOCOL};
use crate::schema::fields::ModelIndex;
use crate::schema::validate::Patterns;
use resources::{PromptSpec, Reader, ResourceSpec};

/// A class-level ModelAdmin permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    View,
    Add,
    Change,
    Delete,
}

/// A permission the host evaluates for the principal (docs/engine-protocol.md, gates).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Gate {
    /// `AdminSite.has_permission` and `ModelAdmin.has_<permission>_permission(request)`.
    Admin { admin: String, permission: Permission },
    /// The action is in `ModelAdmin.get_actions(request)`.
    Action { admin: String, action: String },
    /// Any authenticated caller, or one holding `permission` (`user.has_perm`).
    User { permission: Option<String> },
    /// Every gate the host recognised on a routed view (login, permissions, staff, tests).
    View { view: String },
    /// A DRF view's permission classes (`has_permission`) for one of its handlers.
    Drf { view: String, handler: String },
    /// A `DJANGO_MCP_MODEL_SEARCH` entry's own permission and, when it reads through a
    /// ModelAdmin, that admin's site and view permission: all its effect checks.
    Search { model: String },
}

impl Gate {
    /// The check as JSON text the host reads (`Effect::Permissions`).
    pub fn to_raw_json(&self) -> Box<RawValue> {
        serde_json::value::to_raw_value(&self.to_json()).expect("a gate renders as JSON")
    }

    pub fn to_json(&self) -> Value {
        match self {
            Gate::Admin { admin, permission } => {
                let gate = match permission {
                    Permission::View => "admin.view",
                    Permission::Add => "admin.add",
                    Permission::Change => "admin.change",
                    Permission::Delete => "admin.delete",
                };
                json!({"gate": gate, "admin": admin})
            }
            Gate::Action { admin, action } => json!({"gate": "admin.action", "admin": admin, "action": action}),
            Gate::User { permission } => json!({"gate": "user", "permission": permission}),
            Gate::View { view } => json!({"gate": "view", "view": view}),
            Gate::Drf { view, handler } => json!({"gate": "drf", "view": view, "handler": handler}),
            Gate::Search { model } => json!({"gate": "search", "model": model}),
        }
    }
}

/// How a `filters` argument reaches the host (docs/engine-protocol.md, list filters).
#[derive(Debug, Clone)]
pub enum FilterRule {
    /// Exact match on a field path; `null` tests for null.
    Exact { path: String },
    /// `{"gte", "lte"}` on a date or datetime path.
    Range { path: String },
    /// A SimpleListFilter, by its parameter name.
    Choices,
}

/// What a tool asks the host to do, with everything derived for it.
#[derive(Debug, Clone)]
pub enum Operation {
    AdminList {
        admin: usize,
        /// `(name, model field)`; no field: the admin computes the value.
        columns: Vec<(String, Option<String>)>,
        /// What the host may show, search, sort and filter by in clear: the columns not
        /// masked, the search fields, the ordering and filter paths that cross no secret.
        cleared: Vec<String>,
        filters: Vec<(String, FilterRule)>,
        /// Column → the ORM ordering it sorts by.
        order_by: Vec<(String, String)>,
        default_page_size: u64,
    },
    /// Its `fields` and `masked` are the lists its admin's create and update tools share.
    AdminRetrieve {
        admin: usize,
        fields: Arc<[String]>,
        masked: Arc<[String]>,
    },
    AdminCreate {
        admin: usize,
        fields: Arc<[String]>,
        masked: Arc<[String]>,
    },
    AdminUpdate {
        admin: usize,
        fields: Arc<[String]>,
        masked: Arc<[String]>,
    },
    AdminDelete {
        admin: usize,
    },
    AdminAction {
        admin: usize,
        action: String,
    },
    /// A custom tool: the host calls its handler. A stateless request without the client
    /// capabilities it needs is refused.
    Custom {
        client_capabilities: Vec<String>,
    },
    /// A routed view, called with `method`. `gates` are what protects it, stated in the
    /// tool's `_meta`; `app` is the app it belongs to (toolsets).
    ViewCall {
        view: String,
        method: views::CallMethod,
        gates: Vec<Value>,
        app: Option<String>,
    },
    /// A DRF view's handler (`DrfOperation`). Boxed, as `Search` is: a catalogue keeps an
    /// `Operation` per tool, each the size of the largest, and most tools are an admin's.
    DrfCall(Box<DrfOperation>),
    /// A `DJANGO_MCP_MODEL_SEARCH` tool (`SearchOperation`).
    Search(Box<SearchOperation>),
}

/// A DRF view's handler, called through DRF's own dispatch with `method`; `shape` reads its
/// answer. `app` and `model` are where it belongs (toolsets).
#[derive(Debug, Clone)]
pub struct DrfOperation {
    pub view: String,
    pub handler: String,
    pub method: views::CallMethod,
    pub gates: Vec<Value>,
    pub shape: drf::DrfShape,
    pub app: Option<String>,
    pub model: Option<String>,
}

/// A `DJANGO_MCP_MODEL_SEARCH` tool; through `admin`'s `get_queryset` when there is one.
#[derive(Debug, Clone)]
pub struct SearchOperation {
    pub model: String,
    pub admin: Option<String>,
    pub search_fields: Vec<String>,
    pub filters: Vec<String>,
    pub fields: Vec<String>,
    pub masked: Vec<String>,
    pub default_page_size: u64,
}

impl Operation {
    pub fn admin(&self) -> Option<usize> {
        match self {
            Operation::AdminList { admin, .. }
            | Operation::AdminRetrieve { admin, .. }
            | Operation::AdminCreate { admin, .. }
            | Operation::AdminUpdate { admin, .. }
            | Operation::AdminDelete { admin }
            | Operation::AdminAction { admin, .. } => Some(*admin),
            Operation::Custom { .. } | Operation::ViewCall { .. } | Operation::DrfCall(_) | Operation::Search(_) => {
                None
            }
        }
    }

    /// What the tool does, in the words `find_tools` and toolset patterns narrow by.
    pub fn verb(&self) -> &'static str {
        match self {
            Operation::AdminList { .. } => "list",
            Operation::AdminRetrieve { .. } => "get",
            Operation::AdminCreate { .. } => "create",
            Operation::AdminUpdate { .. } => "update",
            Operation::AdminDelete { .. } => "delete",
            Operation::AdminAction { .. } => "action",
            Operation::Search(_) => "search",
            Operation::DrfCall(call) => match call.handler.as_str() {
                "list" => "list",
                "retrieve" => "get",
                "create" => "create",
                "update" | "partial_update" => "update",
                "destroy" => "delete",
                _ => "action",
            },
            Operation::ViewCall { .. } => "call",
            Operation::Custom { .. } => "custom",
        }
    }
}

/// The MCP tool annotations (hints to clients, never trusted by us).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

/// A tool as derivation produced it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: String,
    /// The name in the other naming scheme; accepted in calls and key allowlists.
    pub alias: String,
    pub title: String,
    /// The description and both schemas are not kept with the tool (`ToolCore`): rendered
    /// as text (`Tool::descriptor`), they cost a tenth of the memory of values, which matters
    /// with thousands of tools.
    pub description: String,
    /// `Value::Null` (both schemas) while the tool waits for its admin's forms.
    pub input_schema: Value,
    pub output_schema: Value,
    pub hints: Hints,
    pub gate: Gate,
    pub operation: Operation,
}

/// What a tool keeps of its `ToolSpec`: its description and schemas are in its descriptor
/// (or, while it waits for its forms, the description in its readiness), so its slot holds
/// no emptied text and null schemas for them, with thousands of tools.
#[derive(Debug, Clone)]
pub struct ToolCore {
    pub name: String,
    pub alias: String,
    pub title: String,
    pub hints: Hints,
    pub gate: Gate,
    pub operation: Operation,
}

impl From<ToolSpec> for ToolCore {
    fn from(spec: ToolSpec) -> ToolCore {
        let ToolSpec { name, alias, title, hints, gate, operation, .. } = spec;
        ToolCore { name, alias, title, hints, gate, operation }
    }
}

pub struct Tool {
    pub spec: ToolCore,
    /// The `tools/list` entry as JSON text, rendered once: a page is these texts joined.
    pub descriptor: String,
    /// Where the input schema's JSON text sits in the descriptor (see `input_schema`).
    input_schema_at: Range<usize>,
    /// What calls are validated against (`compact::publish`): the constraints a descriptor
    /// leaves to the engine.
    validation: compact::Validation,
    /// Its gate's place in `Catalogue::gate_checks`.
    pub gate_index: usize,
    pub readiness: Readiness,
}

/// Whether a tool has its descriptor: an admin's create and update tools wait for the
/// admin's forms when the facts deferred them (`Catalogue::install_forms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// No descriptor yet; the description is kept here for the discovery index.
    Waiting {
        description: String,
    },
    /// Its form could not be built: listed to nobody, and a call is refused.
    Unavailable,
}

impl Tool {
    /// The description as the descriptor has it (the discovery index reads it).
    pub fn description(&self) -> String {
        if let Readiness::Waiting { description } = &self.readiness {
            return description.clone();
        }
        let Some(at) = self.descriptor.find("\"description\":") else { return String::new() };
        let rest = &self.descriptor[at + "\"description\":".len()..];
        serde_json::Deserializer::from_str(rest).into_iter::<String>().next().and_then(Result::ok).unwrap_or_default()
    }

    /// The admin whose forms this tool waits for.
    pub fn waits_for(&self) -> Option<usize> {
        matches!(self.readiness, Readiness::Waiting { .. }).then(|| self.spec.operation.admin()).flatten()
    }

    /// The input schema as published, JSON text: a slice of the descriptor.
    pub fn input_schema(&self) -> &str {
        &self.descriptor[self.input_schema_at.clone()]
    }

    /// The input schema calls are validated against: the published one, or the whole one
    /// where publishing left constraints to the engine.
    pub fn validation_schema(&self) -> Value {
        self.validation.schema(self.input_schema())
    }
}

pub struct Catalogue {
    pub server: ServerFacts,
    pub settings: SettingsFacts,
    pub models: Vec<ModelFacts>,
    model_index: HashMap<String, usize>,
    pub admin_ids: Vec<String>,
    pub admin_models: Vec<usize>,
    pub tools: Vec<Tool>,
    tool_index: ToolIndex,
    /// Whether a tool may send log messages (only custom handlers do): the `logging`
    /// capability, decided once at load rather than by walking every tool per `initialize`.
    pub sends_logs: bool,
    /// The distinct gates of tools, resource templates and prompts, in order, each as the
    /// JSON text of its check (rendered once): a list page asks the host about those of
    /// the items it walks.
    pub gate_checks: Vec<Box<RawValue>>,
    pub patterns: Patterns,
    /// Concrete resources (custom items).
    pub resources: Vec<ResourceSpec>,
    pub resource_templates: Vec<ResourceSpec>,
    /// Each model's object template (`django-mcp://model/<label>/{pk}`) in
    /// `resource_templates`, by model label: a tool's answer links its object through it.
    object_templates: HashMap<String, usize>,
    /// The resource templates by their literal head (the text before their first variable),
    /// each list in template order, and the heads' distinct lengths: a URI is matched only
    /// against the templates whose head it starts with.
    templates_by_head: HashMap<String, Vec<usize>>,
    template_head_lengths: Vec<usize>,
    pub prompts: Vec<PromptSpec>,
    /// Each prompt's place in `prompts`, by name.
    prompt_index: HashMap<String, usize>,
    /// Each concrete resource's gate's place in `gate_checks`.
    pub resource_gates: Vec<usize>,
    /// Each resource template's gate's place in `gate_checks`.
    pub template_gates: Vec<usize>,
    /// Each prompt's gate's place in `gate_checks`.
    pub prompt_gates: Vec<usize>,
    /// The discovery index (`find_tools`); built only when discovery is on.
    pub finder: Option<finder::Finder>,
    /// The object keys masked in a view's or DRF view's JSON (`masked_keys`).
    pub masked_keys: Vec<String>,
    /// The admins whose forms were deferred and not installed yet, with what their tools'
    /// derivation needs beside the catalogue.
    waiting_forms: BTreeMap<usize, WaitingForms>,
    /// The place in `tools` of the tool each choice prompt was made for (they lead
    /// `prompts`): a prompt made late is put where the eager load would have put it.
    choice_prompt_tools: Vec<usize>,
}

/// A deferred admin's site and its create and update tools' places.
struct WaitingForms {
    site: String,
    tools: [usize; 2],
}

impl ModelIndex for Catalogue {
    fn model(&self, label: &str) -> Option<&ModelFacts> {
        self.model_index.get(label).map(|&i| &self.models[i])
    }
}

impl Catalogue {
    /// Derive everything from `facts`. Warnings name what was skipped; one underivable
    /// admin never takes the others down.
    pub fn derive(facts: Facts) -> Result<(Catalogue, Vec<String>), String> {
        if facts.protocol != PROTOCOL {
            return Err(format!("facts protocol {} is not supported (expected {PROTOCOL})", facts.protocol));
        }
        let mut models = facts.models;
        // A parsed list grows by doubling and the models stay for the instance's life: each
        // keeps only the room its fields take.
        for model in &mut models {
            model.fields.shrink_to_fit();
        }
        models.shrink_to_fit();
        let model_index = models.iter().enumerate().map(|(i, m)| (m.label.clone(), i)).collect();
        let masked_keys = masked_keys(&facts.settings.redact_fields);
        let mut cat = Catalogue {
            server: facts.server,
            settings: facts.settings,
            models,
            model_index,
            admin_ids: Vec::new(),
            admin_models: Vec::new(),
            tools: Vec::new(),
            tool_index: ToolIndex::default(),
            sends_logs: false,
            gate_checks: Vec::new(),
            patterns: Patterns::default(),
            resources: facts.custom.resources.iter().map(ResourceSpec::custom).collect(),
            resource_templates: Vec::new(),
            object_templates: HashMap::new(),
            templates_by_head: HashMap::new(),
            template_head_lengths: Vec::new(),
            prompts: Vec::new(),
            prompt_index: HashMap::new(),
            resource_gates: Vec::new(),
            template_gates: Vec::new(),
            prompt_gates: Vec::new(),
            finder: None,
            masked_keys,
            waiting_forms: BTreeMap::new(),
            choice_prompt_tools: Vec::new(),
        };
        let mut warnings = Vec::new();
        // Each source's tools are registered as soon as they are derived: their schemas are
        // rendered to text then, so the load never holds every tool's schemas as values at
        // once (a wasm instance keeps its peak memory for good). For the same reason each
        // admin's and DRF view's facts are dropped once their tools are derived.
        let mut registration = Registration::default();
        for admin in facts.admins {
            let Some(&model_at) = cat.model_index.get(&admin.model) else {
                warnings.push(format!("{}: model {} was not described; skipped", admin.id, admin.model));
                continue;
            };
            let admin_index = cat.admin_ids.len();
            cat.admin_ids.push(admin.id.clone());
            cat.admin_models.push(model_at);
            let specs = admin::tools_for(&cat, admin_index, &admin, &cat.models[model_at], &mut warnings);
            let first = cat.tools.len();
            registration.add(&mut cat, specs, &mut warnings);
            if admin.forms_deferred {
                // The create and update tools follow list and retrieve.
                cat.waiting_forms.insert(admin_index, WaitingForms { site: admin.site, tools: [first + 2, first + 3] });
            }
        }
        let searches: Vec<ToolSpec> =
            facts.searches.iter().filter_map(|s| search::tool_for(&cat, s, &mut warnings)).collect();
        registration.add(&mut cat, searches, &mut warnings);
        let views = facts.views.iter().map(|v| views::tool_for(v, cat.settings.tool_names)).collect();
        registration.add(&mut cat, views, &mut warnings);
        let page_size = cat.settings.page_size as u64;
        for view in facts.drf {
            let specs = drf::tools_for(&view, &cat, cat.settings.tool_names, page_size);
            registration.add(&mut cat, specs, &mut warnings);
        }
        let custom = facts.custom.tools.iter().filter_map(|t| custom::tool_spec(t, &mut warnings)).collect();
        registration.add(&mut cat, custom, &mut warnings);
        // Grown by doubling while registering; kept for the instance's life.
        cat.tools.shrink_to_fit();
        cat.tool_index = ToolIndex::build(&cat.tools);
        cat.sends_logs = cat.tools.iter().any(|t| matches!(t.spec.operation, Operation::Custom { .. }));
        resources::derive(&mut cat, &facts.resource_models, &facts.user_prompts, &mut warnings);
        cat.resource_templates.extend(facts.custom.resource_templates.iter().map(ResourceSpec::custom));
        cat.prompts.extend(facts.custom.prompts.iter().map(PromptSpec::custom));
        cat.index_templates_and_prompts();
        cat.template_gates =
            cat.resource_templates.iter().map(|t| registration.gate_place(&mut cat.gate_checks, &t.gate)).collect();
        cat.prompt_gates = cat.prompts.iter().map(|p| registration.gate_place(&mut cat.gate_checks, &p.gate)).collect();
        cat.resource_gates =
            cat.resources.iter().map(|r| registration.gate_place(&mut cat.gate_checks, &r.gate)).collect();
        // The discovery index is built last, and the load's memory peaks then: what only the
        // registration and the rest of the facts needed goes first (the names taken, a copy of
        // each distinct gate), not to be resident for the instance's life.
        drop(registration);
        drop((facts.views, facts.searches, facts.custom, facts.resource_models, facts.user_prompts));
        if cat.settings.discovery != Discovery::Off {
            cat.finder = Some(finder::Finder::build(&cat));
        }
        Ok((cat, warnings))
    }

    /// The lookups by model label, URI head and prompt name; the first of equals wins, as a
    /// walk in order would find it.
    fn index_templates_and_prompts(&mut self) {
        for (i, template) in self.resource_templates.iter().enumerate() {
            if let Reader::Object { label, .. } = &template.reader {
                self.object_templates.entry(label.clone()).or_insert(i);
            }
            let head = template.uri.split('{').next().unwrap_or_default();
            self.templates_by_head.entry(head.to_string()).or_default().push(i);
        }
        self.template_head_lengths =
            self.templates_by_head.keys().map(String::len).collect::<HashSet<_>>().into_iter().collect();
        self.template_head_lengths.sort_unstable();
        for (i, prompt) in self.prompts.iter().enumerate() {
            self.prompt_index.entry(prompt.name.clone()).or_insert(i);
        }
    }

    pub fn has_waiting_forms(&self) -> bool {
        !self.waiting_forms.is_empty()
    }

    /// The admins whose forms are deferred and not installed yet, in order.
    pub fn waiting_admins(&self) -> Vec<usize> {
        self.waiting_forms.keys().copied().collect()
    }

    /// The admins the tools at `places` wait for, each once, in order.
    pub fn waited_for(&self, places: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let admins: BTreeSet<usize> =
            places.into_iter().filter_map(|i| self.tools.get(i).and_then(Tool::waits_for)).collect();
        admins.into_iter().collect()
    }

    /// Derive the create and update tools of a deferred admin from its forms (None: the host
    /// could not give them), exactly as the load would have; a tool without its form is
    /// unavailable. Prompts its long choice lists need join `prompts` where the load would
    /// have put them.
    pub fn install_forms(&mut self, admin: usize, forms: Option<FormsFacts>) {
        let Some(waiting) = self.waiting_forms.remove(&admin) else { return };
        let model_at = self.admin_models[admin];
        let mut facts =
            AdminFacts::bare(self.admin_ids[admin].clone(), waiting.site, self.models[model_at].label.clone());
        facts.forms = forms.unwrap_or_default();
        let (create, update) = admin::form_tools(self, admin, &facts, &self.models[model_at]);
        for (place, spec) in waiting.tools.into_iter().zip([create, update]) {
            self.complete_tool(place, spec);
        }
    }

    fn complete_tool(&mut self, place: usize, spec: Option<ToolSpec>) {
        let Some(mut spec) = spec else {
            crate::log(30, &format!("{}: its admin form could not be built; not offered", self.tools[place].spec.name));
            self.tools[place].readiness = Readiness::Unavailable;
            return;
        };
        spec.name.clone_from(&self.tools[place].spec.name);
        spec.alias.clone_from(&self.tools[place].spec.alias);
        if let Err(e) = self.patterns.collect(&spec.input_schema) {
            crate::log(30, &format!("{}: {e}; not offered", spec.name));
            self.tools[place].readiness = Readiness::Unavailable;
            return;
        }
        let before = self.prompts.len();
        // Its gate is its own: no other tool's choice prompt serves it.
        compact::compact(&mut spec, self, &mut compact::ChoicePrompts::default());
        let made: Vec<PromptSpec> = self.prompts.drain(before..).collect();
        if !made.is_empty() {
            let at = self.choice_prompt_tools.partition_point(|&tool| tool < place);
            let gate = self.tools[place].gate_index;
            self.choice_prompt_tools.splice(at..at, std::iter::repeat_n(place, made.len()));
            self.prompt_gates.splice(at..at, std::iter::repeat_n(gate, made.len()));
            self.prompts.splice(at..at, made);
            self.prompt_index.clear();
            for (i, prompt) in self.prompts.iter().enumerate() {
                self.prompt_index.entry(prompt.name.clone()).or_insert(i);
            }
        }
        let validation = compact::publish(&mut spec);
        let (descriptor, input_schema_at) = describe(&mut spec);
        let tool = &mut self.tools[place];
        (tool.spec, tool.descriptor, tool.input_schema_at, tool.validation) =
            (spec.into(), descriptor, input_schema_at, validation);
        tool.readiness = Readiness::Ready;
    }

    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tool_place(name).map(|i| &self.tools[i])
    }

    /// The place in `tools` of the tool named (or aliased) `name`.
    pub fn tool_place(&self, name: &str) -> Option<usize> {
        self.tool_index.find(&self.tools, name)
    }

    pub fn offers_resources(&self) -> bool {
        !self.resources.is_empty() || !self.resource_templates.is_empty()
    }

    pub fn offers_prompts(&self) -> bool {
        !self.prompts.is_empty()
    }

    /// Completion has something to say: template variables or prompt arguments.
    pub fn offers_completions(&self) -> bool {
        !self.resource_templates.is_empty() || self.prompts.iter().any(|p| !p.arguments.is_empty())
    }

    /// The prompt named `name` (the first, should two share it).
    pub fn prompt(&self, name: &str) -> Option<&PromptSpec> {
        self.prompt_place(name).map(|i| &self.prompts[i])
    }

    /// The place in `prompts` of the prompt named `name`.
    pub fn prompt_place(&self, name: &str) -> Option<usize> {
        self.prompt_index.get(name).copied()
    }

    /// The place in `resource_templates` of the first template `uri` matches, with its
    /// variables' values.
    pub fn matching_template(&self, uri: &str) -> Option<(usize, Vec<(String, String)>)> {
        let mut candidates: Vec<usize> = self
            .template_head_lengths
            .iter()
            .filter_map(|&length| uri.get(..length))
            .filter_map(|head| self.templates_by_head.get(head))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .find_map(|i| custom::match_template(&self.resource_templates[i].uri, uri).map(|values| (i, values)))
    }

    /// The object resource template of the model labelled `label`, if it has one.
    pub fn object_template(&self, label: &str) -> Option<&ResourceSpec> {
        self.object_templates.get(label).map(|&i| &self.resource_templates[i])
    }

    /// Where each tool comes from, in catalogue order, for the host's report of what it
    /// serves (`manage.py mcp_catalogue`): `{"name", "surface", "source"}`, the surface
    /// `admin`, `search`, `views`, `drf` or `custom`, the source the model's label (admin,
    /// search), the view's id (views, drf) or null (custom).
    pub fn tool_sources(&self) -> Value {
        let sources = self.tools.iter().map(|tool| {
            let (surface, source) = match &tool.spec.operation {
                Operation::Search(search) => ("search", Some(search.model.as_str())),
                Operation::ViewCall { view, .. } => ("views", Some(view.as_str())),
                Operation::DrfCall(call) => ("drf", Some(call.view.as_str())),
                Operation::Custom { .. } => ("custom", None),
                admin => ("admin", admin.admin().map(|i| self.admin_model(i).label.as_str())),
            };
            json!({"name": tool.spec.name, "surface": surface, "source": source})
        });
        Value::Array(sources.collect())
    }

    pub fn admin_model(&self, admin: usize) -> &ModelFacts {
        &self.models[self.admin_models[admin]]
    }

    /// Password hashes of the user model, our keys' hashes and `DJANGO_MCP_REDACT_FIELDS`
    /// entries never leave.
    pub fn is_redacted(&self, model: &ModelFacts, field: &str) -> bool {
        (model.is_user_model && field == "password") || self.is_secret(&model.label, field)
    }

    /// The one redaction rule (`secrets::is_secret`), for the field `field` of the model
    /// labelled `label`.
    pub fn is_secret(&self, label: &str, field: &str) -> bool {
        let is_user_model = match &self.settings.user_model {
            Some(user_model) => user_model == label,
            None => self.model(label).is_some_and(|m| m.is_user_model),
        };
        secrets::is_secret(&self.settings.redact_fields, is_user_model, label, field)
    }

    /// The first secret among the labels a field path crosses (`secrets::first_secret`).
    pub fn secret_crossed<'a>(&self, crossed: &'a [String]) -> Option<&'a str> {
        secrets::first_secret(crossed, |label, field| self.is_secret(label, field))
    }
}

/// The object keys masked at any depth in a view's or DRF view's JSON, whose values cannot be
/// traced to a model field: `password`, each bare entry and the field of each `app.Model.field`
/// entry (our keys' hashes included), sorted.
fn masked_keys(redact_fields: &[String]) -> Vec<String> {
    let entries = redact_fields.iter().map(String::as_str).chain(secrets::ALWAYS_REDACTED);
    let keys: BTreeSet<&str> =
        entries.map(|entry| entry.rsplit('.').next().unwrap_or(entry)).chain(["password"]).collect();
    keys.into_iter().map(str::to_string).collect()
}

/// The tools by the names they answer to: each tool's name, and its alias where that is
/// neither a name nor an earlier tool's alias. The entries are places in `tools` sorted by
/// those names, not copies of the names: a map keyed by them held every name and alias twice.
#[derive(Default)]
struct ToolIndex {
    /// A place shifted left by one; the low bit set for an alias.
    entries: Vec<u32>,
}

impl ToolIndex {
    fn build(tools: &[Tool]) -> ToolIndex {
        let places = u32::try_from(tools.len()).ok().filter(|&n| n < 1 << 31).expect("fewer than 2^31 tools");
        let mut entries: Vec<u32> = (0..places).flat_map(|i| [i << 1, i << 1 | 1]).collect();
        // Among equal keys a name comes before an alias, and an alias before later ones; the
        // first of each key is the one kept.
        entries.sort_unstable_by(|&a, &b| {
            Self::key(tools, a).cmp(Self::key(tools, b)).then((a & 1).cmp(&(b & 1))).then(a.cmp(&b))
        });
        entries.dedup_by(|later, first| Self::key(tools, *later) == Self::key(tools, *first));
        entries.shrink_to_fit();
        ToolIndex { entries }
    }

    fn key(tools: &[Tool], entry: u32) -> &str {
        let spec = &tools[(entry >> 1) as usize].spec;
        if entry & 1 == 1 {
            &spec.alias
        } else {
            &spec.name
        }
    }

    fn find(&self, tools: &[Tool], name: &str) -> Option<usize> {
        let at = self.entries.binary_search_by(|&e| Self::key(tools, e).cmp(name)).ok()?;
        Some((self.entries[at] >> 1) as usize)
    }
}

/// What registering tools into a catalogue keeps track of: the names taken (in derivation
/// order, so names are deterministic) and where each distinct gate sits in `gate_checks`.
#[derive(Default)]
struct Registration {
    taken: HashSet<String>,
    gate_places: HashMap<Gate, usize>,
    choice_prompts: compact::ChoicePrompts,
}

impl Registration {
    fn add(&mut self, cat: &mut Catalogue, specs: Vec<ToolSpec>, warnings: &mut Vec<String>) {
        for mut spec in specs {
            spec.name = names::unique(spec.name, &mut self.taken);
            if spec.input_schema.is_null() {
                let gate_index = self.gate_place(&mut cat.gate_checks, &spec.gate);
                // Waiting for its admin's forms: named and gated now, described when installed.
                let readiness = Readiness::Waiting { description: std::mem::take(&mut spec.description) };
                let (descriptor, input_schema_at, validation) = (String::new(), 0..0, compact::Validation::Published);
                let spec = spec.into();
                cat.tools.push(Tool { spec, descriptor, input_schema_at, validation, gate_index, readiness });
                continue;
            }
            if let Err(e) = cat.patterns.collect(&spec.input_schema) {
                warnings.push(format!("{}: {e}; skipped", spec.name));
                continue;
            }
            // After the check that may skip the tool: its choice prompts are for a tool served.
            let prompts = cat.prompts.len();
            compact::compact(&mut spec, cat, &mut self.choice_prompts);
            cat.choice_prompt_tools.extend(std::iter::repeat_n(cat.tools.len(), cat.prompts.len() - prompts));
            let validation = compact::publish(&mut spec);
            let (descriptor, input_schema_at) = describe(&mut spec);
            let gate_index = self.gate_place(&mut cat.gate_checks, &spec.gate);
            let readiness = Readiness::Ready;
            let spec = spec.into();
            cat.tools.push(Tool { spec, descriptor, input_schema_at, validation, gate_index, readiness });
        }
    }

    /// The place of `gate` in `checks`, added there when it is new.
    fn gate_place(&mut self, checks: &mut Vec<Box<RawValue>>, gate: &Gate) -> usize {
        if let Some(&place) = self.gate_places.get(gate) {
            return place;
        }
        checks.push(gate.to_raw_json());
        self.gate_places.insert(gate.clone(), checks.len() - 1);
        checks.len() - 1
    }
}

/// The `tools/list` entry of `spec` as JSON text (keys in the order serde_json sorts a
/// `Value`'s, as every other reply has them), and where its input schema sits in it. The
/// description and both schemas live only there afterwards: taken out of the spec, they
/// cost a catalogue no second copy.
fn describe(spec: &mut ToolSpec) -> (String, Range<usize>) {
    // No title (the tool's own says it), and no hint at the MCP spec's default (read-only
    // false, idempotent false) but the destructive one, which clients confirm writes by. The
    // destructive and idempotent hints mean something only for a tool that writes.
    #[derive(Serialize)]
    struct Annotations {
        #[serde(rename = "destructiveHint", skip_serializing_if = "Option::is_none")]
        destructive: Option<bool>,
        #[serde(rename = "idempotentHint", skip_serializing_if = "Option::is_none")]
        idempotent: Option<bool>,
        #[serde(rename = "openWorldHint")]
        open_world: bool,
        #[serde(rename = "readOnlyHint", skip_serializing_if = "Option::is_none")]
        read_only: Option<bool>,
    }
    // Serialised around the input schema, whose place in the text is then known: the keys
    // before it, then it, then the keys after it.
    #[derive(Serialize)]
    struct Before<'a> {
        #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
        meta: Option<Value>,
        annotations: Annotations,
        description: &'a str,
    }
    #[derive(Serialize)]
    struct After<'a> {
        name: &'a str,
        #[serde(rename = "outputSchema", skip_serializing_if = "Value::is_null")]
        output_schema: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
    }
    let description = std::mem::take(&mut spec.description);
    let output_schema = std::mem::take(&mut spec.output_schema);
    let input_schema = serde_json::to_string(&std::mem::take(&mut spec.input_schema)).expect("descriptors serialise");
    let meta = match &spec.operation {
        Operation::ViewCall { gates, .. } => Some(json!({"django-mcp/gates": gates})),
        Operation::DrfCall(call) => Some(json!({"django-mcp/gates": call.gates})),
        _ => None,
    };
    let hints = spec.hints;
    let annotations = Annotations {
        destructive: (!hints.read_only).then_some(hints.destructive),
        idempotent: (!hints.read_only && hints.idempotent).then_some(true),
        open_world: false,
        read_only: hints.read_only.then_some(true),
    };
    let before =
        serde_json::to_string(&Before { meta, annotations, description: &description }).expect("descriptors serialise");
    let title = Some(spec.title.as_str()).filter(|t| !compact::names_only(t, &spec.name));
    let after = serde_json::to_string(&After { name: &spec.name, output_schema: &output_schema, title })
        .expect("descriptors serialise");
    // `{…}` and `{…}` joined as `{…,"inputSchema":<schema>,…}`.
    let (before, after) = (&before[..before.len() - 1], &after[1..]);
    let mut text = String::with_capacity(before.len() + input_schema.len() + after.len() + 16);
    text.push_str(before);
    text.push_str(",\"inputSchema\":");
    let start = text.len();
    text.push_str(&input_schema);
    text.push(',');
    text.push_str(after);
    (text, start..start + input_schema.len())
}
