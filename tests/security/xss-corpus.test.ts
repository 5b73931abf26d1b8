// Mallory's message bodies: the classic XSS payloads, run through the message renderer. Whatever
// goes in, what comes out may contain only the renderer's own tags and attributes, and no link that
// runs script or carries a document of its own.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '$shared/markdown';

const CORPUS = [
	// Raw HTML, which must stay text.
	'<script>alert(1)</script>',
	'<img src=x onerror=alert(1)>',
	'<svg onload=alert(1)>',
	'<svg/onload=alert(1)>',
	'<svg><script>alert(1)</script></svg>',
	'<iframe src="javascript:alert(1)"></iframe>',
	'<a href="javascript:alert(1)">x</a>',
	'<a href=# onclick=alert(1)>x',
	'<b onclick=alert(1)>x</b>',
	'<div style="background:url(javascript:alert(1))">x</div>',
	'<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
	'<!--<img src=x onerror=alert(1)>-->',
	'<![CDATA[<script>alert(1)</script>]]>',
	'<details open ontoggle=alert(1)>',
	'> <script>alert(1)</script>',
	'~~<script>~~ **<img src=x>** _<svg/onload=alert(1)>_',
	'`<script>alert(1)</script>`',
	'```\n</code></pre><script>alert(1)</script>\n```',
	// Entity-encoded and escaped tricks.
	'&lt;script&gt;alert(1)&lt;/script&gt;',
	'&#60;script&#62;alert(1)&#60;/script&#62;',
	'&#x3C;img src=x onerror=alert(1)&#x3E;',
	'\\<script\\>alert(1)\\</script\\>',
	// Link targets that run script or carry a document.
	'[x](javascript:alert(1))',
	'[x](JaVaScRiPt:alert(1))',
	'[x](javascript&#58;alert(1))',
	'[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))',
	'[x](&#x6A;avascript:alert(1))',
	'[x](jav&#x09;ascript:alert(1))',
	'[x](java%0ascript:alert(1))',
	'[x](<javascript:alert(1)>)',
	'[x]( javascript:alert(1) "t")',
	'[x](\\javascript:alert(1))',
	'[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
	'[x](data:image/svg+xml,<svg onload=alert(1)>)',
	'[x](vbscript:msgbox(1))',
	'[x](file:///etc/passwd)',
	'<javascript:alert(1)>',
	'<JAVASCRIPT:alert(1)>',
	'<data:text/html,<script>alert(1)</script>>',
	'<vbscript:msgbox(1)>',
	'[x]: javascript:alert(1)\n\n[x]',
	'![x](javascript:alert(1))',
	'![x](https://x.test/a.png" onerror="alert(1))',
	// Breaking out of attributes.
	'[x](http://a "\\" onmouseover=\\"alert(1)")',
	'[x](http://a \'x" onmouseover="alert(1)\')',
	'[x](http://a" onmouseover="alert(1))',
	'[x](#" onclick="alert(1))',
	'<http://a.test/" onmouseover="alert(1)>',
	'https://a.test/"onmouseover="alert(1)',
	'www.example.com/<script>alert(1)</script>',
	'mailto:x@y.test?body=<script>alert(1)</script>',
	'```js" onload="alert(1)\ncode\n```',
	'```"><script>alert(1)</script>\nx\n```',
	'```@bob"><img src=x onerror=alert(1)>\nx\n```',
	'[x](http://a "@bob\\" onclick=\\"alert(1)")',
	'[@bob" x="](http://a "@bob")',
	'@bob" onmouseover="alert(1)',
	'<@bob onmouseover=alert(1)>',
	// Nested brackets.
	'[[x](javascript:alert(1))](http://a)',
	'[x](http://a)[y](javascript:alert(1))',
	'[![x](javascript:alert(1))](http://a)',
	'[x]([y](javascript:alert(1)))',
	'[<img src=x onerror=alert(1)>](http://a)',
	// Unicode line and paragraph separators, and other invisible characters.
	'\u2028<script>alert(1)</script>\u2029',
	'[x](http://a\u2028javascript:alert(1))',
	'[x\u2028](javascript:alert(1))',
	'[x](\u200Bjavascript:alert(1))',
	'[x](java\u0000script:alert(1))',
	'<scr\u0000ipt>alert(1)</script>',
	// Emoji become pictures: their tag must never carry anything but the emoji and its file.
	'🎉"><img src=x onerror=alert(1)>',
	'🎉\u0022 onerror=alert(1) 🎉',
	'[🎉](javascript:alert(1)) [x](https://a "🎉\\" onmouseover=alert(1)")',
	'**🎉<script>alert(1)</script>** `🎉` @bob🎉 :tada:" onerror="alert(1)',
	'👩‍👩‍👧&quot;🇫🇷&#34;👋🏽<svg onload=alert(1)>'
];

/** The renderer's whole vocabulary: each tag it writes and the attributes it may carry. */
const ALLOWED: Record<string, readonly string[]> = {
	p: [],
	br: [],
	strong: [],
	em: [],
	del: [],
	code: ['class'],
	pre: [],
	blockquote: [],
	a: ['href', 'title', 'target', 'rel'],
	span: ['class', 'data-username'],
	img: ['class', 'src', 'alt', 'draggable', 'loading']
};

