//! Analysts' documentation (issue 15 §7): after the migrations, every table and column an
//! analyst can query carries a `COMMENT`, and README's "For analysts" section names every table.

use tests::TestApp;

/// `table` or `table.column` for each table (or view) and column of the public schema, sqlx's
/// own `_sqlx_migrations` aside, that has no comment.
async fn uncommented(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_description d \
             ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0 \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') \
           AND c.relname <> '_sqlx_migrations' AND coalesce(d.description, '') = '' \
         UNION ALL \
         SELECT c.relname || '.' || a.attname FROM pg_class c \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
           LEFT JOIN pg_description d \
             ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass \
            AND d.objsubid = a.attnum \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') \
           AND c.relname <> '_sqlx_migrations' AND coalesce(d.description, '') = '' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("catalog query")
}

async fn public_tables(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') \
           AND c.relname <> '_sqlx_migrations' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("catalog query")
}

#[tokio::test]
async fn every_table_and_column_of_the_public_schema_has_a_comment() {
    let app = TestApp::spawn().await;

    let tables = public_tables(&app.pool).await;
    assert!(
        tables.iter().any(|table| table == "events") && tables.len() > 10,
        "the catalog query sees the migrated tables: {tables:?}"
    );
    let missing = uncommented(&app.pool).await;
    assert!(
        missing.is_empty(),
        "{} tables or columns have no COMMENT (add one in the migration that creates them, \
         for analysts: units, allowed values, NULL meaning, joins):\n  {}",
        missing.len(),
        missing.join("\n  ")
    );

    app.stop().await;
}

/// README's "## For analysts" section, up to the next `## ` heading.
fn analysts_section(readme: &str) -> &str {
    let start = readme
        .find("\n## For analysts")
        .expect("README.md has a \"## For analysts\" section");
    let rest = &readme[start + 1..];
    match rest[3..].find("\n## ") {
        Some(end) => &rest[..end + 3],
        None => rest,
    }
}

#[tokio::test]
async fn readme_lists_every_table_of_the_public_schema() {
    let app = TestApp::spawn().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let section = analysts_section(&readme);

    let tables = public_tables(&app.pool).await;
    assert!(
        tables.iter().any(|table| table == "events"),
        "the catalog query sees the migrated tables: {tables:?}"
    );
    let missing: Vec<&String> = tables
        .iter()
        .filter(|table| !section.contains(&format!("`{table}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md (\"For analysts\") does not name these tables in backticks: {missing:?}"
    );

    app.stop().await;
}
