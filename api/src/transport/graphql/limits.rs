//! The limits every GraphQL document is checked against before validation (PRODUCT §11;
//! README "Limits"):
//!
//! - depth: at most [`MAX_DEPTH`] nested fields (`QUERY_TOO_DEEP`). Introspection (`__schema`,
//!   `__type`) is not counted, so the standard introspection query of graphql-js (its
//!   `TypeRef` fragment nests `ofType` 8 levels) passes whole; instead, as graphql-js's
//!   `MaxIntrospectionDepthRule` does, an introspection may not nest `fields`, `inputFields`,
//!   `interfaces` or `possibleTypes` [`MAX_INTROSPECTION_LIST_DEPTH`] levels deep (each level
//!   multiplies the answer by the number of types), nor nest more than
//!   [`MAX_INTROSPECTION_DEPTH`] fields in all;
//! - nodes: as GitHub's node limit, every connection's page (`first` / `last`, else
//!   [`DEFAULT_PAGE_SIZE`]) times the pages of the connections around it, summed, at most
//!   [`MAX_NODES`] (`MAX_NODE_LIMIT_EXCEEDED`): 50 aliases of `customers(first: 100)` ask
//!   for 5,000 nodes and are refused;
//! - complexity: at most [`super::MAX_COMPLEXITY`] fields (async-graphql's count,
//!   `QUERY_TOO_COMPLEX`).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, ServerError, Value, Variables};

use super::connection::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Deepest selection accepted (introspection aside).
pub const MAX_DEPTH: usize = 10;
/// Most nodes (connection items) one document may ask for.
pub const MAX_NODES: usize = 1_000;
/// How deep `fields` / `inputFields` / `interfaces` / `possibleTypes` may nest in an
/// introspection (graphql-js refuses 3).
pub const MAX_INTROSPECTION_LIST_DEPTH: usize = 3;
/// Deepest introspection selection (the standard query nests 13).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

/// How deep fragment spreads are followed (a cycle is refused by validation afterwards).
const MAX_SPREADS: usize = 32;

