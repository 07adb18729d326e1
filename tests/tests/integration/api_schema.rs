//! The API contract: the GraphQL schema as SDL, snapshotted. A change to an operation, type or
//! field shows up in review as a change of `snapshots/*graphql_schema.snap`.

#[test]
fn the_graphql_schema_matches_the_committed_contract() {
    insta::assert_snapshot!("graphql_schema", api::transport::graphql::sdl());
}
