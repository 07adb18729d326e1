import type { CodegenConfig } from '@graphql-codegen/cli';

// Operations in src/ are typed from the server's SDL (`savecorp schema > schema.graphql`).
// `documentMode: 'string'` emits typed strings: no GraphQL parser ships to the browser.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    'src/gql/': {
      preset: 'client',
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};
export default config;
