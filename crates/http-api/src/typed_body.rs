//! Typed request bodies: one struct, deriving `Deserialize` and `ToSchema`, is both a body's
//! published schema and its reader, so the document cannot drift from what the server takes.
//!
//! Reading a body checks each sent field against the struct's own schema first: its type
//! (a form's text is read as the number, boolean, date or list the schema names) and whether it
//! may be null, in nested bodies too. Every problem is collected under its field's name, in the
//! surface's words ([`Words`]). Only a body that passes is deserialized, with absent (`None`),
//! null (`Some(None)`) and a value (`Some(Some(v))`) kept apart for every `Option<Option<T>>`
//! field. The CRM REST surface reads JSON or forms through `RestBody::read`; the other surfaces
//! read JSON through the [`Typed`] extractor.
//!
//! Which fields a record needs is the domain's rule, checked with the record's other rules so
//! that one answer names every problem; on the CRM REST surface a test sweeps every create to
//! hold the schemas' `required` lists to it.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use kernel::{FieldErrors, push_error};
use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};
use std::any::TypeId;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, OnceLock, RwLock};
use utoipa::ToSchema;

/// Whose words a problem is told in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    /// Django REST framework's, as the CRM REST surface answers ("A valid integer is required.").
    Drf,
    /// The field's name and what it must be ("customerId must be an integer."), as the other
    /// surfaces answer.
    Named,
}

/// How a body is read: from a form (text values) or JSON, told in which words.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    pub form: bool,
    pub words: Words,
}

/// Reads `fields` as the body `B`, or every problem by field.
pub fn read<B: DeserializeOwned + ToSchema + 'static>(
    mut fields: Map<String, Value>,
    how: Reading,
) -> Result<B, FieldErrors> {
    let mut errors = FieldErrors::new();
    rules::<B>().check(&mut fields, how, "", &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    B::deserialize(Fields(fields)).map_err(|e| {
        // The schema and the struct disagree: a defect of the declaration, named as such.
        let mut errors = FieldErrors::new();
        push_error(&mut errors, "non_field_errors", format!("Invalid body: {e}"));
        errors
    })
}

/// What is wrong with a sent value.
#[derive(Clone, Copy, Debug)]
enum Problem {
    Null,
    Blank,
    Text,
    Date,
    Instant,
    Integer,
    Number,
    Boolean,
    FormBoolean,
    List,
    IntegerItem,
    TextItem,
    Item,
    Object,
    Json,
}

impl Words {
    fn tell(self, problem: Problem, field: &str) -> String {
        match self {
            Words::Drf => match problem {
                Problem::Null => "This field may not be null.",
                Problem::Blank => "This field may not be blank.",
                Problem::Text => "Not a valid string.",
                Problem::Date => "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                Problem::Instant => "Datetime has wrong format. Use ISO 8601, e.g. 2024-01-20T14:00:00Z.",
                Problem::Integer => "A valid integer is required.",
                Problem::Number => "A valid number is required.",
                Problem::Boolean => "Must be a valid boolean.",
                Problem::FormBoolean => "Must be a valid boolean: true or false.",
                Problem::List => "Expected a list of items.",
                Problem::IntegerItem => "Every item must be an integer id.",
                Problem::TextItem => "Every item must be a string.",
                Problem::Item => "An item of the list is not valid.",
                Problem::Object => "Expected an object.",
                Problem::Json => "Value must be valid JSON.",
            }
            .to_string(),
            Words::Named => {
                let what = match problem {
                    Problem::Null => "may not be null",
                    Problem::Blank => "may not be blank",
                    Problem::Text => "must be a string",
                    Problem::Date => "must be a date, YYYY-MM-DD",
                    Problem::Instant => "must be a date and time in ISO 8601, e.g. 2024-01-20T14:00:00Z",
                    Problem::Integer => "must be an integer",
                    Problem::Number => "must be a number, e.g. 1500.50",
                    Problem::Boolean | Problem::FormBoolean => "must be true or false",
                    Problem::List => "must be a list",
                    Problem::IntegerItem => "must be a list of integers",
                    Problem::TextItem => "must be a list of strings",
                    Problem::Item => "has an item that is not valid",
                    Problem::Object => "must be an object",
                    Problem::Json => "must be valid JSON",
                };
                format!("{field} {what}.")
            }
        }
    }
}

/// A JSON object body read as `B` (see [`read`]), every problem named by field in the words of
/// the surfaces other than the CRM REST one ([`Words::Named`]).
pub struct Typed<B>(pub B);

impl<B: DeserializeOwned + ToSchema + 'static> FromRequest for Typed<B> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move { Ok(Typed(json_object(json.await?.into_inner())?)) })
    }
}

