// `npm run admin -- <username>`: makes an account a site admin of the local server, by adding its
// username (or email address) to `SITE_ADMINS` in the app's `.dev.vars`, which `wrangler dev`
// reads over wrangler.toml's empty value. Every other line of the file is kept. A deployment sets
// the variable itself (`wrangler.toml` or the dashboard); this only ever touches the local file.
import { pathToFileURL } from 'node:url';
import { APP_DEV_VARS, readVars, valueOf, writeVars } from './dev-vars.ts';

/** A username as the app allows one, or an email address; the list is comma-separated. */
const NAME = /^(?:[A-Za-z0-9_.]{3,32}|[^\s,@]+@[^\s,@]+)$/;

/** Adds `name` to the file's list; answers false when it was there already. */
export function addSiteAdmin(file: string, name: string): boolean {
	const lines = readVars(file);
	const current = (valueOf(lines, 'SITE_ADMINS') ?? '')
		.split(',')
		.map((n) => n.trim())
		.filter(Boolean);
	if (current.some((n) => n.toLowerCase() === name.toLowerCase())) return false;
	writeVars(file, lines, { SITE_ADMINS: [...current, name].join(',') });
	return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	const name = (process.argv[2] ?? '').trim().replace(/^@/, '');
	if (!NAME.test(name)) {
		console.error('Usage: npm run admin -- <username or email address>');
		process.exit(1);
	}
	if (addSiteAdmin(APP_DEV_VARS, name)) {
		console.log(`admin: ${name} is now a site admin in .dev.vars; restart \`npm run dev\`.`);
	} else {
		console.log(`admin: ${name} is already a site admin in .dev.vars.`);
	}
}
