//! JSON Schema: derived from model field facts (`fields`), admin form field facts (`forms`)
//! and DRF serializer field facts (`serializers`), and enforced on arguments (`validate`).

pub mod fields;
pub mod forms;
pub mod serializers;
pub mod validate;
