//! JSON Schema: derived from model field facts (`fields`) and admin form field facts
//! (`forms`), and enforced on arguments (`validate`).

pub mod fields;
pub mod forms;
pub mod validate;
