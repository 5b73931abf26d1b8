import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '$shared/markdown';

/** The renderer's picture of one emoji. */
function picture(emoji: string, file: string): string {
	return `<img class="emoji" src="/emoji/${file}.svg" alt="${emoji}" draggable="false" loading="lazy">`;
}

describe('renderMarkdown', () => {
	it('renders bold, italic, strike, inline code, code blocks and quotes', () => {
		expect(renderMarkdown('**bold** _it_ ~~gone~~ `a < b`')).toBe(
			'<p><strong>bold</strong> <em>it</em> <del>gone</del> <code>a &lt; b</code></p>'
		);
		expect(renderMarkdown('```js\nlet x = 1 < 2;\n```')).toBe(
			'<pre><code class="language-js">let x = 1 &lt; 2;\n</code></pre>'
		);
		expect(renderMarkdown('> quoted\nstill quoted')).toBe(
			'<blockquote>\n<p>quoted\nstill quoted</p>\n</blockquote>'
		);
	});

	it('shows raw HTML as text instead of running it', () => {
		const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror=alert(1)> <b>b</b>');
		expect(html).not.toContain('<script');
		expect(html).not.toContain('<img');
		expect(html).not.toContain('<b>');
		expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
	});

	it('never links to javascript: or data: URLs, however they are spelled', () => {
		for (const target of [
			'javascript:alert(1)',
			'JaVaScRiPt:alert(1)',
			'&#x6A;avascript:alert(1)',
			'data:text/html,<b>hi</b>',
			'vbscript:msgbox(1)'
		]) {
			const html = renderMarkdown(`[click](${target})`);
			expect(html, target).not.toMatch(/href="(?!https?:)/i);
			expect(html, target).toContain('click');
		}
		expect(renderMarkdown('<javascript:alert(1)>')).not.toContain('href');
	});

	it('detects links and opens them safely in a new tab', () => {
		const html = renderMarkdown(
			'see https://example.com/a?b=1&c=2, www.example.org or [docs](https://docs.example.com)'
		);
		expect(html).toContain(
			'<a target="_blank" rel="noopener noreferrer" href="https://example.com/a?b=1&amp;c=2">'
		);
		expect(html).toContain('href="http://www.example.org"');
		expect(html).toContain('href="https://docs.example.com">docs</a>');
		expect(html.match(/<a /g)).toHaveLength(3);
		expect(html.match(/rel="noopener noreferrer"/g)).toHaveLength(3);
	});

	it('keeps headings, lists, images and indented code as plain text', () => {
		const html = renderMarkdown(
			'# not a heading\n- not a list\n\n    not code\n\n![alt](https://x.test/i.png)'
		);
		expect(html).not.toMatch(/<h1|<ul|<li|<img|<pre/);
		expect(html).toContain('# not a heading');
	});

	it('highlights mentions, and the reader’s own more strongly', () => {
		const html = renderMarkdown('hi @Alice and @bob. mail bob@example.com', { self: 'alice' });
		expect(html).toContain(
			'<span class="mention mention-self" data-username="alice">@Alice</span>'
		);
		expect(html).toContain('<span class="mention" data-username="bob">@bob</span>.');
		expect(html).toContain('href="mailto:bob@example.com"');
		expect(html.match(/class="mention/g)).toHaveLength(2);
	});

	it('highlights usernames with underscores, which markdown must not read as emphasis', () => {
		const html = renderMarkdown('thanks @ann_lee_2 and _you_', { mentionable: ['ann_lee_2'] });
		expect(html).toContain('<span class="mention" data-username="ann_lee_2">@ann_lee_2</span>');
		expect(html).toContain('<em>you</em>');
		expect(renderMarkdown('`@ann_lee`')).toBe('<p><code>@ann_lee</code></p>');
	});

	it('highlights only the mentionable names when a list is given, and never inside code', () => {
		const html = renderMarkdown('@carol @dave `@carol`', { mentionable: ['carol'] });
		expect(html).toContain('<span class="mention" data-username="carol">@carol</span> @dave');
		expect(html).toContain('<code>@carol</code>');
	});

	it('turns known emoji shortcodes into emoji outside code', () => {
		expect(renderMarkdown('nice :tada: :+1: :not_an_emoji: `:smile:`')).toBe(
			`<p>nice ${picture('🎉', '1f389')} ${picture('👍', '1f44d')} :not_an_emoji: <code>:smile:</code></p>`
		);
	});

	it('keeps a mention in a link title as text inside the attribute', () => {
		expect(renderMarkdown('[x](http://a "@bob")')).toBe(
			'<p><a target="_blank" rel="noopener noreferrer" href="http://a" title="@bob">x</a></p>'
		);
		expect(renderMarkdown('[x](http://a "say @bob_lee \\" onmouseover=alert(1)")')).toBe(
			'<p><a target="_blank" rel="noopener noreferrer" href="http://a" title="say @bob_lee &quot; onmouseover=alert(1)">x</a></p>'
		);
	});

	it("keeps a mention in a code fence's language as text inside the class", () => {
		expect(renderMarkdown('```@bob\n@bob\n```')).toBe(
			'<pre><code class="language-@bob">@bob\n</code></pre>'
		);
		expect(renderMarkdown('```js @bob" onclick="x\nx\n```')).toBe(
			'<pre><code class="language-js">x\n</code></pre>'
		);
	});

	it('keeps a mention in a link target or an autolink as part of the address', () => {
		expect(renderMarkdown('[x](https://a.test/@bob)')).toBe(
			'<p><a target="_blank" rel="noopener noreferrer" href="https://a.test/@bob">x</a></p>'
		);
		expect(renderMarkdown('<https://a.test/@bob>')).toBe(
			'<p><a target="_blank" rel="noopener noreferrer" href="https://a.test/@bob">https://a.test/@bob</a></p>'
		);
		expect(renderMarkdown('<@bob>')).toBe(
			'<p>&lt;<span class="mention" data-username="bob">@bob</span>&gt;</p>'
		);
	});

	it('keeps an underscore in a link to a profile, as typed', () => {
		expect(renderMarkdown('[ann](https://social.test/@ann_lee)')).toContain(
			'href="https://social.test/@ann_lee"'
		);
		expect(renderMarkdown('https://social.test/@ann_lee')).toContain(
			'href="https://social.test/@ann_lee">https://social.test/@ann_lee</a>'
		);
	});

	it('keeps mentions out of inline code, and in link text and emphasis', () => {
		expect(renderMarkdown('`@bob` ``a @bob` b``')).toBe(
			'<p><code>@bob</code> <code>a @bob` b</code></p>'
		);
		expect(renderMarkdown('[hi @bob](https://a.test) _@ann_lee_')).toBe(
			'<p><a target="_blank" rel="noopener noreferrer" href="https://a.test">hi <span class="mention" data-username="bob">@bob</span></a> <em><span class="mention" data-username="ann_lee">@ann_lee</span></em></p>'
		);
	});

	it('reads shortcodes with underscores whole', () => {
		expect(renderMarkdown(':heart_eyes: :not_an_emoji:')).toBe(
			`<p>${picture('😍', '1f60d')} :not_an_emoji:</p>`
		);
	});

	it('draws emoji as the shipped pictures in prose, whole sequences at once, never in code', () => {
		const html = renderMarkdown(
			'map 🗺️, flag 🇫🇷, family 👩‍👩‍👧, wave 👋🏽 and **bold 🎉** `code 🎉` [link 🎉](https://a.test "t 🎉")'
		);
		expect(html).toBe(
			`<p>map ${picture('🗺️', '1f5fa')}, flag ${picture('🇫🇷', '1f1eb-1f1f7')}, ` +
				`family ${picture('👩‍👩‍👧', '1f469-200d-1f469-200d-1f467')}, wave ${picture('👋🏽', '1f44b-1f3fd')} and ` +
				`<strong>bold ${picture('🎉', '1f389')}</strong> <code>code 🎉</code> ` +
				`<a target="_blank" rel="noopener noreferrer" href="https://a.test" title="t 🎉">link ${picture('🎉', '1f389')}</a></p>`
		);
		// Characters that are emoji only with a selector, digits and symbols stay text.
		expect(renderMarkdown('1 # * © ☀ ♥')).toBe('<p>1 # * © ☀ ♥</p>');
	});
});
