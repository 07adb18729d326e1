//! A small seeded input generator for the fuzz campaign (RELIABILITY.md): GraphQL documents
//! and variables generated from the server's own schema (read by introspection), mutations of
//! such documents, hostile values; ping bodies (manifests, restic JSON); mutated JSON values.
//! Our own rather than a fuzzing crate: the cases must run against a live server over HTTP,
//! seeded and bounded in count, and the generator needs the schema, which no crate knows.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::Rng;
use serde_json::{json, Value};

/// How many cases a campaign runs: `SAVECORP_FUZZ_CASES`, else `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("SAVECORP_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// A GraphQL type reference.
#[derive(Clone, Debug)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_introspection(value: &Value) -> TypeRef {
        match value["kind"].as_str() {
            Some("NON_NULL") => {
                TypeRef::NonNull(Box::new(Self::from_introspection(&value["ofType"])))
            }
            Some("LIST") => TypeRef::List(Box::new(Self::from_introspection(&value["ofType"]))),
            _ => TypeRef::Named(value["name"].as_str().unwrap_or("String").to_owned()),
        }
    }

    /// The named type at the bottom.
    pub fn name(&self) -> &str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.name(),
        }
    }

    /// The type as GraphQL writes it (`[String!]!`).
    pub fn render(&self) -> String {
        match self {
            TypeRef::Named(name) => name.clone(),
            TypeRef::List(inner) => format!("[{}]", inner.render()),
            TypeRef::NonNull(inner) => format!("{}!", inner.render()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct InputValue {
    pub name: String,
    pub ty: TypeRef,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub args: Vec<InputValue>,
    pub ty: TypeRef,
}

#[derive(Clone, Debug, Default)]
pub struct TypeDef {
    pub kind: String,
    pub fields: Vec<Field>,
    pub input_fields: Vec<InputValue>,
    pub enum_values: Vec<String>,
}

/// The schema as the generator needs it.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub types: BTreeMap<String, TypeDef>,
    pub query: String,
    pub mutation: String,
}

/// An introspection query within the server's depth limit (three `ofType` levels cover
/// `[X!]!`).
pub const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name } \
    types { name kind enumValues { name } \
      fields { name type { ...T } args { name type { ...T } } } \
      inputFields { name type { ...T } } } } } \
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn input_values(values: &Value) -> Vec<InputValue> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .map(|value| InputValue {
            name: value["name"].as_str().unwrap_or_default().to_owned(),
            ty: TypeRef::from_introspection(&value["type"]),
        })
        .collect()
}

impl Schema {
    /// Reads the `data` of [`INTROSPECTION`].
    pub fn from_introspection(data: &Value) -> Schema {
        let schema = &data["__schema"];
        let mut types = BTreeMap::new();
        for ty in schema["types"].as_array().expect("types") {
            let name = ty["name"].as_str().unwrap_or_default().to_owned();
            let fields = ty["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|field| Field {
                    name: field["name"].as_str().unwrap_or_default().to_owned(),
                    args: input_values(&field["args"]),
                    ty: TypeRef::from_introspection(&field["type"]),
                })
                .collect();
            types.insert(
                name,
                TypeDef {
                    kind: ty["kind"].as_str().unwrap_or_default().to_owned(),
                    fields,
                    input_fields: input_values(&ty["inputFields"]),
                    enum_values: ty["enumValues"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|value| value["name"].as_str().map(str::to_owned))
                        .collect(),
                },
            );
        }
        Schema {
            types,
            query: schema["queryType"]["name"]
                .as_str()
                .unwrap_or("Query")
                .into(),
            mutation: schema["mutationType"]["name"]
                .as_str()
                .unwrap_or("Mutation")
                .into(),
        }
    }
}

/// Strings worth trying anywhere a string goes.
pub fn hostile_string(rng: &mut StdRng, known: &[String]) -> String {
    match rng.gen_range(0..18) {
        0 => String::new(),
        1 => " ".repeat(rng.gen_range(1..50)),
        2 => "x".repeat(rng.gen_range(1_000..300_000)),
        3 => "名前 Ünïcödé 🚀👩‍👩‍👧 \u{202e}rtl \u{feff}".into(),
        4 => "\u{0}nul\u{1}\u{7f}".into(),
        5 => "' OR 1=1 --; DROP TABLE events; %_\\".into(),
        6 => "=HYPERLINK(\"http://x\")".into(),
        7 => uuid::Uuid::new_v4().to_string(),
        8 => "00000000-0000-0000-0000-000000000000".into(),
        9 => "+33612345678".into(),
        10 => "2026-11-27T10:00:00Z".into(),
        11 => "not a date 2026-13-45T25:61:61+99:99".into(),
        12 => format!("{}", rng.gen::<i64>()),
        13 => "a@b".into(),
        14 => "PJSIP/2001".into(),
        15 => "Europe/Paris".into(),
        16 if !known.is_empty() => known.choose(rng).expect("known").clone(),
        _ => {
            let len = rng.gen_range(0..40);
            (0..len)
                .map(|_| char::from_u32(rng.gen_range(1..0x2_FFFF)).unwrap_or('?'))
                .collect()
        }
    }
}

