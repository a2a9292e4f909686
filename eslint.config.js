import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.berth/**', 'bench/results/**', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests, benches, examples and scripts use a service through its package (`@berth/<service>`, its
    // src/index.ts), so a service's internals can move without breaking code outside it.
    files: ['test/**/*.{ts,mjs}', 'bench/**/*.{ts,mjs}', 'examples/**/*.{ts,mjs}', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)services/[^/]+/src(/|$)',
              message: "Import the service's package (@berth/<service>) instead; export what is needed from its src/index.ts.",
            },
            {
              regex: '^@berth/[^/]+/src(/|$)',
              message: 'Import the package itself (@berth/<name>), not a file inside it.',
            },
          ],
        },
      ],
    },
  },
);
