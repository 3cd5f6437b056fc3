//! What the host tells the engine about the Django project (docs/engine-protocol.md, `load`).
//! Unknown keys are ignored and most keys have defaults, so an older host keeps loading.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

pub const PROTOCOL: u32 = 1;

#[derive(Debug, Deserialize)]
pub struct Facts {
    pub protocol: u32,
    #[serde(default)]
    pub server: ServerFacts,
    #[serde(default)]
    pub settings: SettingsFacts,
    #[serde(default)]
    pub models: Vec<ModelFacts>,
    #[serde(default)]
    pub admins: Vec<AdminFacts>,
    #[serde(default)]
    pub custom: CustomFacts,
    #[serde(default)]
    pub resource_models: Vec<ResourceModelFacts>,
    #[serde(default)]
    pub user_prompts: Vec<UserPromptFacts>,
    #[serde(default)]
    pub views: Vec<ViewFacts>,
    #[serde(default)]
    pub searches: Vec<SearchFacts>,
    #[serde(default)]
    pub drf: Vec<DrfViewFacts>,
}

/// A `DJANGO_MCP_RESOURCE_MODELS` entry: a model read with `permission`.
#[derive(Debug, Deserialize)]
pub struct ResourceModelFacts {
    pub model: String,
    pub permission: String,
    /// The model is registered with a configured admin site (described or not).
    #[serde(default)]
    pub administered: bool,
}

