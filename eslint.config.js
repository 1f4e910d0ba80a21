import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/dist-test/**',
      'node_modules/**',
      'testdata/**',
      'bench/_*.mjs',
      '.tessera*/**',
      'packages/*/test/gen/**',
      'examples/*/gen/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Layering: a package imports other packages only through their public entry points.
    files: ['packages/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tessera/*/src/*', '@tessera/*/dist/*', '../../*/src/*', '../../../*/src/*'],
              message: 'import the package entry point',
            },
          ],
        },
      ],
    },
  },
);
