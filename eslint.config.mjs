// ESLint 9 flat config: typescript-eslint's recommended rules with type information (so
// no-floating-promises and no-misused-promises can see promises), plus a few house rules.
// Formatting is Prettier's job (.prettierrc.json), so no stylistic rules here.
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Linted: TypeScript (with types), the pages' scripts in public/ and the .mjs files (without).
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'public/vendor/**', 'deploy/**/*.js', 'jest*.config.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A forgotten await loses errors and ordering (Express 5 forwards only returned promises).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    // Routes and pages parse input, call services and render: no SQL, no database handle (issue 14).
    files: ['src/*/*.routes.ts', 'src/*/*.pages.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['kysely', '**/platform/db/*'], message: 'Routes hold no SQL: ask a service (docs/architecture.md §11).' }] },
      ],
    },
  },
  {
    // Tests, benchmarks and the process entry points talk to a terminal (the first admin's
    // password, a fatal start-up error); everything else logs through platform/logger.
    files: ['test/**', 'test-faults/**', 'bench/**', 'src/main.ts', 'src/*-cli.ts', 'src/platform/db/migrate-cli.ts', 'workers/main.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // The pages' scripts: plain browser scripts (no modules, no build step), linted without types.
    files: ['public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    // Node ES modules outside the TypeScript project (this file, deploy's smoke journey).
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'module', globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
  {
    // Child-process fixtures of the tests: plain CommonJS run by node directly.
    files: ['test/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