fn hostile_int(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..10) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(i32::MAX),
        3 => json!(i32::MIN),
        4 => json!(i64::MAX),
        5 => json!(1e300),
        6 => json!(0.5),
        7 => json!(100),
        8 => json!(101),
        _ => json!(rng.gen_range(-1000..1000)),
    }
}

/// Any JSON value, nested up to `depth`.
pub fn random_json(rng: &mut StdRng, depth: u32, known: &[String]) -> Value {
    match rng.gen_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => hostile_int(rng),
        3 | 4 => json!(hostile_string(rng, known)),
        5 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_json(rng, depth - 1, known))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.gen_range(0..4))
                .map(|_| {
                    (
                        hostile_string(rng, known).chars().take(20).collect(),
                        random_json(rng, depth - 1, known),
                    )
                })
                .collect(),
        ),
    }
}

/// A GraphQL input value, as JSON (for variables) — `literal` renders it.
fn input_value(
    rng: &mut StdRng,
    schema: &Schema,
    ty: &TypeRef,
    depth: u32,
    known: &[String],
) -> Value {
    if rng.gen_ratio(1, 25) {
        // The wrong type.
        return random_json(rng, 1, known);
    }
    match ty {
        TypeRef::NonNull(inner) => {
            if rng.gen_ratio(1, 30) {
                Value::Null
            } else {
                input_value(rng, schema, inner, depth, known)
            }
        }
        TypeRef::List(inner) => {
            let count = if rng.gen_ratio(1, 40) {
                300
            } else {
                rng.gen_range(0..4)
            };
            Value::Array(
                (0..count)
                    .map(|_| input_value(rng, schema, inner, depth.saturating_sub(1), known))
                    .collect(),
            )
        }
        TypeRef::Named(name) => {
            if rng.gen_ratio(1, 15) {
                return Value::Null;
            }
            let def = schema.types.get(name);
            match (name.as_str(), def.map(|def| def.kind.as_str())) {
                ("Int", _) => hostile_int(rng),
                ("Float", _) => json!([0.0, -1.5, 1e308, 3.25][rng.gen_range(0..4)]),
                ("Boolean", _) => json!(rng.gen::<bool>()),
                (_, Some("ENUM")) => {
                    let def = def.expect("enum");
                    if rng.gen_ratio(1, 10) || def.enum_values.is_empty() {
                        json!("NOT_A_VALUE")
                    } else {
                        json!(def.enum_values.choose(rng).expect("value"))
                    }
                }
                (_, Some("INPUT_OBJECT")) if depth > 0 => {
                    let def = def.expect("input");
                    let mut object = serde_json::Map::new();
                    for field in &def.input_fields {
                        let required = matches!(field.ty, TypeRef::NonNull(_));
                        if (required && !rng.gen_ratio(1, 20)) || rng.gen_bool(0.5) {
                            object.insert(
                                field.name.clone(),
                                input_value(rng, schema, &field.ty, depth - 1, known),
                            );
                        }
                    }
                    if rng.gen_ratio(1, 20) {
                        object.insert("unknownField".into(), json!(1));
                    }
                    Value::Object(object)
                }
                ("JSON", _) => random_json(rng, 3, known),
                _ => json!(hostile_string(rng, known)),
            }
        }
    }
}

