//! Paging: the two cursor grammars a client may send back — `o<offset>` for a list of the
//! catalogue's items, `m<template>.<offset>` for the objects of a model template
//! (`resources/list`) — and the page a plain list of values answers.

use serde_json::{json, Map, Value};

use super::errors::invalid_params;
use super::{Exchange, Output};

/// The offset a list request's `cursor` stands for.
pub(crate) fn page_offset(ex: &Exchange, params: &Map<String, Value>) -> Result<usize, Output> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(c)) => decode_cursor(c).ok_or_else(|| invalid_params(ex, "Invalid params: unknown cursor")),
        Some(_) => Err(invalid_params(ex, "Invalid params: cursor must be a string")),
    }
}

/// One page of `items` from `offset`, under `key`, with `nextCursor` only when more follow
/// (`null` breaks the TypeScript SDK).
pub(crate) fn page_of(key: &str, items: Vec<Value>, offset: usize, size: usize) -> Value {
    let size = size.max(1);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let mut result = json!({ key: page });
    // Saturating: a cursor is the client's text, and may name any offset.
    let next = offset.saturating_add(size);
    if next < total {
        result["nextCursor"] = json!(encode_cursor(next));
    }
    result
}

pub(crate) fn encode_cursor(offset: usize) -> String {
    format!("o{offset}")
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<usize> {
    cursor.strip_prefix('o')?.parse().ok()
}

pub(crate) fn objects_cursor(template: usize, offset: usize) -> String {
    format!("m{template}.{offset}")
}

pub(crate) fn decode_objects_cursor(cursor: &str) -> Option<(usize, usize)> {
    let (template, offset) = cursor.strip_prefix('m')?.split_once('.')?;
    Some((template.parse().ok()?, offset.parse().ok()?))
}