/** An emoji picture's attributes, exactly as the renderer writes them and nothing else. */
const EMOJI_PICTURE: Record<string, RegExp> = {
	class: /^emoji$/,
	src: /^\/emoji\/[0-9a-f]+(-[0-9a-f]+)*\.svg$/,
	alt: /^\p{RGI_Emoji}$/v,
	draggable: /^false$/,
	loading: /^lazy$/
};

/** Link schemes micromark keeps; a target without a scheme is a path on this site. */
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'irc', 'ircs', 'xmpp']);

const TAG = /^<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z-]*="[^"<>]*")*)\s*(\/?)>/;
const ATTRIBUTE = /\s+([a-z][a-z-]*)="([^"]*)"/g;

/** Characters a browser skips in a URL (tabs, newlines, controls) or that show as nothing. */
function isInvisible(char: string): boolean {
	const code = char.codePointAt(0)!;
	return code <= 0x20 || (code >= 0x7f && code <= 0x9f) || [0x200b, 0x2028, 0x2029].includes(code);
}

function decodeEntities(value: string): string {
	return value
		.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
		.replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
		.replaceAll('&quot;', '"')
		.replaceAll('&lt;', '<')
		.replaceAll('&gt;', '>')
		.replaceAll('&amp;', '&');
}

/** Every problem with `html`: a tag or attribute outside the vocabulary, or a dangerous link. */
function problemsIn(html: string): string[] {
	const problems: string[] = [];
	let rest = html;
	while (rest.length > 0) {
		const next = rest.search(/[<>"]/);
		if (next === -1) break;
		rest = rest.slice(next);
		const tag = TAG.exec(rest);
		if (!tag) {
			problems.push(`markup that is not a well-formed tag: ${rest.slice(0, 40)}`);
			rest = rest.slice(1);
			continue;
		}
		const [whole, closing, name = '', attributes = ''] = tag;
		rest = rest.slice(whole.length);
		const allowed = ALLOWED[name];
		if (!allowed) {
			problems.push(`element <${name}>`);
			continue;
		}
		if (closing && attributes) problems.push(`attributes on </${name}>`);
		for (const [, attribute = '', raw = ''] of attributes.matchAll(ATTRIBUTE)) {
			if (!allowed.includes(attribute)) problems.push(`attribute ${attribute} on <${name}>`);
			const value = decodeEntities(raw);
			if (attribute === 'href') {
				// Browsers drop tabs, newlines and leading control characters when they read a URL, so
				// the scheme is read without any of them.
				const href = [...value].filter((c) => !isInvisible(c)).join('');
				const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href)?.[1]?.toLowerCase();
				if (scheme !== undefined && !SAFE_SCHEMES.has(scheme)) problems.push(`href ${value}`);
			}
			if (name === 'img') {
				if (!EMOJI_PICTURE[attribute]?.test(value)) problems.push(`${attribute} ${value} on <img>`);
				continue;
			}
			if (attribute === 'class' && !/^(mention( mention-self)?|language-\S*)$/.test(value)) {
				problems.push(`class ${value} on <${name}>`);
			}
			if (attribute === 'target' && value !== '_blank') problems.push(`target ${value}`);
			if (attribute === 'rel' && value !== 'noopener noreferrer') problems.push(`rel ${value}`);
		}
	}
	return problems;
}

describe("mallory's XSS corpus", () => {
	it('the allowlist check itself flags script, handlers, foreign attributes and javascript: links', () => {
		expect(
			problemsIn('<p>ok <a href="https://a.test" rel="noopener noreferrer">a</a></p>')
		).toEqual([]);
		expect(problemsIn('<script>alert(1)</script>')).toEqual([
			'element <script>',
			'element <script>'
		]);
		expect(problemsIn('<a href="https://a.test" onclick="x">a</a>')).toEqual([
			'attribute onclick on <a>'
		]);
		expect(problemsIn('<a href="jav&#x09;ascript:alert(1)">a</a>')).toEqual([
			'href jav\tascript:alert(1)'
		]);
		expect(problemsIn('<a href=" DATA:text/html,x">a</a>')).toEqual(['href  DATA:text/html,x']);
		expect(problemsIn('<p title="a" onclick=x>')[0]).toMatch(
			/^markup that is not a well-formed tag/
		);
		expect(problemsIn('<span class="mention">@bob</span>"')).toEqual([
			'markup that is not a well-formed tag: "'
		]);
		expect(problemsIn('<code class="language-js other">x</code>')).toEqual([
			'class language-js other on <code>'
		]);
	});

	it.each(CORPUS.map((payload) => [JSON.stringify(payload), payload]))(
		'renders %s with only the renderer’s own tags, attributes and safe links',
		(_, payload) => {
			for (const options of [{}, { self: 'bob' }, { mentionable: ['bob'], self: 'alice' }]) {
				const html = renderMarkdown(payload, options);
				expect(problemsIn(html), html).toEqual([]);
			}
		}
	);
});
