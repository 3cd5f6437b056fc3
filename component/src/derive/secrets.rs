//! The one redaction rule: which model fields are secrets, never sent, searched, sorted or
//! filtered on. The catalogue asks it of every field and field path it derives from; the host
//! asks it of the field paths `DJANGO_MCP_MODEL_SEARCH` entries name, while it checks and
//! gathers them, before there is a catalogue (a `secrets_crossed` step,
//! docs/engine-protocol.md).

use serde::Deserialize;
use serde_json::Value;

/// Never sent, whatever `DJANGO_MCP_REDACT_FIELDS` says: our own keys' hashes.
pub const ALWAYS_REDACTED: [&str; 1] = ["django_mcp.MCPAPIKey.secret_hash"];

/// Whether the field `field` of the model labelled `label` is a secret: the user model's
/// password hash, our keys' hashes, or a `DJANGO_MCP_REDACT_FIELDS` entry (`field` or
/// `app.Model.field`).
pub fn is_secret(redact_fields: &[String], is_user_model: bool, label: &str, field: &str) -> bool {
    (is_user_model && field == "password")
        || redact_fields
            .iter()
            .map(String::as_str)
            .chain(ALWAYS_REDACTED)
            .any(|r| r == field || r.strip_prefix(label).and_then(|rest| rest.strip_prefix('.')) == Some(field))
}

/// The first secret among the `app.Model.field` labels a field path crosses: a path to a
/// secret or through one (`author__user__password`) would show it, sort or filter by it.
pub fn first_secret(crossed: &[String], is_secret: impl Fn(&str, &str) -> bool) -> Option<&str> {
    crossed
        .iter()
        .map(String::as_str)
        .find(|label| label.rsplit_once('.').is_some_and(|(model, field)| is_secret(model, field)))
}

/// The host's question: the settings the rule reads, and the labels each path crosses.
#[derive(Debug, Deserialize)]
pub struct SecretsCrossed {
    #[serde(default)]
    redact_fields: Vec<String>,
    user_model: String,
    paths: Vec<Vec<String>>,
}

impl SecretsCrossed {
    /// One entry per path, in order: `null`, or the label of the first secret it crosses.
    pub fn answer(&self) -> Value {
        let is_secret =
            |label: &str, field: &str| is_secret(&self.redact_fields, label == self.user_model, label, field);
        self.paths.iter().map(|crossed| first_secret(crossed, is_secret).map_or(Value::Null, Value::from)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(question: Value) -> Value {
        serde_json::from_value::<SecretsCrossed>(question).unwrap().answer()
    }

    #[test]
    fn each_path_is_answered_with_the_first_secret_it_crosses() {
        let question = json!({
            "user_model": "accounts.Member",
            "redact_fields": ["library.Author.email", "ssn"],
            "paths": [
                ["library.Book.title"],
                ["library.Book.author", "accounts.Member.password"],
                ["library.Book.author", "library.Author.email"],
                ["library.Book.reader", "library.Reader.ssn"],
                ["auth.User.mcp_keys", "django_mcp.MCPAPIKey.secret_hash"],
                ["library.Book.author", "library.Author.user", "auth.User.password"],
                ["library.Book.email"],
                [],
            ],
        });
        assert_eq!(
            answer(question),
            json!([
                null,
                "accounts.Member.password",
                "library.Author.email",
                "library.Reader.ssn",
                "django_mcp.MCPAPIKey.secret_hash",
                null, // auth.User is not the user model here
                null, // an `app.Model.field` entry names that model's field only
                null,
            ])
        );
    }

    #[test]
    fn the_first_secret_is_named_when_a_path_crosses_several() {
        let question = json!({"user_model": "auth.User", "redact_fields": ["auth.User.email"],
                              "paths": [["auth.User.email", "auth.User.password"]]});
        assert_eq!(answer(question), json!(["auth.User.email"]));
    }
}