/// A JSON body read as `B` as [`Typed`] reads it, for routes that read their payload themselves.
pub fn json_object<B: DeserializeOwned + ToSchema + 'static>(body: Value) -> Result<B, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::validation("The request body must be a JSON object."));
    };
    read(fields, Reading { form: false, words: Words::Named }).map_err(ApiError::fields)
}

/// What a field's schema says about the values it takes.
#[derive(Debug)]
struct Rule {
    kind: Kind,
    nullable: bool,
}

#[derive(Debug)]
enum Kind {
    Text,
    Date,
    Instant,
    Integer,
    Number,
    Boolean,
    List(Box<Kind>),
    /// A nested body, checked by its own rules.
    Object(Rules),
    /// Any JSON (a form sends it as JSON text).
    Json,
}

/// The rules of a body's fields.
#[derive(Debug, Default)]
struct Rules {
    fields: Vec<(String, Rule)>,
}

/// The rules of `B`, read once from its schema.
fn rules<B: ToSchema + 'static>() -> Arc<Rules> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<Rules>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = TypeId::of::<B>();
    if let Some(rules) = cache.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return rules.clone();
    }
    let mut nested = Vec::new();
    B::schemas(&mut nested);
    let components: Map<String, Value> =
        nested.into_iter().map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default())).collect();
    let schema = serde_json::to_value(B::schema()).unwrap_or_default();
    let rules = Arc::new(Rules::of(&schema, &components, 0));
    cache.write().unwrap_or_else(|e| e.into_inner()).insert(id, rules.clone());
    rules
}

/// How deep nested bodies are followed (a body that nests itself stops there).
const MAX_NESTING: usize = 8;

impl Rules {
    fn of(schema: &Value, components: &Map<String, Value>, depth: usize) -> Rules {
        if depth > MAX_NESTING {
            return Rules::default();
        }
        let fields = schema["properties"]
            .as_object()
            .map(|p| p.iter().map(|(name, s)| (name.clone(), Rule::of(s, components, depth))).collect())
            .unwrap_or_default();
        Rules { fields }
    }

    /// Checks the sent `fields`, naming problems `<prefix><field>`.
    fn check(&self, fields: &mut Map<String, Value>, read: Reading, prefix: &str, errors: &mut FieldErrors) {
        for (name, rule) in &self.fields {
            if let Some(value) = fields.get_mut(name) {
                rule.check(&format!("{prefix}{name}"), value, read, errors);
            }
        }
    }
}

/// The component a schema refers to, directly or as one of its alternatives.
fn reference<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> Option<&'a Value> {
    let target = |s: &'a Value| s["$ref"].as_str().and_then(|r| components.get(r.rsplit('/').next()?));
    target(schema).or_else(|| schema["oneOf"].as_array()?.iter().find_map(target))
}

/// The types a schema names (`"string"` or `["string", "null"]`).
fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Rule {
    fn of(schema: &Value, components: &Map<String, Value>, depth: usize) -> Rule {
        let types = types(schema);
        // `oneOf: [{type: null}, {$ref}]` is a nullable reference; anything without a type is JSON.
        let nullable = types.contains(&"null")
            || schema["oneOf"].as_array().is_some_and(|o| o.iter().any(types_of_null))
            || schema.get("type").is_none() && schema.get("oneOf").is_none() && schema.get("$ref").is_none();
        let kind = match reference(schema, components) {
            Some(target) => Kind::Object(Rules::of(target, components, depth + 1)),
            None => Kind::of(schema, &types),
        };
        Rule { kind, nullable }
    }

    /// Checks `value`, rewriting a form's text (and a date or number) to what the struct reads.
    fn check(&self, name: &str, value: &mut Value, read: Reading, errors: &mut FieldErrors) {
        let Reading { form, words } = read;
        let null = match value {
            Value::Null => true,
            // A form has no null of its own: an empty value and the word `null` are its null.
            Value::String(s) if form => matches!(s.as_str(), "" | "null" | "Null" | "NULL"),
            _ => false,
        };
        if null {
            if self.nullable {
                *value = Value::Null;
            } else {
                let blank = matches!(self.kind, Kind::Text) && value.as_str().is_some();
                push_error(errors, name, words.tell(if blank { Problem::Blank } else { Problem::Null }, name));
            }
            return;
        }
        match (&self.kind, value) {
            (Kind::Object(rules), Value::Object(fields)) => {
                rules.check(fields, Reading { form: false, words }, &format!("{name}."), errors)
            }
            (kind, value) => {
                if let Err(problem) = kind.check(value, form) {
                    push_error(errors, name, words.tell(problem, name));
                }
            }
        }
    }
}

fn types_of_null(schema: &Value) -> bool {
    types(schema).contains(&"null")
}