/// A `DJANGO_MCP_PROMPTS` entry.
#[derive(Debug, Deserialize)]
pub struct UserPromptFacts {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub arguments: Vec<PromptArgumentFacts>,
    pub body: String,
    #[serde(default)]
    pub permission: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ServerFacts {
    #[serde(default = "default_server_name")]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

impl Default for ServerFacts {
    fn default() -> Self {
        ServerFacts { name: default_server_name(), version: String::new() }
    }
}

fn default_server_name() -> String {
    "django-mcp".to_string()
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ToolNames {
    #[default]
    Portable,
    Dotted,
}

#[derive(Debug, Deserialize)]
pub struct SettingsFacts {
    #[serde(default)]
    pub tool_names: ToolNames,
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// `DJANGO_MCP_REDACT_FIELDS` as written: `field` or `app.Model.field`.
    #[serde(default)]
    pub redact_fields: Vec<String>,
    /// The label of `AUTH_USER_MODEL`, whose `password` is never sent; facts without it
    /// fall back on the model facts' `is_user_model`.
    #[serde(default)]
    pub user_model: Option<String>,
    #[serde(default)]
    pub test_hooks: bool,
    /// `DJANGO_MCP_RESOURCES_DISABLED`: no model resources and no derived prompts.
    #[serde(default)]
    pub resources_disabled: bool,
    #[serde(default = "default_field_resource_max_bytes")]
    pub field_resource_max_bytes: u64,
    /// `DJANGO_MCP_DISCOVERY`. Facts without it (older hosts, recorded transcripts) list
    /// every tool: the host sends its own default.
    #[serde(default)]
    pub discovery: Discovery,
    /// `DJANGO_MCP_DISCOVERY_THRESHOLD`: in `auto`, more usable tools than this are found
    /// through the meta-tools.
    #[serde(default = "default_discovery_threshold")]
    pub discovery_threshold: usize,
}

/// Whether `tools/list` answers the discovery meta-tools instead of the catalogue.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Discovery {
    #[default]
    Off,
    Auto,
    Always,
}

fn default_discovery_threshold() -> usize {
    40
}

fn default_field_resource_max_bytes() -> u64 {
    10 * 1024 * 1024
}

impl Default for SettingsFacts {
    fn default() -> Self {
        SettingsFacts {
            tool_names: ToolNames::default(),
            page_size: default_page_size(),
            redact_fields: Vec::new(),
            user_model: None,
            test_hooks: false,
            resources_disabled: false,
            field_resource_max_bytes: default_field_resource_max_bytes(),
            discovery: Discovery::default(),
            discovery_threshold: default_discovery_threshold(),
        }
    }
}

fn default_page_size() -> usize {
    100
}

#[derive(Debug, Deserialize)]
pub struct ModelFacts {
    pub label: String,
    pub app_label: String,
    pub model_name: String,
    pub object_name: String,
    pub verbose_name: String,
    pub verbose_name_plural: String,
    pub pk: String,
    #[serde(default)]
    pub is_user_model: bool,
    pub fields: Vec<FieldFacts>,
}

impl ModelFacts {
    pub fn field(&self, name: &str) -> Option<&FieldFacts> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn pk_field(&self) -> Option<&FieldFacts> {
        self.field(&self.pk)
    }
}

#[derive(Debug, Deserialize, Clone)]
pub struct FieldFacts {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub verbose_name: String,
    #[serde(default)]
    pub help_text: String,
    #[serde(default)]
    pub null: bool,
    #[serde(default)]
    pub blank: bool,
    #[serde(default = "yes")]
    pub editable: bool,
    #[serde(default)]
    pub primary_key: bool,
    #[serde(default)]
    pub max_length: Option<u64>,
    /// Flattened `(value, label)` pairs.
    #[serde(default)]
    pub choices: Option<Vec<(serde_json::Value, String)>>,
    #[serde(default)]
    pub max_digits: Option<u32>,
    #[serde(default)]
    pub decimal_places: Option<u32>,
    #[serde(default)]
    pub min_value: Option<serde_json::Number>,
    #[serde(default)]
    pub max_value: Option<serde_json::Number>,
    #[serde(default)]
    pub related_model: Option<String>,
    #[serde(default)]
    pub many: bool,
    #[serde(default)]
    pub has_default: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct AdminFacts {
    pub id: String,
    #[serde(default = "default_site")]
    pub site: String,
    pub model: String,
    #[serde(default)]
    pub search_fields: Vec<String>,
    #[serde(default)]
    pub list_display: Vec<ColumnFacts>,
    #[serde(default)]
    pub list_filter: Vec<FilterFacts>,
    #[serde(default)]
    pub ordering: Vec<String>,
    #[serde(default = "default_list_per_page")]
    pub list_per_page: u64,
    #[serde(default)]
    pub forms: FormsFacts,
    /// The host left `forms` out: the create and update tools are registered without their
    /// schemas, and the forms asked for (`Effect::AdminForms`) when a request first needs them.
    #[serde(default)]
    pub forms_deferred: bool,
    #[serde(default)]
    pub actions: Vec<ActionFacts>,
    /// The field paths the facts above name (string `list_display` entries, order fields,
    /// `search_fields` without their `^=@` prefix, field filters) that are not a field of the
    /// model, each with the `app.Model.field` labels Django resolves it to crossing, in order
    /// (a path's lookups end its list).
    #[serde(default)]
    pub paths: std::collections::HashMap<String, Vec<String>>,
}

impl AdminFacts {
    /// An admin known only by its id, site and model: what its forms' tools are derived from.
    pub fn bare(id: String, site: String, model: String) -> AdminFacts {
        AdminFacts {
            id,
            site,
            model,
            search_fields: Vec::new(),
            list_display: Vec::new(),
            list_filter: Vec::new(),
            ordering: Vec::new(),
            list_per_page: default_list_per_page(),
            forms: FormsFacts::default(),
            forms_deferred: false,
            actions: Vec::new(),
            paths: Default::default(),
        }
    }
}

/// One changelist column: a model field, or something the admin computes.
#[derive(Debug, Deserialize, Clone)]
pub struct ColumnFacts {
    pub name: String,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub boolean: bool,
    #[serde(default)]
    pub order_field: Option<String>,
    /// False when `sortable_by` leaves the column out.
    #[serde(default = "yes")]
    pub sortable: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FilterKind {
    Field,
    Choices,
}

/// One `list_filter` entry: a field path, or a SimpleListFilter with its lookups.
#[derive(Debug, Deserialize, Clone)]
pub struct FilterFacts {
    pub name: String,
    pub kind: FilterKind,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub choices: Vec<(serde_json::Value, String)>,
}

#[derive(Debug, Deserialize, Default)]
pub struct FormsFacts {
    #[serde(default)]
    pub add: Option<Vec<FormFieldFacts>>,
    #[serde(default)]
    change: Option<ChangeForm>,
}

impl FormsFacts {
    /// The change view's form fields; None where the admin has no change form.
    pub fn change(&self) -> Option<&Vec<FormFieldFacts>> {
        match &self.change {
            Some(ChangeForm::AsAdd) => self.add.as_ref(),
            Some(ChangeForm::Fields(fields)) => Some(fields),
            None => None,
        }
    }
}

/// The change view's form: its own fields, or `"add"` where it is the add view's (most
/// admins: the facts then carry those fields once).
#[derive(Debug)]
enum ChangeForm {
    AsAdd,
    Fields(Vec<FormFieldFacts>),
}

impl<'de> Deserialize<'de> for ChangeForm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expected;
        impl<'de> Visitor<'de> for Expected {
            type Value = ChangeForm;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of form fields, or \"add\"")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<ChangeForm, E> {
                match value {
                    "add" => Ok(ChangeForm::AsAdd),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ChangeForm, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(ChangeForm::Fields)
            }
        }
        deserializer.deserialize_any(Expected)
    }
}

/// A field of the admin's ModelForm (docs/engine-protocol.md).
#[derive(Debug, Deserialize, Clone)]
pub struct FormFieldFacts {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub help_text: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub max_length: Option<u64>,
    #[serde(default)]
    pub min_length: Option<u64>,
    #[serde(default)]
    pub min_value: Option<serde_json::Number>,
    #[serde(default)]
    pub max_value: Option<serde_json::Number>,
    #[serde(default)]
    pub max_digits: Option<u32>,
    #[serde(default)]
    pub decimal_places: Option<u32>,
    #[serde(default)]
    pub choices: Option<Vec<(serde_json::Value, String)>>,
    #[serde(default)]
    pub related_model: Option<String>,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default)]
    pub pattern: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct ActionFacts {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

fn default_site() -> String {
    "admin".to_string()
}

fn default_list_per_page() -> u64 {
    100
}

/// Tools, resources and prompts a Python module declares by hand
/// (`DJANGO_MCP_CUSTOM`; docs/engine-protocol.md, custom items). The host runs them.
#[derive(Debug, Deserialize, Default)]
pub struct CustomFacts {
    #[serde(default)]
    pub tools: Vec<CustomToolFacts>,
    #[serde(default)]
    pub resources: Vec<CustomResourceFacts>,
    #[serde(default)]
    pub resource_templates: Vec<CustomResourceFacts>,
    #[serde(default)]
    pub prompts: Vec<CustomPromptFacts>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct CustomToolFacts {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "empty_object_schema")]
    pub input_schema: serde_json::Value,
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default = "yes")]
    pub destructive: bool,
    #[serde(default)]
    pub idempotent: bool,
    /// A Django permission (`app_label.codename`) the caller must hold; none: any caller.
    #[serde(default)]
    pub permission: Option<String>,
    /// Client capabilities the tool cannot work without (e.g. `sampling`).
    #[serde(default)]
    pub client_capabilities: Vec<String>,
}

