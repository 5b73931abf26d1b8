export type ClientDescription = { browser: string; os: string };

// Order matters: most browsers also claim to be Chrome and Safari, so the specific ones come first.
const BROWSERS: [RegExp, string][] = [
	[/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
	[/\b(?:OPR|Opera)\/(\d+)/, 'Opera'],
	[/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
	[/\bVivaldi\/(\d+)/, 'Vivaldi'],
	[/\b(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
	[/\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\/(\d+)/, 'Chrome'],
	[/\bVersion\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari']
];

const SYSTEMS: [RegExp, string][] = [
	[/\b(?:iPhone|iPod)\b/, 'iOS'],
	[/\biPad\b/, 'iPadOS'],
	[/\bAndroid\b/, 'Android'],
	[/\bCrOS\b/, 'ChromeOS'],
	[/\bWindows\b/, 'Windows'],
	[/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
	[/\bLinux\b/, 'Linux']
];

/** Browser (with major version) and operating system, for the sessions page: names, not details. */
export function describeUserAgent(userAgent: string): ClientDescription {
	let browser = 'Unknown browser';
	for (const [pattern, name] of BROWSERS) {
		const match = pattern.exec(userAgent);
		if (match) {
			browser = `${name} ${match[1]}`;
			break;
		}
	}
	const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? 'Unknown system';
	return { browser, os };
}

/** How a browser is named in a list of a person's devices: "Chrome on Linux", no version. */
export function clientLabel(userAgent: string): string {
	const { browser, os } = describeUserAgent(userAgent);
	return `${browser.replace(/ \d+$/, '')} on ${os}`;
}
