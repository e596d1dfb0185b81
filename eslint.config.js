// Type-aware lint: floating promises and non-exhaustive switches are errors.
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'node_modules/**',
      '.demo/**',
      '.cache/**',
      'eslint.config.js',
      '.dependency-cruiser.cjs',
      'scripts/*.mjs',
      'packages/*/bin/**',
      'packages/web/vite.config.ts',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      // Async callbacks without await are common for hooks and pollers; no bug hides there.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `import { z }` is zod's whole namespace as one object: a bundle then holds all of
      // zod (its locales, JSON Schema conversion: 580 KiB in the agent instead of 120).
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind='value'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "Use `import * as z from 'zod'`: bundles keep only the parts in use.",
        },
      ],
    },
  },
  {
    // The web UI: the rules of hooks, and effects that do not loop.
    files: ['packages/web/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    files: ['packages/web/src/**/*.{ts,tsx}'],
    // The React Compiler is not used, so a library it cannot memoize is no concern.
    rules: { 'react-hooks/incompatible-library': 'off' },
  },
);
