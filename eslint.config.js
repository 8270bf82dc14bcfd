// ESLint 9 flat config: the recommended sets plus the rules that catch real bugs in this code base.
// Typed linting (the type checker behind the rules) is on for the promise rules: a dropped promise
// in a controller loop or an HTTP handler is the bug class tsc itself does not see.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', '.tmp/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)) },
    },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
            // The store conformance suite's test() wrapper, which returns what test() returns.
            { from: 'file', path: 'test/support/store-conformance.ts', name: 'withStore' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      // The sanitisers (poison, sanity) and the ANSI-colour tests match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // In-memory test doubles hand closures that reach back to the double.
      '@typescript-eslint/no-this-alias': 'off',
      // Tests build hostile and partial objects on purpose (72 of the 93 `any`s were there).
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