fn refused(code: &'static str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// Put in a request's data when its caller may not introspect (`SAVECORP_INTROSPECTION`):
/// `__schema` and `__type` are then refused `INTROSPECTION_DISABLED` (`__typename` stays).
#[derive(Clone, Copy, Debug)]
pub struct IntrospectionDenied;

/// Checks `document` against the depth, introspection and node limits.
pub fn check(
    document: &ExecutableDocument,
    variables: &Variables,
    introspection_allowed: bool,
) -> Result<(), ServerError> {
    let walker = Walker {
        document,
        variables,
        introspection_allowed,
    };
    let mut totals = Totals::default();
    for (_, operation) in document.operations.iter() {
        walker.walk(
            &operation.node.selection_set.node,
            Position::default(),
            &mut Vec::new(),
            &mut totals,
        )?;
    }
    if totals.nodes > MAX_NODES {
        return Err(refused(
            "MAX_NODE_LIMIT_EXCEEDED",
            format!(
                "The query asks for {} nodes, more than the limit of {MAX_NODES}: ask for \
                 smaller pages (first/last) or fewer connections",
                totals.nodes
            ),
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    nodes: usize,
}

/// Where a selection sits.
#[derive(Clone, Copy, Default)]
struct Position {
    /// Fields above it outside introspection.
    depth: usize,
    /// Inside `__schema` / `__type`: fields above it within, and list fields among them.
    introspection: Option<(usize, usize)>,
    /// Items of the connections around it (product of their pages).
    multiplier: usize,
    /// The page of the connection whose direct child this is (for `edges` / `nodes`).
    page: Option<usize>,
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    introspection_allowed: bool,
}

impl Walker<'_> {
    fn walk(
        &self,
        set: &SelectionSet,
        at: Position,
        spreads: &mut Vec<Name>,
        totals: &mut Totals,
    ) -> Result<(), ServerError> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let mut inner = at;
                    inner.multiplier = at.multiplier.max(1);
                    inner.page = None;
                    match at.introspection {
                        Some((depth, lists)) => {
                            let lists = lists
                                + usize::from(matches!(
                                    name,
                                    "fields" | "inputFields" | "interfaces" | "possibleTypes"
                                ));
                            if lists >= MAX_INTROSPECTION_LIST_DEPTH
                                || depth + 1 > MAX_INTROSPECTION_DEPTH
                            {
                                return Err(refused(
                                    "QUERY_TOO_DEEP",
                                    "Introspection is nested too deep".to_owned(),
                                ));
                            }
                            inner.introspection = Some((depth + 1, lists));
                        }
                        None if name == "__schema" || name == "__type" => {
                            if !self.introspection_allowed {
                                return Err(refused(
                                    "INTROSPECTION_DISABLED",
                                    "Introspection is not allowed for this caller \
                                     (SAVECORP_INTROSPECTION)"
                                        .to_owned(),
                                ));
                            }
                            inner.introspection = Some((1, 0));
                        }
                        None => {
                            inner.depth = at.depth + 1;
                            if inner.depth > MAX_DEPTH {
                                return Err(refused(
                                    "QUERY_TOO_DEEP",
                                    format!(
                                        "Query is nested too deep (at most {MAX_DEPTH} levels)"
                                    ),
                                ));
                            }
                        }
                    }
                    // `edges` / `nodes` of a connection: their items are the page's.
                    if let (Some(page), "edges" | "nodes") = (at.page, name) {
                        inner.multiplier = inner.multiplier.saturating_mul(page);
                    }
                    if at.introspection.is_none() && self.is_connection(&field.selection_set.node) {
                        let page = self.page_size(field);
                        totals.nodes = totals
                            .nodes
                            .saturating_add(inner.multiplier.saturating_mul(page));
                        inner.page = Some(page);
                    }
                    self.walk(&field.selection_set.node, inner, spreads, totals)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, at, spreads, totals)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if spreads.contains(name) || spreads.len() >= MAX_SPREADS {
                        continue;
                    }
                    if let Some(fragment) = self.document.fragments.get(name) {
                        spreads.push(name.clone());
                        let result =
                            self.walk(&fragment.node.selection_set.node, at, spreads, totals);
                        spreads.pop();
                        result?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A selection with `edges` or `nodes` (directly or in fragments) is a connection's.
    fn is_connection(&self, set: &SelectionSet) -> bool {
        self.selects_items(set, &mut Vec::new())
    }

    fn selects_items(&self, set: &SelectionSet, spreads: &mut Vec<Name>) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => matches!(field.node.name.node.as_str(), "edges" | "nodes"),
            Selection::InlineFragment(fragment) => {
                self.selects_items(&fragment.node.selection_set.node, spreads)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if spreads.contains(name) || spreads.len() >= MAX_SPREADS {
                    return false;
                }
                let Some(fragment) = self.document.fragments.get(name) else {
                    return false;
                };
                spreads.push(name.clone());
                let found = self.selects_items(&fragment.node.selection_set.node, spreads);
                spreads.pop();
                found
            }
        })
    }

    /// The page a connection field asks for: `first` or `last` (a literal or a variable),
    /// clamped to what the server answers, else the default page.
    fn page_size(&self, field: &async_graphql::parser::types::Field) -> usize {
        let asked = ["first", "last"].iter().find_map(|wanted| {
            let (_, value) = field
                .arguments
                .iter()
                .find(|(name, _)| name.node.as_str() == *wanted)?;
            let constant = value
                .node
                .clone()
                .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()));
            let number = match constant {
                Ok(Value::Number(number)) => number.as_i64(),
                _ => None,
            }?;
            Some(usize::try_from(number).unwrap_or(0))
        });
        asked.map_or(DEFAULT_PAGE_SIZE, |size| size.clamp(1, MAX_PAGE_SIZE))
    }
}
