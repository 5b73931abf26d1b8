import { redirect } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/**
 * Browsers ask for /favicon.ico wherever a page names no icon (a JSON answer, a file, some tab
 * previews). The app's icon is an SVG: they are sent there instead of getting a 404.
 */
export const GET: RequestHandler = () => redirect(308, '/favicon.svg');
