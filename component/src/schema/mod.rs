//! JSON Schema: derived from field facts (`fields`) and enforced on arguments (`validate`).

pub mod fields;
pub mod validate;