fn empty_object_schema() -> serde_json::Value {
    serde_json::json!({"type": "object"})
}

/// A concrete resource (`uri`) or a template (`uri` is an RFC 6570 level-1 template).
#[derive(Debug, Deserialize, Clone)]
pub struct CustomResourceFacts {
    pub uri: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub permission: Option<String>,
    /// Completion values for template variables.
    #[serde(default)]
    pub completions: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct CustomPromptFacts {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: Vec<PromptArgumentFacts>,
    #[serde(default)]
    pub permission: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct PromptArgumentFacts {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Offered by `completion/complete`.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// A routed view (docs/engine-protocol.md, views).
#[derive(Debug, Deserialize, Clone)]
pub struct ViewFacts {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub route: String,
    #[serde(default)]
    pub path_params: Vec<PathParamFacts>,
    #[serde(default)]
    pub module: String,
    #[serde(default)]
    pub qualname: String,
    /// The installed app whose package holds the view (toolset patterns match it).
    #[serde(default)]
    pub app_label: Option<String>,
    #[serde(default)]
    pub class_kind: Option<String>,
    /// Lower-case HTTP methods the view handles; empty: any.
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// What protects the view, as the host recognised it (`{"kind": "login"}`, …).
    #[serde(default)]
    pub gates: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct PathParamFacts {
    pub name: String,
    pub converter: String,
    #[serde(default)]
    pub pattern: Option<String>,
}

/// A `DJANGO_MCP_MODEL_SEARCH` entry.
#[derive(Debug, Deserialize, Clone)]
pub struct SearchFacts {
    pub model: String,
    /// The model's ModelAdmin, whose `get_queryset` the search goes through.
    #[serde(default)]
    pub admin: Option<String>,
    #[serde(default)]
    pub search_fields: Vec<String>,
    #[serde(default)]
    pub filter_fields: Vec<String>,
    /// The only fields results carry, as the entry names them; null: it names none, and the
    /// engine chooses them (`derive/search.rs`).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    pub permission: String,
}

/// A Django REST framework view (docs/engine-protocol.md, DRF): a ViewSet with the endpoints
/// of all its router routes, or an APIView with one.
#[derive(Debug, Deserialize, Clone)]
pub struct DrfViewFacts {
    pub id: String,
    /// The stem of its tool names as written: the router's basename (namespaced) or the URL
    /// name (`api:book-stats`); `names::drf_stem` makes words of it.
    pub label: String,
    pub module: String,
    pub qualname: String,
    /// The installed app whose package holds the view, and the label of the model its
    /// queryset is of (toolset patterns match them).
    #[serde(default)]
    pub app_label: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub viewset: bool,
    #[serde(default)]
    pub description: String,
    /// Its permission classes by name, stated in each tool.
    #[serde(default)]
    pub permissions: Vec<String>,
    pub endpoints: Vec<DrfEndpointFacts>,
}

/// One handler of a DRF view on its route.
#[derive(Debug, Deserialize, Clone)]
pub struct DrfEndpointFacts {
    /// `list`, `create`, `retrieve`, `update`, `partial_update`, `destroy`, an `@action`'s
    /// name, or `""` for an APIView.
    pub handler: String,
    #[serde(default)]
    pub action: bool,
    /// An `@action`'s `url_path`.
    #[serde(default)]
    pub url_path: Option<String>,
    pub route: String,
    #[serde(default)]
    pub path_params: Vec<PathParamFacts>,
    /// Lower-case HTTP methods that reach this handler.
    pub methods: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// The serializer's fields; none: not derivable (the body is any object).
    #[serde(default)]
    pub serializer: Option<Vec<SerializerFieldFacts>>,
    /// The permission classes `get_permissions()` gives this handler, when known.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// How a list is paged, searched, ordered and filtered.
    #[serde(default)]
    pub listing: Option<DrfListingFacts>,
}

#[derive(Debug, Deserialize, Clone, Default)]
pub struct DrfListingFacts {
    #[serde(default)]
    pub pagination: Option<PaginationFacts>,
    /// SearchFilter's query parameter and the fields it searches.
    #[serde(default)]
    pub search: Option<QueryParamFacts>,
    /// OrderingFilter's query parameter and the terms it accepts.
    #[serde(default)]
    pub ordering: Option<QueryParamFacts>,
    /// django-filter's filters, each a query parameter described like a serializer field.
    #[serde(default)]
    pub filters: Vec<SerializerFieldFacts>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct QueryParamFacts {
    pub param: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A DRF paginator: `page_number`, `limit_offset` or `cursor`, with its query parameters.
#[derive(Debug, Deserialize, Clone)]
pub struct PaginationFacts {
    pub style: String,
    #[serde(default)]
    pub page_size: Option<u64>,
    #[serde(default)]
    pub max_page_size: Option<u64>,
    /// `page` (page_number), `cursor` (cursor).
    #[serde(default)]
    pub page_param: Option<String>,
    /// `page_size_query_param` (page_number, cursor) or `limit` (limit_offset).
    #[serde(default)]
    pub page_size_param: Option<String>,
    #[serde(default)]
    pub offset_param: Option<String>,
}

/// A DRF serializer field (or a filter described the same way).
#[derive(Debug, Deserialize, Clone)]
pub struct SerializerFieldFacts {
    pub name: String,
    /// boolean, char, email, url, uuid, slug, regex, ip, integer, float, decimal, datetime,
    /// date, time, duration, choice, multiple_choice, file, list, dict, json, related,
    /// slug_related, hyperlinked, string_related, many, method, nested, any.
    pub kind: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub write_only: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub allow_null: bool,
    #[serde(default)]
    pub allow_blank: bool,
    #[serde(default)]
    pub allow_empty: Option<bool>,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub help_text: String,
    #[serde(default)]
    pub min_length: Option<u64>,
    #[serde(default)]
    pub max_length: Option<u64>,
    #[serde(default)]
    pub min_value: Option<serde_json::Number>,
    #[serde(default)]
    pub max_value: Option<serde_json::Number>,
    #[serde(default)]
    pub max_digits: Option<u32>,
    #[serde(default)]
    pub decimal_places: Option<u32>,
    /// Decimals: rendered as strings (DRF's COERCE_DECIMAL_TO_STRING).
    #[serde(default)]
    pub coerce_to_string: bool,
    #[serde(default)]
    pub choices: Option<Vec<(serde_json::Value, String)>>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// The JSON Schema format of the rendered value (`date-time` when ISO 8601, …).
    #[serde(default)]
    pub format: Option<String>,
    /// Lists, dicts and many-relations: the field of each item.
    #[serde(default)]
    pub child: Option<Box<SerializerFieldFacts>>,
    /// Nested serializers.
    #[serde(default)]
    pub fields: Option<Vec<SerializerFieldFacts>>,
    /// Related fields: the target model's label (its pk schema).
    #[serde(default)]
    pub target: Option<String>,
    /// SerializerMethodField: the schema its return annotation gives.
    #[serde(default)]
    pub returns: Option<serde_json::Value>,
}