impl Kind {
    fn of(schema: &Value, types: &[&str]) -> Kind {
        let format = schema["format"].as_str().unwrap_or("");
        let mut named = types.iter().filter(|t| **t != "null");
        let (first, second) = (named.next().copied(), named.next());
        if second.is_some() {
            // Several types (a string or a number): the handler reads which one came.
            return Kind::Json;
        }
        match first {
            Some("string") if format == "date" => Kind::Date,
            Some("string") if format == "date-time" => Kind::Instant,
            Some("string") => Kind::Text,
            Some("integer") => Kind::Integer,
            Some("number") => Kind::Number,
            Some("boolean") => Kind::Boolean,
            Some("array") => {
                let items = &schema["items"];
                Kind::List(Box::new(Kind::of(items, &self::types(items))))
            }
            _ => Kind::Json,
        }
    }

    fn check(&self, value: &mut Value, form: bool) -> Result<(), Problem> {
        match self {
            Kind::Text => match value {
                Value::String(_) => Ok(()),
                _ => Err(Problem::Text),
            },
            Kind::Date => match value.as_str().map(|s| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")) {
                Some(Ok(day)) => {
                    *value = Value::String(day.to_string());
                    Ok(())
                }
                _ => Err(Problem::Date),
            },
            Kind::Instant => match value.as_str().and_then(kernel::listing::parse_instant) {
                Some(t) => {
                    *value = Value::String(t.to_rfc3339());
                    Ok(())
                }
                None => Err(Problem::Instant),
            },
            Kind::Integer => match value {
                Value::Number(n) if n.is_i64() => Ok(()),
                Value::String(s) => match s.trim().parse::<i64>() {
                    Ok(n) => {
                        *value = Value::from(n);
                        Ok(())
                    }
                    Err(_) => Err(Problem::Integer),
                },
                _ => Err(Problem::Integer),
            },
            Kind::Number => {
                let text = match value {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.trim().to_string(),
                    _ => return Err(Problem::Number),
                };
                // Kept as exact text: the struct reads it as a `Decimal`.
                match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
                    Ok(d) => {
                        *value = Value::String(d.to_string());
                        Ok(())
                    }
                    Err(_) => Err(Problem::Number),
                }
            }
            Kind::Boolean => match value {
                Value::Bool(_) => Ok(()),
                Value::String(s) if form => match kernel::listing::parse_bool(s) {
                    Some(b) => {
                        *value = Value::Bool(b);
                        Ok(())
                    }
                    None => Err(Problem::FormBoolean),
                },
                _ => Err(Problem::Boolean),
            },
            Kind::List(item) => {
                if let (Value::String(s), true) = (&*value, form) {
                    // A form sends a list comma-separated.
                    let parts = s.split(',').map(str::trim).filter(|p| !p.is_empty());
                    *value = Value::Array(parts.map(|p| Value::String(p.to_string())).collect());
                }
                let Value::Array(items) = value else { return Err(Problem::List) };
                for v in items.iter_mut() {
                    if v.is_null() || item.check(v, form).is_err() {
                        return Err(match **item {
                            Kind::Integer => Problem::IntegerItem,
                            Kind::Text => Problem::TextItem,
                            _ => Problem::Item,
                        });
                    }
                }
                Ok(())
            }
            Kind::Object(_) => Err(Problem::Object),
            Kind::Json => {
                if let (Value::String(s), true) = (&*value, form) {
                    *value = serde_json::from_str(s).map_err(|_| Problem::Json)?;
                }
                Ok(())
            }
        }
    }
}

/// The checked fields, deserialized as a map whose every value is present: an
/// `Option<Option<T>>` reads a null as `Some(None)` and only an absent field as `None`.
struct Fields(Map<String, Value>);

impl<'de> de::Deserializer<'de> for Fields {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(Entries { iter: self.0.into_iter(), value: None })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.iter.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(IntoDeserializer::<Self::Error>::into_deserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        seed.deserialize(Sent { value: self.value.take().unwrap_or_default(), outer: true })
    }
}

/// A sent value. Under its field's outer `Option` (`outer`) it is `Some` even when null, so
/// that null and absent stay apart; below that, null is `None`. A nested body's fields are read
/// the same way.
struct Sent {
    value: Value,
    outer: bool,
}

