import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	{
		ignores: [
			'.svelte-kit/',
			'**/.wrangler/',
			'.bench-cache/',
			'build/',
			'node_modules/',
			'test-results/',
			'playwright-report/',
			'**/worker-configuration.d.ts'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			'no-undef': 'off',
			// The app is served from the site root (no `paths.base`), so plain hrefs are correct.
			'svelte/no-navigation-without-resolve': 'off',
			'@typescript-eslint/no-explicit-any': 'error',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			],
			'no-restricted-imports': [
				'error',
				{
					paths: [
						{
							name: 'ts-mls',
							message:
								'Import ts-mls by module path (ts-mls/clientState.js, …): its index also loads a crypto provider whose packages are not installed (see shared/e2ee/mls.ts).'
						}
					]
				}
			]
		}
	},
	{
		// Every e2e test closes the browser contexts it opened (tests/e2e/fixtures.ts).
		files: ['tests/e2e/**/*.ts'],
		ignores: ['tests/e2e/fixtures.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					paths: [
						{
							name: '@playwright/test',
							importNames: ['test'],
							message: "Import `test` from './fixtures': it closes the contexts a test opened."
						}
					]
				}
			]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	}
);