/// A JSON value as a GraphQL literal of the (expected) type `ty`: enum names unquoted.
fn literal(schema: &Schema, ty: &TypeRef, value: &Value) -> String {
    let inner = match ty {
        TypeRef::NonNull(inner) => inner.as_ref(),
        other => other,
    };
    match (inner, value) {
        (_, Value::Null) => "null".into(),
        (TypeRef::List(item), Value::Array(items)) => format!(
            "[{}]",
            items
                .iter()
                .map(|value| literal(schema, item, value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (TypeRef::Named(name), Value::String(text))
            if schema.types.get(name).is_some_and(|def| def.kind == "ENUM")
                && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !text.is_empty() =>
        {
            text.clone()
        }
        (TypeRef::Named(name), Value::Object(object)) => {
            let fields = schema.types.get(name).map(|def| def.input_fields.clone());
            format!(
                "{{{}}}",
                object
                    .iter()
                    .map(|(key, value)| {
                        let ty = fields
                            .as_ref()
                            .and_then(|fields| fields.iter().find(|field| &field.name == key))
                            .map_or(TypeRef::Named("String".into()), |field| field.ty.clone());
                        let key = if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            && !key.is_empty()
                            && !key.starts_with(|c: char| c.is_ascii_digit())
                        {
                            key.clone()
                        } else {
                            "bad_key".into()
                        };
                        format!("{key}: {}", literal(schema, &ty, value))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        (_, Value::Array(items)) => format!(
            "[{}]",
            items
                .iter()
                .map(|value| literal(schema, &TypeRef::Named("String".into()), value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (_, Value::Object(_)) => "{}".into(),
        (_, other) => other.to_string(),
    }
}

/// A selection set for `type_name` (empty for leaves).
fn selection(
    rng: &mut StdRng,
    schema: &Schema,
    type_name: &str,
    depth: u32,
    known: &[String],
) -> String {
    let Some(def) = schema.types.get(type_name) else {
        return String::new();
    };
    if !matches!(def.kind.as_str(), "OBJECT" | "INTERFACE") || def.fields.is_empty() {
        if matches!(def.kind.as_str(), "UNION") {
            return "{ __typename }".into();
        }
        return String::new();
    }
    if depth == 0 {
        return "{ __typename }".into();
    }
    let count = rng.gen_range(1..=3.min(def.fields.len()));
    let mut parts = Vec::new();
    for field in def.fields.choose_multiple(rng, count) {
        let mut part = field.name.clone();
        let mut args: Vec<String> = Vec::new();
        for arg in &field.args {
            if matches!(arg.ty, TypeRef::NonNull(_)) || rng.gen_ratio(1, 4) {
                let value = input_value(rng, schema, &arg.ty, 3, known);
                args.push(format!(
                    "{}: {}",
                    arg.name,
                    literal(schema, &arg.ty, &value)
                ));
            }
        }
        if !args.is_empty() {
            part.push_str(&format!("({})", args.join(", ")));
        }
        let sub = selection(rng, schema, field.ty.name(), depth - 1, known);
        if !sub.is_empty() {
            part.push(' ');
            part.push_str(&sub);
        }
        parts.push(part);
    }
    if rng.gen_ratio(1, 10) {
        parts.push("__typename".into());
    }
    format!("{{ {} }}", parts.join(" "))
}

/// A document from the schema: one root field of the query or mutation type, arguments as
/// literals or variables, and a selection. Returns (document, variables).
pub fn document(rng: &mut StdRng, schema: &Schema, known: &[String]) -> (String, Value) {
    // `SAVECORP_FUZZ_MUTATION_SHARE` (0..1) and `SAVECORP_FUZZ_FIELD` (a root field's name) aim
    // a campaign at mutations or at one operation.
    let share: f64 = std::env::var("SAVECORP_FUZZ_MUTATION_SHARE")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0.4);
    let mutation = rng.gen_bool(share.clamp(0.0, 1.0));
    let (keyword, root) = if mutation {
        ("mutation", &schema.mutation)
    } else {
        ("query", &schema.query)
    };
    let def = &schema.types[root];
    let only = std::env::var("SAVECORP_FUZZ_FIELD").ok();
    let field = match only
        .as_deref()
        .and_then(|name| def.fields.iter().find(|f| f.name == name))
    {
        Some(field) => field,
        None => def.fields.choose(rng).expect("root fields"),
    };
    let mut declarations = Vec::new();
    let mut variables = serde_json::Map::new();
    let mut args = Vec::new();
    for (index, arg) in field.args.iter().enumerate() {
        let required = matches!(arg.ty, TypeRef::NonNull(_));
        // Required arguments are left out now and then; optional ones half the time.
        let include = if required {
            !rng.gen_ratio(1, 20)
        } else {
            rng.gen_bool(0.5)
        };
        if !include {
            continue;
        }
        let value = input_value(rng, schema, &arg.ty, 3, known);
        if rng.gen_bool(0.4) {
            let name = format!("v{index}");
            let declared = if rng.gen_ratio(1, 15) {
                "String".to_owned()
            } else {
                arg.ty.render()
            };
            declarations.push(format!("${name}: {declared}"));
            if !rng.gen_ratio(1, 20) {
                variables.insert(name.clone(), value);
            }
            args.push(format!("{}: ${name}", arg.name));
        } else {
            args.push(format!(
                "{}: {}",
                arg.name,
                literal(schema, &arg.ty, &value)
            ));
        }
    }
    let mut text = keyword.to_owned();
    if !declarations.is_empty() {
        text.push_str(&format!("({})", declarations.join(", ")));
    }
    text.push_str(" { ");
    text.push_str(&field.name);
    if !args.is_empty() {
        text.push_str(&format!("({})", args.join(", ")));
    }
    let sub = selection(rng, schema, field.ty.name(), 4, known);
    if !sub.is_empty() {
        text.push(' ');
        text.push_str(&sub);
    }
    text.push_str(" }");
    (text, Value::Object(variables))
}

/// A hostile change to a document's text.
pub fn mutate_text(rng: &mut StdRng, text: &str, known: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len().max(1);
    let at = rng.gen_range(0..len);
    let to = (at + rng.gen_range(0..20)).min(chars.len());
    let piece: String = chars[at.min(chars.len())..to].iter().collect();
    let head: String = chars[..at.min(chars.len())].iter().collect();
    let tail: String = chars[to..].iter().collect();
    match rng.gen_range(0..12) {
        0 => format!("{head}{tail}"),
        1 => format!("{head}{piece}{piece}{tail}"),
        2 => {
            let c = *[
                '{', '}', '(', ')', '"', '$', '@', ':', '!', '[', ']', '#', '\\', '\u{0}', 'é', '…',
            ]
            .choose(rng)
            .expect("char");
            format!("{head}{c}{tail}")
        }
        3 => chars[..at].iter().collect(),
        4 => {
            let depth = rng.gen_range(20..3000);
            format!(
                "{{ {}me {{ id }}{} }}",
                "me { presence { ".repeat(depth),
                " } }".repeat(depth)
            )
        }
        5 => {
            let count = rng.gen_range(100..5000);
            let aliases: String = (0..count).map(|i| format!("a{i}: logHead ")).collect();
            format!("{{ {aliases} }}")
        }
        6 => "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }".into(),
        7 => format!(
            "{head} @skip(if: true) @include(if: false) @deprecated @unknown{tail}"
        ),
        8 => format!("{head}\"{}\"{tail}", hostile_string(rng, known).replace('"', "")),
        9 => format!("{text} {text}"),
        10 => "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }".into(),
        _ => format!("{head}{}{tail}", "[".repeat(rng.gen_range(1..2000))),
    }
}

/// A line of a manifest or of restic `--json` output, valid or hostile.
pub fn ingest_line(rng: &mut StdRng, index: usize, known: &[String]) -> String {
    let path = if rng.gen_ratio(1, 5) {
        hostile_string(rng, known)
    } else {
        format!("dir/file-{index}.txt")
    };
    match rng.gen_range(0..14) {
        0..=4 => json!({"path": path, "size": rng.gen_range(0..1_000_000u64),
                        "mtime": 1_732_680_000 + index as i64, "hash": format!("{:064x}", index)})
        .to_string(),
        5 => json!({"path": path, "size": -5, "mtime": "yesterday", "hash": 3}).to_string(),
        6 => json!({"message_type": "status", "percent_done": 0.5, "total_files": 10,
                    "files_done": 5, "bytes_done": 10})
        .to_string(),
        7 => json!({"message_type": "summary", "files_new": rng.gen_range(0..100),
                    "files_changed": 1, "files_unmodified": 2, "dirs_new": 0,
                    "data_added": hostile_int(rng), "total_files_processed": 3,
                    "total_bytes_processed": 100, "snapshot_id": "abcdef"})
        .to_string(),
        8 => json!({"message_type": "verbose_status", "action": "new", "item": path,
                    "data_size": 12})
        .to_string(),
        9 => json!({"message_type": "error", "error": {"message": "permission denied"},
                    "during": "scan", "item": path})
        .to_string(),
        10 => random_json(rng, 3, known).to_string(),
        11 => String::new(),
        12 => "x".repeat(rng.gen_range(60_000..70_000)),
        _ => {
            let line = json!({"path": path, "size": 1, "mtime": 1, "hash": "h"}).to_string();
            let cut = rng.gen_range(0..line.len());
            line[..line.floor_char_boundary_compat(cut)].to_owned()
        }
    }
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for String {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        while index > 0 && !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

/// A hostile change to a JSON value: one node replaced, a key removed or added.
pub fn mutate_json(rng: &mut StdRng, value: &mut Value, known: &[String]) {
    match value {
        Value::Object(object) if !object.is_empty() && rng.gen_bool(0.7) => {
            let keys: Vec<String> = object.keys().cloned().collect();
            let key = keys.choose(rng).expect("key").clone();
            match rng.gen_range(0..4) {
                0 => {
                    object.remove(&key);
                }
                1 => {
                    object.insert(key, random_json(rng, 2, known));
                }
                _ => mutate_json(rng, object.get_mut(&key).expect("key"), known),
            }
        }
        Value::Array(items) if !items.is_empty() && rng.gen_bool(0.7) => {
            let index = rng.gen_range(0..items.len());
            mutate_json(rng, &mut items[index], known);
        }
        other => *other = random_json(rng, 2, known),
    }
}