impl<'de> de::Deserializer<'de> for Sent {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(fields) => visitor.visit_map(Entries { iter: fields.into_iter(), value: None }),
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null if !self.outer => visitor.visit_none(),
            value => visitor.visit_some(Sent { value, outer: false }),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        de::Deserializer::deserialize_enum(self.value, name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::Deserialize;
    use serde_json::json;

    /// A body with a field of every kind.
    #[derive(Deserialize, ToSchema, Debug, Default)]
    #[allow(dead_code)]
    struct Sample {
        #[schema(required = true, nullable = false)]
        name: Option<Option<String>>,
        note: Option<Option<String>>,
        #[schema(nullable = false)]
        active: Option<Option<bool>>,
        count: Option<Option<i64>>,
        #[schema(value_type = Option<f64>)]
        amount: Option<Option<Decimal>>,
        day: Option<Option<NaiveDate>>,
        at: Option<Option<DateTime<Utc>>>,
        ids: Option<Option<Vec<i64>>>,
        tags: Option<Option<Vec<String>>>,
        #[schema(value_type = Option<Object>)]
        extra: Option<Option<Value>>,
    }

    fn json_body(v: Value) -> Result<Sample, FieldErrors> {
        read(v.as_object().unwrap().clone(), Reading { form: false, words: Words::Drf })
    }

    fn form_body(v: Value) -> Result<Sample, FieldErrors> {
        read(v.as_object().unwrap().clone(), Reading { form: true, words: Words::Drf })
    }

    #[test]
    fn absent_null_and_a_value_stay_apart() {
        let s = json_body(json!({"name": "A", "note": null, "count": 3})).unwrap();
        assert_eq!(s.name, Some(Some("A".into())));
        assert_eq!(s.note, Some(None));
        assert_eq!(s.count, Some(Some(3)));
        assert_eq!(s.active, None);
    }

    #[test]
    fn a_form_is_read_as_the_schema_types() {
        let s = form_body(json!({"name": "A", "active": "TRUE", "count": "7", "amount": "12.50", "day": "2024-01-02",
                   "at": "2024-01-02", "ids": "1, 2", "tags": "a,b", "extra": "{\"k\": 1}", "note": "null"}))
        .unwrap();
        assert_eq!(s.active, Some(Some(true)));
        assert_eq!(s.count, Some(Some(7)));
        assert_eq!(s.amount, Some(Some(Decimal::new(1250, 2))));
        assert_eq!(s.day, Some(NaiveDate::from_ymd_opt(2024, 1, 2)));
        assert_eq!(s.at.flatten().map(|t| t.to_rfc3339()).as_deref(), Some("2024-01-02T00:00:00+00:00"));
        assert_eq!(s.ids, Some(Some(vec![1, 2])));
        assert_eq!(s.tags, Some(Some(vec!["a".into(), "b".into()])));
        assert_eq!(s.extra, Some(Some(json!({"k": 1}))));
        assert_eq!(s.note, Some(None));
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let errors =
            json_body(json!({"note": 5, "active": null, "count": "x", "amount": [], "day": "2024-13-01", "at": 1,
                   "ids": [1, "a"], "tags": "a"}))
            .unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["active", "amount", "at", "count", "day", "ids", "note", "tags"]);
        assert_eq!(errors["active"], ["This field may not be null."]);
        assert_eq!(errors["note"], ["Not a valid string."]);
        assert_eq!(errors["ids"], ["Every item must be an integer id."]);
    }

    #[test]
    fn a_missing_field_is_left_to_the_domain_but_a_null_one_is_refused() {
        assert_eq!(json_body(json!({"count": 1})).unwrap().name, None);
        let errors = json_body(json!({"name": null})).unwrap_err();
        assert_eq!(errors["name"], ["This field may not be null."]);
        let errors = form_body(json!({"name": ""})).unwrap_err();
        assert_eq!(errors["name"], ["This field may not be blank."]);
    }

    /// A body nesting another.
    #[derive(Deserialize, ToSchema, Debug, Default)]
    #[allow(dead_code)]
    struct Outer {
        inner: Option<Option<Sample>>,
    }

    fn outer(v: Value) -> Result<Outer, FieldErrors> {
        read(v.as_object().unwrap().clone(), Reading { form: false, words: Words::Named })
    }

    #[test]
    fn a_nested_body_is_checked_and_its_problems_named_under_its_field() {
        let errors = outer(json!({"inner": {"count": "x", "active": null}})).unwrap_err();
        assert_eq!(errors["inner.count"], ["inner.count must be an integer."]);
        assert_eq!(errors["inner.active"], ["inner.active may not be null."]);
        assert_eq!(outer(json!({"inner": 5})).unwrap_err()["inner"], ["inner must be an object."]);
        let read = outer(json!({"inner": {"note": null, "count": 2}})).unwrap();
        let inner = read.inner.flatten().unwrap();
        assert_eq!((inner.note, inner.count, inner.name), (Some(None), Some(Some(2)), None));
        assert!(matches!(outer(json!({"inner": null})).unwrap().inner, Some(None)));
    }

    #[test]
    fn json_text_is_no_boolean_but_form_text_is() {
        let errors = json_body(json!({"name": "A", "active": "true"})).unwrap_err();
        assert_eq!(errors["active"], ["Must be a valid boolean."]);
        assert!(form_body(json!({"name": "A", "active": "false"})).is_ok());
    }
}
